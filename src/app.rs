//! Start-up wiring shared by the binary and the integration tests: open the data directory
//! (store and index), load the lookup tables, and build the aggregator and the HTTP state.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::fetch::{FetchSettings, Fetcher};
use crate::geocode::Geocoder;
use crate::http::AppState;
use crate::index::{Index, OpenState};
use crate::places::Gazetteer;
use crate::scheduler::Aggregator;
use crate::store::Store;

/// Name of the SQLite file inside the data directory.
pub const STORE_FILE: &str = "multifresque.sqlite3";
/// Name of the tantivy directory inside the data directory.
pub const INDEX_DIR: &str = "tantivy";

/// A running multifresque: its configuration, pipeline and HTTP state.
pub struct App {
    pub config: Arc<Config>,
    pub aggregator: Arc<Aggregator>,
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
        App::open_with(config, data_dir, fetch).await
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
        aggregator.sync_index(created).await?;

        Ok(App {
            config: Arc::new(config),
            aggregator,
            state: AppState {
                index,
                store,
                catalog,
                gazetteer,
            },
        })
    }
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
