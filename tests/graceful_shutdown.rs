//! SIGTERM stops `multifresque serve` gracefully: a response being sent finishes, a feed
//! download in progress is abandoned (it would change nothing), the store stays sound,
//! and the process exits 0.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::header;
use axum::response::IntoResponse;
use common::{Behaviour, FeedServer, event, feed};
use multifresque::app::STORE_FILE;
use multifresque::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Events of the quick source. Each carries long texts (just under the 20,000-byte cut of
/// each field), so that one page of 100 is about 9 MB: more than the 4 MiB socket send
/// buffer Linux grows to, so the server is still sending while the client does not read.
const EVENTS: usize = 120;

fn big_feed() -> String {
    let long = |word: &str| format!("{word} ").repeat(19_000 / (word.len() + 1));
    let events = (0..EVENTS)
        .map(|n| {
            // One day apart, so that no two are taken for duplicates of one session.
            let mut event = event(
                &format!("e{n}"),
                "Fresque du Climat",
                3 + n as i64,
                "Lyon",
                45.76,
                4.83,
            );
            event["title"] = serde_json::json!(long("Fresque"));
            event["description"] = serde_json::json!(long("climat"));
            event["location"]["name"] = serde_json::json!(long("salle"));
            event["location"]["street"] = serde_json::json!(long("rue"));
            event["location"]["region"] = serde_json::json!(long("Rhône"));
            event
        })
        .collect();
    feed(events, None)
}

fn sources(feeds: &FeedServer) -> String {
    ["quick", "slow"]
        .iter()
        .map(|id| {
            format!(
                "[[source]]\nid = \"{id}\"\nkind = \"openfresque\"\nurl = \"{}\"\n\
                 workshop = \"FresqueClimat\"\ntime_zone = \"Europe/Paris\"\n",
                feeds.url(&format!("{id}.json"))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads the listening port from the server's start-up log line.
fn port_from_log(line: &str) -> Option<u16> {
    let address = line.split("address=").nth(1)?.split_whitespace().next()?;
    address.rsplit(':').next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_responses_and_abandons_downloads() {
    let feeds = FeedServer::start().await;
    feeds.set("quick.json", Behaviour::Serve(big_feed()));
    // Headers at once, then nothing: a download that is in progress until abandoned.
    feeds.set(
        "slow.json",
        Behaviour::respond(|| {
            let stream = futures_util::stream::pending::<Result<Vec<u8>, std::io::Error>>();
            (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(stream),
            )
                .into_response()
        }),
    );
    let dir = tempfile::tempdir().unwrap();
    let sources_path = dir.path().join("sources.toml");
    std::fs::write(&sources_path, sources(&feeds)).unwrap();
    let data = dir.path().join("data");

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_multifresque"))
        .args(["serve", "--port", "0", "--sources"])
        .arg(&sources_path)
        .arg("--data-dir")
        .arg(&data)
        .env("RUST_LOG", "multifresque=info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut log = tokio::io::BufReader::new(child.stderr.take().unwrap());

    // Wait for the listening port, then for the quick source to be searchable.
    let mut port = None;
    let mut line = String::new();
    while port.is_none() {
        line.clear();
        assert!(
            tokio::io::AsyncBufReadExt::read_line(&mut log, &mut line)
                .await
                .unwrap()
                > 0
        );
        port = port_from_log(&line);
    }
    let port = port.unwrap();
    let mut log_lines = tokio::spawn(async move {
        let mut rest = String::new();
        log.read_to_string(&mut rest).await.unwrap();
        rest
    });
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        let health: serde_json::Value = serde_json::from_str(
            &reqwest::get(format!("{base}/healthz"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        )
        .unwrap();
        if health["searchable_events"] == EVENTS {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{health}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(feeds.requests.load(std::sync::atomic::Ordering::SeqCst), 2);

    // A client with a tiny receive buffer requests about 9 MB and does not read yet, so
    // the server is still sending when the signal comes.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket
        .connect(format!("127.0.0.1:{port}").parse().unwrap())
        .await
        .unwrap();
    stream
        .write_all(
            b"GET /api/v1/events?limit=100 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");

    let pid = child.id().unwrap().to_string();
    let terminated = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(terminated.success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server exited with a response half sent"
    );

    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the server did not stop within 30 s")
        .unwrap();
    let log = tokio::time::timeout(Duration::from_secs(5), &mut log_lines)
        .await
        .unwrap()
        .unwrap();

    assert!(status.success(), "{status:?}\n{log}");
    assert!(response.len() > 8_000_000, "{} bytes", response.len());
    let body_start = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let page: serde_json::Value =
        serde_json::from_slice(&response[body_start..]).expect("the response was cut short");
    assert_eq!(page["total"], EVENTS);
    assert_eq!(page["events"].as_array().unwrap().len(), 100);
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("stopped"), "{log}");

    let store = Store::open(&data.join(STORE_FILE)).unwrap();
    assert_eq!(store.integrity_check().unwrap(), Ok(()));
    let statuses = store.source_statuses().unwrap();
    let slow = statuses.iter().find(|s| s.id == "slow").unwrap();
    assert!(
        slow.last_error
            .as_deref()
            .is_some_and(|e| e.contains("shutting down")),
        "{slow:?}"
    );
    assert_eq!(store.searchable_events("quick").unwrap().len(), EVENTS);
}
