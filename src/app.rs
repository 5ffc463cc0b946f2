//! Start-up wiring shared by the binary and the integration tests: open the data directory
//! (store and index), load the lookup tables, and build the aggregator and the HTTP state.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::fetch::{FetchSettings, Fetcher};
use crate::geocode::Geocoder;
use crate::http::rate_limit::{ClientRateLimiter, RateLimitSettings};
use crate::http::{AppState, Services};
use crate::index::{Index, OpenState};
use crate::places::Gazetteer;
use crate::scheduler::Aggregator;
use crate::scheduler::live::Live;
use crate::store::Store;

/// Name of the SQLite file inside the data directory.
pub const STORE_FILE: &str = "multifresque.sqlite3";
/// Name of the tantivy directory inside the data directory.
pub const INDEX_DIR: &str = "tantivy";

/// A running multifresque: its configuration, pipeline and HTTP state.
pub struct App {
    /// The configuration at start-up; [`Live::config`] gives the one in force.
    pub config: Arc<Config>,
    pub aggregator: Arc<Aggregator>,
    /// The schedule; [`Live::run`] starts it.
    pub live: Arc<Live>,
    pub state: AppState,
}

impl App {
    /// Loads `sources` and opens `data_dir`, rebuilding the index from the store when it is
    /// missing, corrupt, of another schema version or behind the store.
    ///
    /// # Errors
    ///
    /// Returns an error with context when the configuration is invalid or the data directory
    /// cannot be opened.
    pub async fn open(
        sources: &Path,
        data_dir: &Path,
        fetch: FetchSettings,
    ) -> anyhow::Result<App> {
        let config = Config::load(sources)?;
        let mut app = App::open_with(config, data_dir, fetch).await?;
        // The schedule watches the file it came from, so that edits take effect.
        let live = Live::new(
            app.aggregator.clone(),
            (*app.config).clone(),
            Some(sources.to_owned()),
        );
        app.live = live.clone();
        app.state.live = live;
        Ok(app)
    }

    /// Like [`App::open`], with a configuration already loaded.
    ///
    /// # Errors
    ///
    /// Returns an error with context when the data directory cannot be opened.
    pub async fn open_with(
        config: Config,
        data_dir: &Path,
        fetch: FetchSettings,
    ) -> anyhow::Result<App> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
        let catalog = Arc::new(Catalog::embedded());
        let gazetteer = Arc::new(load_gazetteer(config.settings.gazetteer_csv.clone()).await?);

        let store_path = data_dir.join(STORE_FILE);
        let store = Arc::new(
            Store::open(&store_path)
                .with_context(|| format!("cannot open store {}", store_path.display()))?,
        );
        let index_path = data_dir.join(INDEX_DIR);
        let (index, state) = Index::open(&index_path, catalog.clone())
            .with_context(|| format!("cannot open index {}", index_path.display()))?;
        let created = match state {
            OpenState::Ready => false,
            OpenState::Created { reason } => {
                tracing::info!(path = %index_path.display(), %reason, "created index");
                true
            }
        };
        let index = Arc::new(index);

        // Sources removed from the file or disabled no longer count: their events leave search.
        let enabled: Vec<&str> = config
            .enabled_sources()
            .map(|source| source.id.as_str())
            .collect();
        let withdrawn = store.withdraw_other_sources(&enabled, chrono::Utc::now())?;
        if withdrawn > 0 {
            tracing::info!(
                events = withdrawn,
                "withdrew events of removed or disabled sources"
            );
        }

        let fetcher = Fetcher::new(fetch)?;
        let geocoder = match &config.geocoder {
            Some(settings) => Some(Arc::new(
                Geocoder::new(settings.clone(), store.clone())
                    .context("cannot start the geocoder client")?,
            )),
            None => None,
        };
        let aggregator = Arc::new(
            Aggregator::new(
                store.clone(),
                index.clone(),
                catalog.clone(),
                gazetteer.clone(),
                fetcher,
                config.settings.horizon_days,
            )
            .with_geocoder(geocoder),
        );
        aggregator.set_priorities(&config);
        aggregator.name_hosts(&config);
        aggregator.sync_index(created).await?;

        let live = Live::new(aggregator.clone(), config.clone(), None);
        Ok(App {
            config: Arc::new(config),
            state: AppState::new(Services {
                index,
                store,
                catalog,
                gazetteer,
                rate_limit: Arc::new(ClientRateLimiter::new(&RateLimitSettings::default())),
                live: live.clone(),
                metrics: aggregator.metrics.clone(),
                admin_token: admin_token_from_env(),
                data_dir: Arc::new(data_dir.to_owned()),
                responses: Arc::default(),
            }),
            aggregator,
            live,
        })
    }
}

/// The environment variable holding the token that `POST /api/v1/sources/{id}/refresh`
/// requires. Unset or empty disables manual refresh.
pub const ADMIN_TOKEN_ENV: &str = "MULTIFRESQUE_ADMIN_TOKEN";

fn admin_token_from_env() -> Option<Arc<str>> {
    std::env::var(ADMIN_TOKEN_ENV)
        .ok()
        .map(|token| token.trim().to_owned())
        .filter(|token| !token.is_empty())
        .map(Arc::from)
}

async fn load_gazetteer(csv: Option<PathBuf>) -> anyhow::Result<Gazetteer> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<Gazetteer> {
        let embedded = Gazetteer::embedded();
        match csv {
            None => Ok(embedded),
            Some(path) => embedded
                .with_csv(&path)
                .with_context(|| format!("cannot load gazetteer {}", path.display())),
        }
    })
    .await?
}
