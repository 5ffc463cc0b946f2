//! The `multifresque` command: parses arguments, sets up logging, and runs one subcommand.

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

use multifresque::Catalog;
use multifresque::app::App;
use multifresque::config::{Config, ConfigError, Location};
use multifresque::fetch::{FetchSettings, Fetcher, Response};
use multifresque::http::rate_limit::{ClientRateLimiter, RateLimitSettings};
use multifresque::http::{self, params};
use multifresque::index::Index;
use multifresque::places::Gazetteer;
use multifresque::scheduler::live::Live;
use multifresque::scheduler::{RunOutcome, SourceRun};
use multifresque::search::SearchResults;
use multifresque::validate::Validator;

/// Maximum wait for open connections after SIGTERM or Ctrl-C. Kubernetes waits 30 s and
/// systemd 90 s before SIGKILL by default. Docker waits 10 s, so its SIGKILL may come
/// first, which loses nothing because each store write is one transaction.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Parser)]
#[command(
    name = "multifresque",
    version,
    about = "Aggregates fresque workshop feeds and serves geographic search over them."
)]
struct Cli {
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "MULTIFRESQUE_LOG_FORMAT")]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve search over HTTP, fetching every enabled source now and then on its schedule.
    Serve(ServeArgs),
    /// Fetch every enabled source once (or only one), store and index the events, and exit.
    Fetch(FetchArgs),
    /// Search the local index from the terminal, with the same filters as the HTTP API.
    Search(Box<SearchArgs>),
    /// Work with the sources file and the sources' data.
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// Work with OpenFresque feeds.
    #[command(subcommand)]
    Feed(FeedCommand),
    /// Benchmark tools.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Generate synthetic sessions as OpenFresque feeds, the incumbent's JSON array and CSV,
    /// with a sources file reading the feeds (see docs/benchmarks.md).
    Generate(GenerateArgs),
}

#[derive(Args)]
struct GenerateArgs {
    /// Number of sessions, 1 to 2,000,000. Each takes about 2 kB of output and, while
    /// generating, about 5 kB of memory.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=2_000_000))]
    events: u64,
    /// Folder to write into; created if missing. Feed folders of an earlier run are replaced.
    #[arg(long, value_name = "DIR", default_value = "bench-data")]
    out: PathBuf,
    /// Seed of the generator: the same seed and size give the same sessions.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Sessions per feed page.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    page_size: u64,
}

#[derive(Subcommand)]
enum SourcesCommand {
    /// Check a sources file and print every problem with its line and fix; exits with 1 when
    /// the file is invalid.
    Check(SourcesCheckArgs),
    /// Print the data quality of each source: completeness, placement, rejections, merges.
    Report(ReportArgs),
}

#[derive(Args)]
struct ReportArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Print JSON (as GET /api/v1/sources/quality) instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct SourcesCheckArgs {
    /// Sources file to check.
    #[arg(
        value_name = "FILE",
        default_value = "sources.toml",
        env = "MULTIFRESQUE_SOURCES"
    )]
    file: PathBuf,
}

#[derive(Subcommand)]
enum FeedCommand {
    /// Check an OpenFresque feed v1 (every page) and print, per event, what is wrong and how
    /// to fix it; exits with 1 when an event or page has errors, 2 when the feed cannot be
    /// read.
    Validate(FeedValidateArgs),
}

#[derive(Args)]
struct FeedValidateArgs {
    /// The feed's first page: an http(s) URL or a local file.
    #[arg(value_name = "URL|FILE")]
    target: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct DataArgs {
    /// Sources file.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "sources.toml",
        env = "MULTIFRESQUE_SOURCES"
    )]
    sources: PathBuf,
    /// Data directory holding the SQLite store and the search index.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "index",
        env = "MULTIFRESQUE_DATA_DIR"
    )]
    data_dir: PathBuf,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    data: DataArgs,
    /// TCP port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8080, env = "MULTIFRESQUE_PORT")]
    port: u16,
    /// Address to listen on; use 0.0.0.0 or :: to accept connections from other machines.
    #[arg(long, default_value = "127.0.0.1", env = "MULTIFRESQUE_BIND")]
    bind: IpAddr,
    /// Requests per second allowed to one client address, sustained; 0 turns limiting off.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10,
        env = "MULTIFRESQUE_RATE_LIMIT"
    )]
    rate_limit: u32,
    /// Requests one client may make at once before --rate-limit applies.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 60,
        env = "MULTIFRESQUE_RATE_LIMIT_BURST"
    )]
    rate_limit_burst: u32,
    /// Header holding the client address, set by your reverse proxy (such as
    /// X-Forwarded-For). Clients can forge it, so set it only behind such a proxy.
    #[arg(long, value_name = "NAME", env = "MULTIFRESQUE_CLIENT_IP_HEADER")]
    client_ip_header: Option<axum::http::HeaderName>,
    /// Seconds between checks of the sources file for changes; 0 reloads it only on SIGHUP.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 2,
        env = "MULTIFRESQUE_WATCH_SECONDS"
    )]
    watch_seconds: u64,
}

