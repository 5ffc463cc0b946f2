//! The `multifresque` binary as a newcomer runs it: `serve` on the bundled examples, `fetch`
//! and `search` from the terminal, and clear errors for a broken sources file.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_multifresque"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command.env_remove("RUST_LOG");
    command
}

async fn get_json(client: &reqwest::Client, url: &str) -> serde_json::Value {
    let text = client.get(url).send().await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn serve_answers_search_on_bundled_examples() {
    let data = tempfile::tempdir().unwrap();
    let mut server = binary()
        .args(["serve", "--port", "0", "--log-format", "json", "--data-dir"])
        .arg(data.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // The log line announcing the listener carries the ephemeral port.
    let stderr = BufReader::new(server.stderr.take().unwrap());
    let mut address = None;
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.contains("\"serving\"") {
            let record: serde_json::Value = serde_json::from_str(&line).unwrap();
            address = record["fields"]["address"].as_str().map(str::to_owned);
            break;
        }
    }
    let base = format!("http://{}", address.expect("server announced its address"));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let body: serde_json::Value = runtime.block_on(async {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let health: serde_json::Value = get_json(&client, &format!("{base}/healthz")).await;
            if health["searchable_events"].as_u64().unwrap_or(0) > 50 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        get_json(
            &client,
            &format!("{base}/api/v1/events?near=Lyon&radius_km=30&from=2026-12-01"),
        )
        .await
    });

    assert!(body["total"].as_u64().unwrap() >= 10, "{body}");
    assert!(body["events"][0]["distance_km"].as_f64().unwrap() <= 30.0);

    // A quick look from the terminal works while the server holds the index writer.
    let search = binary()
        .args([
            "search",
            "--near",
            "Lyon",
            "--from",
            "2026-12-01",
            "--data-dir",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        search.status.success(),
        "{}",
        String::from_utf8_lossy(&search.stderr)
    );
    assert!(String::from_utf8_lossy(&search.stdout).contains("Fresque du Climat – Part-Dieu"));

    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let status = server.wait().unwrap();
    assert!(status.success(), "serve exited with {status} after SIGTERM");
}

#[test]
fn fetch_then_search_from_terminal() {
    let data = tempfile::tempdir().unwrap();

    let fetch = binary()
        .args(["fetch", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&fetch.stdout);

    assert!(
        fetch.status.success(),
        "{table}\n{}",
        String::from_utf8_lossy(&fetch.stderr)
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("collectif-fresques-lyon") && l.contains("stored")),
        "{table}"
    );

    let search = binary()
        .args([
            "search",
            "--near",
            "Lyon",
            "--radius-km",
            "30",
            "--from",
            "2026-12-01",
            "--data-dir",
        ])
        .arg(data.path())
        .arg("numerique")
        .output()
        .unwrap();
    let results = String::from_utf8_lossy(&search.stdout);

    assert!(
        search.status.success(),
        "{}",
        String::from_utf8_lossy(&search.stderr)
    );
    assert!(results.starts_with("near Lyon (FR)"), "{results}");
    assert!(
        results.contains("Fresque du Numérique – Jean Macé"),
        "{results}"
    );
}

#[test]
fn search_rejects_bad_filter_with_accepted_values() {
    let data = tempfile::tempdir().unwrap();

    let search = binary()
        .args(["search", "--sort", "price", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&search.stderr);

    assert_eq!(search.status.code(), Some(1));
    assert!(
        message.contains("unknown sort \"price\" (accepted: date, distance, relevance)"),
        "{message}"
    );
}

#[test]
fn search_before_any_fetch_says_what_to_run() {
    let data = tempfile::tempdir().unwrap();

    let search = binary()
        .args(["search", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&search.stderr);

    assert_eq!(search.status.code(), Some(1));
    assert!(
        message.contains("run `multifresque fetch` or `multifresque serve` first"),
        "{message}"
    );
}

#[test]
fn invalid_sources_file_lists_problems_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        "[[source]]\nid = \"a\"\nkind = \"rss\"\nurl = \"a.xml\"\ntime_zone = \"Mars/Olympus\"\n",
    )
    .unwrap();

    let fetch = binary()
        .args(["fetch", "--sources"])
        .arg(&sources)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&fetch.stderr);

    assert_eq!(fetch.status.code(), Some(1));
    assert!(
        message.contains("line 1: source \"a\": unknown kind \"rss\""),
        "{message}"
    );
    assert!(
        message.contains("unknown time zone \"Mars/Olympus\""),
        "{message}"
    );
    assert!(
        !Path::new(&dir.path().join("data")).exists(),
        "nothing is written for an invalid file"
    );
}

#[test]
fn fetch_unknown_source_names_known_ones() {
    let data = tempfile::tempdir().unwrap();

    let fetch = binary()
        .args(["fetch", "--source", "nope", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&fetch.stderr);

    assert_eq!(fetch.status.code(), Some(1));
    assert!(message.contains("no source \"nope\""), "{message}");
    assert!(message.contains("fresque-du-climat"), "{message}");
}

#[test]
fn sources_report_shows_quality_per_source() {
    let data = tempfile::tempdir().unwrap();
    let fetch = binary()
        .args(["fetch", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        fetch.status.success(),
        "{}",
        String::from_utf8_lossy(&fetch.stderr)
    );

    let report = binary()
        .args(["sources", "report", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&report.stdout);
    let json = binary()
        .args(["sources", "report", "--json", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();

    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let collective = table
        .lines()
        .find(|l| l.starts_with("collectif-fresques-lyon "))
        .unwrap_or_else(|| panic!("{table}"));
    let columns: Vec<&str> = collective.split_whitespace().collect();
    assert_eq!(columns[1], "13", "events: {collective}");
    assert_eq!(
        columns[10], "1",
        "merged with the Fresque du Climat feed: {collective}"
    );
    assert_eq!(columns[11], "2", "rejected: {collective}");
    assert!(
        table.contains("collectif-fresques-lyon    invalid_start 1, missing_title 1"),
        "{table}"
    );
    assert_eq!(parsed["sources"].as_array().unwrap().len(), 4);
    assert_eq!(parsed["sources"][0]["rejections"]["invalid_start"], 1);
}

#[test]
fn sources_report_before_any_fetch_says_what_to_run() {
    let data = tempfile::tempdir().unwrap();

    let report = binary()
        .args(["sources", "report", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&report.stderr);

    assert_eq!(report.status.code(), Some(1));
    assert!(message.contains("no store at"), "{message}");
    assert!(
        message.contains("run `multifresque fetch` or `multifresque serve` first"),
        "{message}"
    );
}

#[test]
fn bench_generate_writes_a_feed_that_ingests_whole() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("bench");

    let generate = binary()
        .args([
            "bench",
            "generate",
            "--events",
            "300",
            "--page-size",
            "100",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&generate.stdout);
    assert!(generate.status.success(), "{summary}");
    assert!(summary.starts_with("300 sessions"), "{summary}");
    assert!(out.join("feed-01/page-00003.json").exists());
    assert!(!out.join("feed-01/page-00004.json").exists());

    let validate = binary()
        .args(["feed", "validate"])
        .arg(out.join("feed-01/page-00001.json"))
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "{}{}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );

    let fetch = binary()
        .args(["fetch", "--sources"])
        .arg(out.join("sources.toml"))
        .arg("--data-dir")
        .arg(work.path().join("data"))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&fetch.stdout);
    assert!(fetch.status.success(), "{table}");
    let stored = table
        .lines()
        .find(|l| l.starts_with("bench-01 "))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(stored.contains(" 300 "), "every session stored: {stored}");

    let csv = std::fs::read_to_string(out.join("events.csv")).unwrap();
    assert_eq!(csv.lines().count(), 301, "a header and a row per session");
    let incumbent: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("incumbent.json")).unwrap()).unwrap();
    assert_eq!(incumbent.as_array().map(Vec::len), Some(300));
}
