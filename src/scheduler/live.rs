//! The running schedule: one task per enabled source, the configuration they were started
//! from, and its replacement when the sources file changes.
//!
//! A reload compares each source with the running one. A new or edited source runs at once
//! and then on its schedule, and an unchanged one keeps its schedule. A removed or disabled
//! one stops, and its events are withdrawn. An invalid file changes nothing: its problems are
//! logged and shown in the status, and the previous configuration keeps running.
//!
//! Runs of one source never overlap: scheduled runs wait for a manual refresh in progress,
//! and a refresh is refused while a run is in progress.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{OwnedMutexGuard, watch};
use tokio::task::JoinHandle;

use super::Aggregator;
use crate::config::{Config, ConfigError, Source};
use crate::metrics::ReloadLabels;

/// The running schedule and its configuration. Shared behind an `Arc` by `main`, the HTTP
/// layer (status and refresh) and the tests.
pub struct Live {
    aggregator: Arc<Aggregator>,
    /// The sources file, when the configuration came from one; reloads read it again.
    path: Option<PathBuf>,
    state: Mutex<State>,
    /// One lock per source id, held for the length of each run.
    run_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Tasks to wait for at shutdown: source loops and manual refreshes.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

struct State {
    config: Arc<Config>,
    loaded_at: DateTime<Utc>,
    /// Hash of the text the running configuration was read from.
    text_hash: Option<u64>,
    /// Modification time and length of the file when last checked.
    file_stamp: Option<(SystemTime, u64)>,
    last_reload: Option<ReloadReport>,
    /// `Some` once [`Live::run`] has started the source tasks.
    running: Option<watch::Receiver<bool>>,
    slots: HashMap<String, Slot>,
}

/// The task of one scheduled source.
struct Slot {
    /// The source's settings as text, to tell an edited source from an unchanged one.
    fingerprint: String,
    stop: watch::Sender<bool>,
    next_run: Arc<Mutex<Option<DateTime<Utc>>>>,
}

/// The outcome of the last reload attempt, for the status page.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadReport {
    pub at: DateTime<Utc>,
    /// `applied`, `unchanged` or `invalid`.
    pub result: &'static str,
    /// Every problem of an invalid file, each with its line and fix.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

/// One configured source with its schedule state.
#[derive(Debug, Clone)]
pub struct SourceView {
    pub source: Source,
    /// When the next scheduled run starts; `None` while a run is in progress, for a disabled
    /// source, or before the schedule starts.
    pub next_run: Option<DateTime<Utc>>,
    pub running: bool,
}

/// The running configuration and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigView {
    pub path: Option<String>,
    pub loaded_at: DateTime<Utc>,
    pub last_reload: Option<ReloadReport>,
}

/// The reason a manual refresh was not started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    #[error("no source {0:?} in the configuration")]
    UnknownSource(String),
    #[error("source {0:?} is disabled: set enabled = true in the sources file first")]
    Disabled(String),
    #[error("source {0:?} is already being fetched")]
    AlreadyRunning(String),
}

impl Live {
    /// Wraps a loaded configuration; `path` is the file to watch and reload, if any. No
    /// source runs until [`Live::run`].
    pub fn new(aggregator: Arc<Aggregator>, config: Config, path: Option<PathBuf>) -> Arc<Live> {
        let text_hash = path
            .as_deref()
            .and_then(|p| std::fs::read(p).ok())
            .map(|bytes| hash_bytes(&bytes));
        let file_stamp = path.as_deref().and_then(file_stamp);
        Arc::new(Live {
            aggregator,
            path,
            state: Mutex::new(State {
                config: Arc::new(config),
                loaded_at: Utc::now(),
                text_hash,
                file_stamp,
                last_reload: None,
                running: None,
                slots: HashMap::new(),
            }),
            run_locks: Mutex::default(),
            tasks: Mutex::default(),
        })
    }

    /// Returns the configuration in force.
    pub fn config(&self) -> Arc<Config> {
        self.lock().config.clone()
    }

