//! Browser tests: the search page, the event page and the widget in headless Chromium
//! against the real server, driven by `tests/browser/run.mjs` (Playwright and axe-core).
//!
//! The sessions, including one whose title is an HTML injection, come from a feed that a
//! local HTTP server serves to the real pipeline. Needs Node.js, Debian's `chromium` and
//! `npm ci` in `tests/browser/`; `.ci/run` installs them. Elsewhere the test says what is
//! missing and passes, unless `CI` is set.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Value, json};

use common::{Behaviour, FeedServer, TestService, event, feed, openfresque_source};

/// The title that must show as text everywhere, as the feed encodes it in HTML.
const HOSTILE_TITLE_IN_FEED: &str = "&lt;img src=x onerror=alert(1)&gt;";
const HOSTILE_TITLE: &str = "<img src=x onerror=alert(1)>";

fn browser_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Names the tool missing to run the browser tests, if any.
fn missing_tools() -> Option<String> {
    let chromium = std::env::var("MULTIFRESQUE_CHROMIUM").unwrap_or("/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} (apt-get install chromium)"));
    }
    if !browser_tests_dir()
        .join("node_modules/playwright-core")
        .exists()
    {
        return Some("tests/browser/node_modules (npm ci in tests/browser)".to_owned());
    }
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        return Some("node".to_owned());
    }
    None
}

fn with(mut event: Value, fields: Value) -> Value {
    for (key, value) in fields.as_object().unwrap() {
        event[key] = value.clone();
    }
    event
}

fn sessions() -> Vec<Value> {
    vec![
        with(
            event("xss-1", HOSTILE_TITLE_IN_FEED, 2, "Lyon", 45.7600, 4.8400),
            json!({
                "description": "&lt;script&gt;alert(2)&lt;/script&gt; Un atelier ordinaire.",
                "tickets_url": "https://tickets.example.org/xss-1",
                "seats_left": 7,
            }),
        ),
        with(
            event(
                "croix-rousse",
                "Fresque du Climat – Croix-Rousse",
                3,
                "Lyon",
                45.7741,
                4.8320,
            ),
            json!({
                "tickets_url": "https://tickets.example.org/croix-rousse",
                "seats_left": 5,
                "description": "Trois heures pour comprendre le climat.",
            }),
        ),
        with(
            event(
                "paris-11",
                "Fresque du Climat – Paris 11e",
                4,
                "Paris",
                48.8590,
                2.3800,
            ),
            json!({"tickets_url": "https://tickets.example.org/paris-11"}),
        ),
        with(
            event(
                "villeurbanne",
                "Fresque du Numérique à Villeurbanne",
                5,
                "Villeurbanne",
                45.7719,
                4.8902,
            ),
            json!({"workshop": "FresqueNumerique", "seats_left": 0,
                   "tickets_url": "https://tickets.example.org/villeurbanne"}),
        ),
        with(
            event("online-1", "Fresque du Climat en ligne", 6, "", 0.0, 0.0),
            json!({"attendance": "online", "location": null,
                   "url": "https://example.org/online-1"}),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_widget_in_chromium() {
    if let Some(missing) = missing_tools() {
        assert!(
            std::env::var_os("CI").is_none(),
            "browser tests cannot run in CI: missing {missing}"
        );
        eprintln!("browser tests skipped: missing {missing}");
        return;
    }
    let feeds = FeedServer::start().await;
    feeds.set("feed.json", Behaviour::Serve(feed(sessions(), None)));
    let sources = openfresque_source("browser-test", &feeds.url("feed.json"));
    let service = TestService::start(&sources, Path::new(".")).await;
    let runs = service.fetch_all().await;
    assert_eq!(runs.len(), 1);

    let expectations = json!({
        "lyon": ["Fresque du Climat – Croix-Rousse", "Fresque du Numérique à Villeurbanne"],
        "paris": "Fresque du Climat – Paris 11e",
        "hostile": HOSTILE_TITLE,
        "hostile_id": "browser-test~xss-1",
    });
    // Node's output goes to a file, not a pipe: a browser process that outlives node would
    // hold a pipe open and keep the test waiting.
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("browser-tests.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let base = service.base.clone();
    // The server runs on this runtime's threads while node waits on a blocking one.
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(browser_tests_dir().join("run.mjs"))
            .arg(base)
            .arg(expectations.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .status()
    })
    .await
    .unwrap()
    .expect("node runs");

    let report = std::fs::read_to_string(&log_path).unwrap();
    println!("{report}");
    assert!(status.success(), "browser tests failed:\n{report}");
}