#[derive(Args)]
struct FetchArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Fetch only this source (its `id` in the sources file), even if disabled.
    #[arg(long, value_name = "ID")]
    source: Option<String>,
}

#[derive(Args)]
struct SearchArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Words to look for in titles, descriptions, places and family names.
    text: Vec<String>,
    /// Place name or French postal code to search around.
    #[arg(long)]
    near: Option<String>,
    /// Latitude in degrees to search around, with --lon, in place of --near.
    #[arg(long, allow_hyphen_values = true)]
    lat: Option<String>,
    /// Longitude in degrees to search around, with --lat.
    #[arg(long, allow_hyphen_values = true)]
    lon: Option<String>,
    /// Also list online sessions when searching around a place.
    #[arg(long)]
    include_online: bool,
    /// ISO 3166-1 alpha-2 country code of the place, such as FR.
    #[arg(long)]
    country: Option<String>,
    /// Search radius around --near, in kilometres, or "unlimited".
    #[arg(long, value_name = "KM")]
    radius_km: Option<String>,
    /// Workshop family code (repeatable), as listed by GET /api/v1/workshops.
    #[arg(long)]
    workshop: Vec<String>,
    /// in_person, online or mixed.
    #[arg(long)]
    attendance: Option<String>,
    /// general_public, training, kids or companies.
    #[arg(long)]
    audience: Option<String>,
    /// ISO 639-1 language code (repeatable).
    #[arg(long)]
    lang: Vec<String>,
    /// Earliest start, as a date (2027-03-14) or RFC 3339; default now.
    #[arg(long)]
    from: Option<String>,
    /// Latest start (exclusive), as a date or RFC 3339.
    #[arg(long)]
    to: Option<String>,
    /// date, distance or relevance.
    #[arg(long)]
    sort: Option<String>,
    /// Number of results, 1 to 100.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Results to skip, for the next page.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Fetch(args) => fetch(args).await,
            Command::Search(args) => search(*args).await,
            Command::Sources(SourcesCommand::Report(args)) => sources_report(args).await,
            Command::Sources(SourcesCommand::Check(args)) => check_sources(&args),
            Command::Feed(FeedCommand::Validate(args)) => validate_feed(args).await,
            Command::Bench(BenchCommand::Generate(args)) => bench_generate(&args),
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("multifresque=info,tower_http=warn"));
    // A closed standard error (a reader that went away) must not turn each log line into a
    // panic, which tracing-subscriber's report of the failed write would cause.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .log_internal_errors(false)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut app = App::open(
        &args.data.sources,
        &args.data.data_dir,
        FetchSettings::default(),
    )
    .await?;
    app.state.rate_limit = Arc::new(ClientRateLimiter::new(&RateLimitSettings {
        per_second: NonZeroU32::new(args.rate_limit),
        burst: NonZeroU32::new(args.rate_limit_burst).unwrap_or(NonZeroU32::MIN),
        client_ip_header: args.client_ip_header,
    }));
    if app.config.enabled_sources().next().is_none() {
        tracing::warn!(sources = %args.data.sources.display(), "no enabled source: serving stored events only");
    }
    let address = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!(address = %listener.local_addr()?, sources = app.config.enabled_sources().count(), "serving");

    let (stop, stopped) = watch::channel(false);
    let poll = (args.watch_seconds > 0).then(|| Duration::from_secs(args.watch_seconds));
    let scheduler = tokio::spawn(app.live.clone().run(poll, stopped.clone()));
    tokio::spawn(reload_on_hangup(app.live.clone()));
    let mut server_stop = stopped.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });

    let service =
        http::router(app.state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        let _ = server_stop.wait_for(|stop| *stop).await;
    });
    // Requests in flight finish, but a client that keeps its connection open cannot hold
    // the process: past the grace period after the signal, the server stops anyway.
    let mut grace_stop = stopped.clone();
    let grace = async move {
        let _ = grace_stop.wait_for(|stop| *stop).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = server => served?,
        () = grace => tracing::warn!(grace_s = SHUTDOWN_GRACE.as_secs(), "connections still open after the grace period; closing them"),
    }
    // Runs in flight finish their store transaction before the scheduler returns.
    scheduler.await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Reloads the sources file on each SIGHUP, as daemons conventionally do.