    /// Returns where the configuration came from and how the last reload went.
    pub fn config_view(&self) -> ConfigView {
        let state = self.lock();
        ConfigView {
            path: self.path.as_ref().map(|p| p.display().to_string()),
            loaded_at: state.loaded_at,
            last_reload: state.last_reload.clone(),
        }
    }

    /// Lists every configured source, enabled or not, in file order.
    pub fn sources(&self) -> Vec<SourceView> {
        let state = self.lock();
        state
            .config
            .sources
            .iter()
            .map(|source| SourceView {
                next_run: state
                    .slots
                    .get(&source.id)
                    .and_then(|slot| *slot.next_run.lock().unwrap_or_else(PoisonError::into_inner)),
                running: self.is_running(&source.id),
                source: source.clone(),
            })
            .collect()
    }

    /// Starts every enabled source now and then on its schedule, and checks the sources file
    /// for changes every `poll` (never when `None`) until `shutdown` turns true. Returns once
    /// every run in progress has finished.
    pub async fn run(self: Arc<Self>, poll: Option<Duration>, mut shutdown: watch::Receiver<bool>) {
        let config = {
            let mut state = self.lock();
            state.running = Some(shutdown.clone());
            state.config.clone()
        };
        // Sources that were not enabled at start-up were withdrawn when the app opened.
        self.start_sources(&config);

        match poll {
            None => stopped(&mut shutdown).await,
            Some(poll) => {
                let mut ticker = tokio::time::interval(poll);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = ticker.tick() => {
                            if self.file_changed() {
                                self.reload().await;
                            }
                        }
                        () = stopped(&mut shutdown) => break,
                    }
                }
            }
        }

        self.stop_all();
        let tasks: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "source task panicked");
            }
        }
    }

    /// Reads the sources file again and applies it when it is valid and differs from the
    /// running one. `main` calls it on SIGHUP; [`Live::run`] when the file changes.
    ///
    /// # Returns
    ///
    /// The report also shown by the status endpoint.
    pub async fn reload(self: &Arc<Self>) -> ReloadReport {
        let Some(path) = self.path.clone() else {
            return self.record(ReloadReport::new("unchanged"));
        };
        self.lock().file_stamp = file_stamp(&path);
        let report = match read_config(&path) {
            Err(error) => {
                let problems = match &error {
                    ConfigError::Invalid { problems, .. } => {
                        problems.iter().map(ToString::to_string).collect()
                    }
                    ConfigError::Read { .. } => vec![error.to_string()],
                };
                for problem in &problems {
                    tracing::error!(path = %path.display(), %problem, "invalid sources file; the previous configuration keeps running");
                }
                ReloadReport {
                    problems,
                    ..ReloadReport::new("invalid")
                }
            }
            Ok((_, hash)) if self.lock().text_hash == Some(hash) => ReloadReport::new("unchanged"),
            Ok((config, hash)) => {
                let report = self.apply(config).await;
                self.lock().text_hash = Some(hash);
                tracing::info!(
                    path = %path.display(),
                    added = ?report.added,
                    changed = ?report.changed,
                    removed = ?report.removed,
                    "sources file reloaded"
                );
                report
            }
        };
        self.record(report)
    }

    /// Replaces the running configuration with `config`.
    pub async fn apply(self: &Arc<Self>, config: Config) -> ReloadReport {
        for warning in &config.warnings {
            tracing::warn!(%warning, "sources file warning");
        }
        self.aggregator
            .set_horizon_days(config.settings.horizon_days);
        self.aggregator.name_hosts(&config);
        self.aggregator.set_priorities(&config);
        // New merge priorities change which source's fields win: the merged events are
        // rebuilt when the priorities differ from those the clusters were recorded with.
        if let Err(error) = self.aggregator.sync_index(false).await {
            tracing::error!(error = %format!("{error:#}"), "cannot apply the new merge priorities");
        }
        let config = Arc::new(config);
        let (report, retired) = {
            let mut state = self.lock();
            if state.config.settings.gazetteer_csv != config.settings.gazetteer_csv {
                tracing::warn!(
                    "settings.gazetteer_csv changed: restart multifresque to load the new gazetteer"
                );
            }
            let report = diff(&state.config, &config);
            state.config = config.clone();
            state.loaded_at = Utc::now();
            let retired = state.running.is_some().then(|| report.removed.clone());
            (report, retired.unwrap_or_default())
        };
        if self.lock().running.is_some() {
            self.start_sources(&config);
        }
        for id in retired {
            self.retire(&id).await;
        }
        report
    }

    /// Starts a run of one source now, in the background.
    ///
    /// # Errors
    ///
    /// [`RefreshError`] when the source is unknown, disabled or already running.
    pub fn refresh(self: &Arc<Self>, id: &str) -> Result<(), RefreshError> {
        let source = self
            .config()
            .source(id)
            .cloned()
            .ok_or_else(|| RefreshError::UnknownSource(id.to_owned()))?;
        if !source.enabled {
            return Err(RefreshError::Disabled(id.to_owned()));
        }
        let guard = self
            .run_lock(id)
            .try_lock_owned()
            .map_err(|_| RefreshError::AlreadyRunning(id.to_owned()))?;

        tracing::info!(source = %id, "manual refresh requested");
        let aggregator = self.aggregator.clone();
        let task = tokio::spawn(async move {
            let _running: OwnedMutexGuard<()> = guard;
            aggregator.run_source(&source).await;
        });
        self.keep(task);
        Ok(())
    }

    /// Starts a task for every enabled source that has none or whose settings changed, and
    /// stops the tasks of sources that are gone, disabled or changed.
    fn start_sources(self: &Arc<Self>, config: &Config) {
        let mut state = self.lock();
        let Some(shutdown) = state.running.clone() else {
            return;
        };
        let wanted: HashMap<&str, &Source> = config
            .enabled_sources()
            .map(|source| (source.id.as_str(), source))
            .collect();
        state.slots.retain(|id, slot| {
            let keep = wanted
                .get(id.as_str())
                .is_some_and(|source| fingerprint(source) == slot.fingerprint);
            if !keep {
                let _ = slot.stop.send(true);
            }
            keep
        });

        for source in config.enabled_sources() {
            if state.slots.contains_key(&source.id) {
                continue;
            }
            let (stop, stopped) = watch::channel(false);
            let next_run = Arc::new(Mutex::new(None));
            let task = tokio::spawn(self.clone().source_loop(
                source.clone(),
                stopped,
                shutdown.clone(),
                next_run.clone(),
            ));
            self.keep(task);
            state.slots.insert(
                source.id.clone(),
                Slot {
                    fingerprint: fingerprint(source),
                    stop,
                    next_run,
                },
            );
        }
    }

    /// Runs one source now, then at each time its schedule gives, until stopped.
    async fn source_loop(
        self: Arc<Self>,
        source: Source,
        mut stop: watch::Receiver<bool>,
        mut shutdown: watch::Receiver<bool>,
        next_run: Arc<Mutex<Option<DateTime<Utc>>>>,
    ) {
        loop {
            {
                let lock = self.run_lock(&source.id);
                let _running = tokio::select! {
                    guard = lock.lock_owned() => guard,
                    () = stopped(&mut stop) => return,
                    () = stopped(&mut shutdown) => return,
                };
                // At shutdown the download is abandoned; a store write in progress finishes.
                self.aggregator
                    .run_source_until(&source, shutdown.clone())
                    .await;
            }

            let Some(next) = source.schedule.upcoming(Utc).next() else {
                tracing::warn!(source = %source.id, "schedule has no next run");
                return;
            };
            *next_run.lock().unwrap_or_else(PoisonError::into_inner) = Some(next);
            tracing::debug!(source = %source.id, %next, "next run");
            let wait = (next - Utc::now()).to_std().unwrap_or_default();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stopped(&mut stop) => return,
                () = stopped(&mut shutdown) => return,
            }
            *next_run.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }

    async fn retire(&self, id: &str) {
        let lock = self.run_lock(id);
        let _running = lock.lock().await;
        match self.aggregator.retire(id).await {
            Ok(withdrawn) => {
                tracing::info!(source = %id, withdrawn, "source no longer enabled; its events are withdrawn")
            }
            Err(error) => {
                tracing::error!(source = %id, error = %format!("{error:#}"), "cannot withdraw the events of a removed source")
            }
        }
    }

    fn stop_all(&self) {
        let mut state = self.lock();
        for (_, slot) in state.slots.drain() {
            let _ = slot.stop.send(true);
        }
    }

    /// Checks whether the sources file's modification time or length changed since the last
    /// check.
    fn file_changed(&self) -> bool {
        let Some(path) = &self.path else {
            return false;
        };
        let stamp = file_stamp(path);
        let mut state = self.lock();
        if stamp == state.file_stamp {
            return false;
        }
        state.file_stamp = stamp;
        true
    }

    fn record(&self, report: ReloadReport) -> ReloadReport {
        self.aggregator
            .metrics
            .config_reloads
            .get_or_create(&ReloadLabels {
                result: report.result.to_owned(),
            })
            .inc();
        self.lock().last_reload = Some(report.clone());
        report
    }

    fn is_running(&self, id: &str) -> bool {
        self.run_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .is_some_and(|lock| lock.try_lock().is_err())
    }

    fn run_lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.run_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id.to_owned())
            .or_default()
            .clone()
    }

    fn keep(&self, task: JoinHandle<()>) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        tasks.retain(|task| !task.is_finished());
        tasks.push(task);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update of the state is a plain assignment, so a panic cannot leave it half
        // written and a poisoned lock is safe to reuse.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ReloadReport {
    fn new(result: &'static str) -> ReloadReport {
        ReloadReport {
            at: Utc::now(),
            result,
            problems: Vec::new(),
            added: Vec::new(),
            changed: Vec::new(),
            removed: Vec::new(),
        }
    }
}

