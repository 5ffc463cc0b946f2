//! The operator and publisher commands of the binary: `sources check`, `feed validate`, and
//! `serve` reloading its sources file on SIGHUP.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Behaviour, FeedServer, event, feed};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_multifresque"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command.env_remove("RUST_LOG");
    command.env_remove("MULTIFRESQUE_SOURCES");
    command
}

fn run(args: &[&str]) -> (i32, String) {
    let output = binary().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (
        output.status.code().unwrap_or(-1),
        format!("{stdout}{stderr}"),
    )
}

#[test]
fn sources_check_accepts_bundled_file() {
    let (code, output) = run(&["sources", "check"]);

    assert_eq!(code, 0, "{output}");
    assert!(
        output.starts_with("sources.toml is valid: 4 source(s) enabled, 5 disabled"),
        "{output}"
    );
    assert!(
        output
            .lines()
            .any(|l| l.starts_with("fresque-du-climat") && l.contains("*/30 * * * *"))
    );
}

#[test]
fn sources_check_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        "[[source]]\nid = \"a\"\nkind = \"rss\"\nurl = \"https://example.org/a\"\nschedule = \"0 0 30 2 *\"\ntime_zone = \"Mars/Olympus\"\nheaders = { Authorization = \"Bearer abc\" }\n\n[[source]]\nid = \"a\"\nkind = \"ics\"\n",
    )
    .unwrap();

    let (code, output) = run(&["sources", "check", path.to_str().unwrap()]);

    assert_eq!(code, 1, "{output}");
    for expected in [
        "line 1: source \"a\": unknown kind \"rss\": use one of openfresque, ics, tuf, jsonld",
        "line 1: source \"a\": cron schedule \"0 0 30 2 *\" never runs",
        "line 1: source \"a\": unknown time zone \"Mars/Olympus\"",
        "line 1: source \"a\": header \"Authorization\" is written in clear",
        "line 9: duplicate source id \"a\"",
        "line 9: source is missing `url`",
    ] {
        assert!(
            output.contains(expected),
            "missing {expected:?} in\n{output}"
        );
    }
}

#[test]
fn feed_validate_reports_each_bad_event() {
    let (code, output) = run(&[
        "feed",
        "validate",
        "examples/feeds/collectif-fresques-lyon.json",
    ]);

    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("page 1, event 8 \"cfl-2027-108\""),
        "{output}"
    );
    assert!(
        output.contains("error   start: \"demain\" is not an RFC 3339 date-time"),
        "{output}"
    );
    assert!(output.contains("error   title: missing"), "{output}");
    assert!(output.lines().any(|l| l.trim_start().starts_with("fix: ")));
    assert!(
        output.contains("1 page(s), 15 event(s): 13 valid"),
        "{output}"
    );
}

#[test]
fn feed_validate_follows_pages_over_http() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(FeedServer::start());
    server.set(
        "p1.json",
        Behaviour::Serve(feed(
            vec![with_family(event("a", "Fresque A", 5, "Lyon", 45.76, 4.83))],
            Some("p2.json"),
        )),
    );
    server.set(
        "p2.json",
        Behaviour::Serve(feed(
            vec![with_family(event(
                "a",
                "Fresque A bis",
                6,
                "Lyon",
                45.76,
                4.83,
            ))],
            None,
        )),
    );

    let (code, output) = run(&["feed", "validate", "--json", &server.url("p1.json")]);

    assert_eq!(code, 1, "{output}");
    let report: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(report["summary"]["pages"], 2);
    assert_eq!(report["summary"]["events"], 2);
    let duplicate = &report["events"][1]["findings"][0];
    assert_eq!(duplicate["field"], "id");
    assert_eq!(duplicate["severity"], "error");
}

#[test]
fn feed_validate_unreadable_feed_exits_2() {
    let (code, output) = run(&["feed", "validate", "Cargo.toml"]);

    assert_eq!(code, 2, "{output}");
    assert!(output.contains("is not valid JSON"), "{output}");
}

fn with_family(mut event: serde_json::Value) -> serde_json::Value {
    event["workshop"] = "FresqueClimat".into();
    event
}

#[test]
fn serve_reloads_sources_on_sighup() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let feeds = runtime.block_on(FeedServer::start());
    feeds.set(
        "a.json",
        Behaviour::Serve(feed(
            vec![event("a1", "Fresque Alpha", 5, "Lyon", 45.76, 4.83)],
            None,
        )),
    );
    feeds.set(
        "b.json",
        Behaviour::Serve(feed(
            // Another venue: at the same time and place, it would be the same session as a1.
            vec![event("b1", "Fresque Bravo", 5, "Lyon", 45.74, 4.86)],
            None,
        )),
    );
    let source = |id: &str| {
        format!(
            "[[source]]\nid = \"{id}\"\nkind = \"openfresque\"\nurl = \"{}\"\nworkshop = \"FresqueClimat\"\n\n",
            feeds.url(&format!("{id}.json"))
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("sources.toml");
    std::fs::write(&sources, source("a")).unwrap();

    let mut server = binary()
        // No polling, so that only SIGHUP can apply the edit.
        .args([
            "serve",
            "--port",
            "0",
            "--watch-seconds",
            "0",
            "--log-format",
            "json",
            "--sources",
        ])
        .arg(&sources)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut address = None;
    for line in stderr.by_ref() {
        let line = line.unwrap();
        if line.contains("\"serving\"") {
            let record: serde_json::Value = serde_json::from_str(&line).unwrap();
            address = record["fields"]["address"].as_str().map(str::to_owned);
            break;
        }
    }
    // Later log lines are kept, to tell which mechanism reloaded the file.
    let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let collected = logs.clone();
    std::thread::spawn(move || {
        for line in stderr.map_while(Result::ok) {
            collected.lock().unwrap().push(line);
        }
    });
    let base = format!("http://{}", address.expect("server announced its address"));

    let total = |query: &'static str| {
        let base = base.clone();
        runtime.block_on(async move {
            let text = reqwest::get(format!("{base}/api/v1/events?q={query}"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            serde_json::from_str::<serde_json::Value>(&text).unwrap()["total"]
                .as_u64()
                .unwrap()
        })
    };
    let wait_until = |query: &'static str, expected: u64| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while total(query) != expected {
            assert!(
                Instant::now() < deadline,
                "q={query} never reached {expected}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_until("alpha", 1);

    std::fs::write(&sources, format!("{}{}", source("a"), source("b"))).unwrap();
    let hangup = Command::new("kill")
        .args(["-HUP", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(hangup.success());
    wait_until("bravo", 1);
    let reloads: Vec<String> = logs
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("SIGHUP received") || l.contains("sources file reloaded"))
        .cloned()
        .collect();
    assert!(reloads[0].contains("SIGHUP received"), "{reloads:?}");
    assert!(reloads[1].contains("sources file reloaded"), "{reloads:?}");

    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    assert!(server.wait().unwrap().success());
}