async fn reload_on_hangup(live: Arc<Live>) {
    #[cfg(unix)]
    {
        let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGHUP");
                return;
            }
        };
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP received; reloading the sources file");
            live.reload().await;
        }
    }
    #[cfg(not(unix))]
    let _ = live;
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

fn bench_generate(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let spinner = indicatif::ProgressBar::new_spinner()
        .with_message(format!("generating {} sessions", args.events));
    if std::io::stderr().is_terminal() {
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    } else {
        spinner.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let catalog = Catalog::embedded();
    let sessions = multifresque::bench::generate(
        usize::try_from(args.events).unwrap_or(usize::MAX),
        args.seed,
        chrono::Utc::now(),
        &catalog,
        &Gazetteer::embedded(),
    );
    spinner.set_message(format!("writing {}", args.out.display()));
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let page_size = usize::try_from(args.page_size).unwrap_or(usize::MAX);
    let written = multifresque::bench::write(&args.out, &sessions, page_size, &catalog)
        .with_context(|| format!("cannot write into {}", args.out.display()))?;
    spinner.finish_and_clear();

    let megabytes = |bytes: u64| bytes as f64 / 1e6;
    println!(
        "{} sessions in {:.1} s, written to {}:",
        written.sessions,
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    println!(
        "  feed-NN/         OpenFresque feeds of at most {} sessions, {} pages, {:.1} MB",
        multifresque::bench::SESSIONS_PER_SOURCE,
        written.pages,
        megabytes(written.feed_bytes)
    );
    println!(
        "  incumbent.json   the incumbent's array of records, {:.1} MB",
        megabytes(written.incumbent_bytes)
    );
    println!(
        "  events.csv       one row per session, for the peers, {:.1} MB",
        megabytes(written.csv_bytes)
    );
    println!(
        "  sources.toml     reads the feeds: multifresque fetch --sources {}",
        written.sources.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn check_sources(args: &SourcesCheckArgs) -> anyhow::Result<ExitCode> {
    let path = args.file.display();
    let config = match Config::load(&args.file) {
        Ok(config) => config,
        Err(ConfigError::Invalid { problems, .. }) => {
            println!("{path} is invalid: {} problem(s)", problems.len());
            for problem in &problems {
                println!("  {problem}");
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(error @ ConfigError::Read { .. }) => return Err(error.into()),
    };

    let enabled = config.enabled_sources().count();
    println!(
        "{path} is valid: {enabled} source(s) enabled, {} disabled",
        config.sources.len() - enabled
    );
    for warning in &config.warnings {
        println!("  warning: {warning}");
    }
    println!(
        "{:<32} {:<12} {:<9} {:<16} {:<26}",
        "source", "kind", "enabled", "schedule", "next run (UTC)"
    );
    for source in &config.sources {
        let next = source
            .schedule
            .upcoming(chrono::Utc)
            .next()
            .filter(|_| source.enabled)
            .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".to_owned());
        println!(
            "{:<32} {:<12} {:<9} {:<16} {next:<26}",
            source.id,
            source.kind.as_str(),
            if source.enabled { "yes" } else { "no" },
            source.schedule_text,
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn validate_feed(args: FeedValidateArgs) -> anyhow::Result<ExitCode> {
    let first = if args.target.starts_with("https://") || args.target.starts_with("http://") {
        Location::Url(
            url::Url::parse(&args.target)
                .with_context(|| format!("invalid URL {}", args.target))?,
        )
    } else {
        Location::File(PathBuf::from(&args.target))
    };
    let mut location = first.clone();
    let fetcher = Fetcher::new(FetchSettings::default())?;
    // The URL on the command line is the user's choice, like a source's in sources.toml.
    if let Location::Url(url) = &first {
        fetcher.name_url(url);
    }
    let catalog = Catalog::embedded();
    let mut validator = Validator::new(&catalog, chrono::Utc::now());
    let mut visited = std::collections::HashSet::new();

    let unreadable = loop {
        visited.insert(location.to_string());
        let bytes = match fetcher.fetch(&location, &[], None).await {
            Ok(Response::Body { bytes, .. }) => bytes,
            Ok(Response::NotModified) => {
                break Some(format!(
                    "{location}: the server answered 304 to an unconditional request"
                ));
            }
            Err(error) => break Some(format!("cannot read {location}: {error}")),
        };
        let next = match validator.check_page(&location.to_string(), &bytes) {
            Ok(next) => next,
            Err(error) => break Some(error.to_string()),
        };
        let Some(next) = next else {
            break None;
        };
        if visited.len() >= multifresque::scheduler::MAX_PAGES {
            break Some(format!(
                "the feed has more than {} pages",
                multifresque::scheduler::MAX_PAGES
            ));
        }
        location = match multifresque::fetch::resolve_next(&first, &location, &next) {
            Ok(next) => next,
            Err(error) => break Some(error),
        };
        if visited.contains(&location.to_string()) {
            break Some(format!(
                "`next` of a page leads back to {location}, already read: end the chain with \"next\": null"
            ));
        }
    };

    let report = validator.report;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "feed": args.target,
                "unreadable": unreadable,
                "summary": report.summary(),
                "pages": report.pages,
                "events": report.events,
            }))?
        );
    } else {
        print!("{}", multifresque::validate::render_text(&report));
        if let Some(problem) = &unreadable {
            println!("error: {problem}");
        }
    }
    Ok(if unreadable.is_some() {
        ExitCode::from(2)
    } else if report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn fetch(args: FetchArgs) -> anyhow::Result<ExitCode> {
    let config = multifresque::config::Config::load(&args.data.sources)?;
    let only = match &args.source {
        None => None,
        Some(id) => match config.source(id) {
            Some(source) => Some(source.clone()),
            None => {
                let known: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
                anyhow::bail!(
                    "no source {id:?} in {}; known sources: {}",
                    args.data.sources.display(),
                    known.join(", ")
                );
            }
        },
    };
    let app = App::open_with(config, &args.data.data_dir, FetchSettings::default()).await?;

    if let Some(source) = only {
        let run = app.aggregator.run_source(&source).await;
        print_runs(std::slice::from_ref(&run));
        print_rejections(&app)?;
        if !source.enabled {
            eprintln!(
                "note: source {:?} is disabled, so `serve` and the next `fetch` withdraw its events again",
                source.id
            );
        }
        return Ok(exit_code(&[run]));
    }

    let count = app.config.enabled_sources().count() as u64;
    if count == 0 {
        eprintln!(
            "note: {} enables no source; nothing to fetch",
            args.data.sources.display()
        );
    }
    let progress = indicatif::ProgressBar::new(count).with_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} sources {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    if !std::io::stderr().is_terminal() {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let runs = app
        .aggregator
        .run_all(&app.config, |run| {
            progress.set_message(run.source.clone());
            progress.inc(1);
        })
        .await;
    progress.finish_and_clear();

    print_runs(&runs);
    print_rejections(&app)?;
    Ok(exit_code(&runs))
}

/// Success when no source failed.
fn exit_code(runs: &[SourceRun]) -> ExitCode {
    if runs
        .iter()
        .any(|run| matches!(run.outcome, RunOutcome::Failed { .. }))
    {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Rejections printed per source after the table; the store keeps more.
const REJECTIONS_SHOWN: usize = 5;

/// Lists why entries of each source's last parsed feed were rejected.
fn print_rejections(app: &App) -> anyhow::Result<()> {
    let statuses = app.state.store.source_statuses()?;
    let with_rejections: Vec<_> = statuses
        .iter()
        .filter(|status| status.events_rejected > 0)
        .collect();
    if with_rejections.is_empty() {
        return Ok(());
    }
    println!();
    println!("rejected entries:");
    for status in with_rejections {
        for rejection in status.rejections.iter().take(REJECTIONS_SHOWN) {
            let id = rejection.event_id.as_deref().unwrap_or("(no id)");
            println!(
                "  {}  {id}  {}: {}",
                status.id, rejection.reason, rejection.detail
            );
        }
        let hidden = status
            .events_rejected
            .saturating_sub(REJECTIONS_SHOWN as u64);
        if hidden > 0 {
            println!("  {}  ... and {hidden} more", status.id);
        }
    }
    Ok(())
}

fn print_runs(runs: &[SourceRun]) {
    println!(
        "{:<32} {:<9} {:>6} {:>9} {:>6} {:>8} {:>10} {:>8}",
        "source", "result", "kept", "rejected", "added", "updated", "withdrawn", "time"
    );
    for run in runs {
        let time = format!("{} ms", run.duration_ms);
        match &run.outcome {
            RunOutcome::Stored {
                applied,
                kept,
                rejected,
            } => println!(
                "{:<32} {:<9} {kept:>6} {rejected:>9} {:>6} {:>8} {:>10} {time:>8}",
                run.source, "stored", applied.added, applied.updated, applied.withdrawn
            ),
            RunOutcome::Unchanged => println!(
                "{:<32} {:<9} {:>6} {:>9} {:>6} {:>8} {:>10} {time:>8}",
                run.source, "unchanged", "-", "-", "-", "-", "-"
            ),
            RunOutcome::Failed { error } => println!("{:<32} {:<9} {error}", run.source, "FAILED"),
        }
    }
}

async fn search(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let query_string = search_query_string(&args);
    let config = multifresque::config::Config::load(&args.data.sources)?;
    let gazetteer = match &config.settings.gazetteer_csv {
        None => Gazetteer::embedded(),
        Some(path) => Gazetteer::embedded()
            .with_csv(path)
            .with_context(|| format!("cannot load gazetteer {}", path.display()))?,
    };
    let search = params::parse_event_search(&query_string, &gazetteer, chrono::Utc::now())
        .map_err(|error| {
            let accepted = if error.accepted.is_empty() {
                String::new()
            } else {
                format!(" (accepted: {})", error.accepted.join(", "))
            };
            anyhow::anyhow!("{}{accepted}", error.message)
        })?;

    // Read-only, so a quick look works while `serve` holds the index writer.
    let index_dir = args.data.data_dir.join(multifresque::app::INDEX_DIR);
    let index = Index::open_read_only(&index_dir, Arc::new(Catalog::embedded()))?;
    let results = tokio::task::spawn_blocking(move || index.search(&search.query)).await??;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        if let Some(place) = &search.place {
            println!(
                "near {} ({}), {:.4}, {:.4}",
                place.name, place.country, place.latitude, place.longitude
            );
        }
        print_results(&results);
    }
    Ok(ExitCode::SUCCESS)
}

async fn sources_report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let path = args.data.data_dir.join(multifresque::app::STORE_FILE);
    if !path.exists() {
        anyhow::bail!(
            "no store at {}: run `multifresque fetch` or `multifresque serve` first",
            path.display()
        );
    }
    let report = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let store = multifresque::store::Store::open(&path)
            .with_context(|| format!("cannot open store {}", path.display()))?;
        Ok(multifresque::quality::report(&store)?)
    })
    .await??;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "sources": report }))?
        );
    } else {
        print!("{}", multifresque::quality::render_table(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// The CLI's filters as an API query string, so both are validated by the same code.
fn search_query_string(args: &SearchArgs) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    let text = args.text.join(" ");
    if !text.is_empty() {
        query.append_pair("q", &text);
    }
    let optional = [
        ("near", &args.near),
        ("lat", &args.lat),
        ("lon", &args.lon),
        ("country", &args.country),
        ("radius_km", &args.radius_km),
        ("attendance", &args.attendance),
        ("audience", &args.audience),
        ("from", &args.from),
        ("to", &args.to),
        ("sort", &args.sort),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    for code in &args.workshop {
        query.append_pair("workshop", code);
    }
    for code in &args.lang {
        query.append_pair("lang", code);
    }
    if args.include_online {
        query.append_pair("include_online", "true");
    }
    query.append_pair("limit", &args.limit.to_string());
    query.append_pair("offset", &args.offset.to_string());
    query.finish()
}

fn print_results(results: &SearchResults) {
    println!("{} event(s)", results.total);
    for hit in &results.events {
        let event = &hit.event;
        let place = event
            .location
            .city
            .as_deref()
            .unwrap_or(match event.attendance {
                multifresque::event::Attendance::Online => "online",
                _ => "-",
            });
        let distance = hit
            .distance_km
            .map(|km| format!("{km:.1} km"))
            .unwrap_or_default();
        println!(
            "{}  {:<24} {:<22} {:>9}  {}",
            event.start.format("%Y-%m-%d %H:%M"),
            truncate(&event.workshop, 24),
            truncate(place, 22),
            distance,
            event.title
        );
    }
}

fn truncate(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}