/// Compares the enabled sources of `new` with those of `old`.
fn diff(old: &Config, new: &Config) -> ReloadReport {
    let before: HashMap<&str, &Source> =
        old.enabled_sources().map(|s| (s.id.as_str(), s)).collect();
    let after: HashMap<&str, &Source> = new.enabled_sources().map(|s| (s.id.as_str(), s)).collect();
    let mut report = ReloadReport::new("applied");
    for source in new.enabled_sources() {
        match before.get(source.id.as_str()) {
            None => report.added.push(source.id.clone()),
            Some(previous) if fingerprint(previous) != fingerprint(source) => {
                report.changed.push(source.id.clone())
            }
            Some(_) => {}
        }
    }
    for source in old.enabled_sources() {
        if !after.contains_key(source.id.as_str()) {
            report.removed.push(source.id.clone());
        }
    }
    report
}

/// Writes every setting of a source as text, so equal fingerprints mean the running task can
/// stay.
fn fingerprint(source: &Source) -> String {
    format!("{source:?}")
}

/// Completes when `signal` turns true, or when its sender is gone.
async fn stopped(signal: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, so callers can hold this future across
    // awaits in a task that moves between threads.
    let _ = signal.wait_for(|stop| *stop).await;
}

fn read_config(path: &Path) -> Result<(Config, u64), ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let config = Config::load(path)?;
    Ok((config, hash_bytes(&bytes)))
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

fn file_stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new(".")).unwrap()
    }

    const TWO: &str = "[[source]]\nid = \"a\"\nkind = \"ics\"\nurl = \"a.ics\"\n\n[[source]]\nid = \"b\"\nkind = \"ics\"\nurl = \"b.ics\"\n";

    #[test]
    fn diff_names_added_changed_and_removed() {
        let old = config(TWO);
        let new = config(
            "[[source]]\nid = \"a\"\nkind = \"ics\"\nurl = \"a2.ics\"\n\n[[source]]\nid = \"c\"\nkind = \"ics\"\nurl = \"c.ics\"\n",
        );

        let report = diff(&old, &new);

        assert_eq!(report.added, vec!["c"]);
        assert_eq!(report.changed, vec!["a"]);
        assert_eq!(report.removed, vec!["b"]);
    }

    #[test]
    fn disabling_counts_as_removal() {
        let old = config(TWO);
        let new = config(&TWO.replace("url = \"b.ics\"", "url = \"b.ics\"\nenabled = false"));

        let report = diff(&old, &new);

        assert_eq!(report.removed, vec!["b"]);
        assert!(report.added.is_empty());
    }
}
