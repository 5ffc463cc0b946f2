//! The running schedule as operators use it: editing the watched sources file adds a source
//! without restart, an invalid edit is reported and changes nothing, a removed source's
//! events are withdrawn, and manual refresh needs the admin token.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Behaviour, FeedServer, TestService, event, feed};
use serde_json::Value;
use tokio::sync::watch;

fn source(id: &str, url: &str) -> String {
    format!(
        "[[source]]\nid = \"{id}\"\nkind = \"openfresque\"\nurl = \"{url}\"\nworkshop = \"FresqueClimat\"\nschedule = \"0 0 * * *\"\n\n"
    )
}

/// Writes the sources file through a temporary file and a rename, as editors do, so the
/// watcher never reads half a file.
fn write(path: &Path, text: &str) {
    let temporary = path.with_extension("toml.tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

fn source_ids(body: &Value) -> Vec<String> {
    body["sources"]
        .as_array()
        .map(|sources| {
            sources
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn searchable(body: &Value, id: &str) -> u64 {
    body["sources"]
        .as_array()
        .and_then(|sources| sources.iter().find(|s| s["id"] == id))
        .and_then(|s| s["searchable_events"].as_u64())
        .unwrap_or(0)
}

async fn feeds() -> FeedServer {
    let feeds = FeedServer::start().await;
    feeds.set(
        "a.json",
        Behaviour::Serve(feed(
            vec![
                event("a1", "Fresque A1", 5, "Lyon", 45.76, 4.83),
                event("a2", "Fresque A2", 6, "Lyon", 45.76, 4.83),
            ],
            None,
        )),
    );
    feeds.set(
        "b.json",
        Behaviour::Serve(feed(
            vec![event("b1", "Fresque B1", 7, "Paris", 48.85, 2.35)],
            None,
        )),
    );
    feeds
}

#[tokio::test]
async fn edited_file_adds_source_without_restart() {
    let feeds = feeds().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sources.toml");
    write(&path, &source("a", &feeds.url("a.json")));
    let service = TestService::start_file(&path, None).await;
    let (stop, stopped) = watch::channel(false);
    let schedule = tokio::spawn(
        service
            .app
            .live
            .clone()
            .run(Some(Duration::from_millis(50)), stopped),
    );
    service
        .wait_for("/api/v1/events?q=A1", |b| b["total"] == 1)
        .await;

    write(
        &path,
        &format!(
            "{}{}",
            source("a", &feeds.url("a.json")),
            source("b", &feeds.url("b.json"))
        ),
    );

    service
        .wait_for("/api/v1/events?q=B1", |b| b["total"] == 1)
        .await;
    let (_, status) = service.get("/api/v1/sources").await;
    assert_eq!(source_ids(&status), vec!["a", "b"]);
    assert_eq!(searchable(&status, "b"), 1);
    assert_eq!(status["config"]["last_reload"]["result"], "applied");
    assert_eq!(status["config"]["last_reload"]["added"][0], "b");
    assert_eq!(service.search_ids("q=B1").await, vec!["b~b1"]);

    stop.send(true).unwrap();
    schedule.await.unwrap();
}

#[tokio::test]
async fn invalid_edit_keeps_previous_configuration() {
    let feeds = feeds().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sources.toml");
    write(&path, &source("a", &feeds.url("a.json")));
    let service = TestService::start_file(&path, None).await;
    let (stop, stopped) = watch::channel(false);
    let schedule = tokio::spawn(
        service
            .app
            .live
            .clone()
            .run(Some(Duration::from_millis(50)), stopped),
    );
    service
        .wait_for("/api/v1/events?q=A1", |b| b["total"] == 1)
        .await;

    write(
        &path,
        &format!(
            "{}[[source]]\nid = \"b\"\nkind = \"rss\"\nurl = \"{}\"\nschedule = \"every hour\"\n",
            source("a", &feeds.url("a.json")),
            feeds.url("b.json")
        ),
    );

    let status = service
        .wait_for("/api/v1/sources", |b| {
            b["config"]["last_reload"]["result"] == "invalid"
        })
        .await;
    let problems: Vec<&str> = status["config"]["last_reload"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("line 8:") && p.contains("unknown kind \"rss\"")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("invalid cron schedule")),
        "{problems:?}"
    );
    assert_eq!(source_ids(&status), vec!["a"]);
    assert_eq!(service.search_ids("q=A1").await, vec!["a~a1"]);
    let page = service.get("/sources").await.1;
    assert!(
        page.as_str().unwrap().contains("unknown kind"),
        "the status page shows the problems"
    );

    stop.send(true).unwrap();
    schedule.await.unwrap();
}

#[tokio::test]
async fn removed_source_events_are_withdrawn() {
    let feeds = feeds().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sources.toml");
    write(
        &path,
        &format!(
            "{}{}",
            source("a", &feeds.url("a.json")),
            source("b", &feeds.url("b.json"))
        ),
    );
    let service = TestService::start_file(&path, None).await;
    let (stop, stopped) = watch::channel(false);
    // No polling: only the explicit reload below, as on SIGHUP, applies the edit.
    let schedule = tokio::spawn(service.app.live.clone().run(None, stopped));
    service
        .wait_for("/api/v1/events?q=fresque", |b| b["total"] == 3)
        .await;

    write(&path, &source("a", &feeds.url("a.json")));
    let report = service.app.live.reload().await;

    assert_eq!(report.removed, vec!["b"]);
    assert!(service.search_ids("q=B1").await.is_empty());
    let (_, withdrawn) = service.get("/api/v1/events/b~b1").await;
    assert!(withdrawn["withdrawn_at"].is_string(), "{withdrawn}");
    assert_eq!(service.search_ids("q=A1").await, vec!["a~a1"]);

    stop.send(true).unwrap();
    schedule.await.unwrap();
}

#[tokio::test]
async fn refresh_needs_the_admin_token() {
    let feeds = feeds().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sources.toml");
    write(&path, &source("a", &feeds.url("a.json")));
    let service = TestService::start_file(&path, Some("s3cret-token")).await;
    let refresh = |token: Option<&'static str>, id: &'static str| {
        let mut request = service
            .client
            .post(format!("{}/api/v1/sources/{id}/refresh", service.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let missing = refresh(None, "a").await.unwrap();
    assert_eq!(missing.status(), 401);
    assert!(missing.headers().contains_key("www-authenticate"));
    let wrong = refresh(Some("guess"), "a").await.unwrap();
    assert_eq!(wrong.status(), 401);
    let (_, status) = service.get("/api/v1/sources/a").await;
    assert_eq!(
        status["state"], "never_fetched",
        "refused refreshes fetch nothing"
    );

    let unknown = refresh(Some("s3cret-token"), "zzz").await.unwrap();
    assert_eq!(unknown.status(), 404);
    let accepted = refresh(Some("s3cret-token"), "a").await.unwrap();
    assert_eq!(accepted.status(), 202);
    let status = service
        .wait_for("/api/v1/sources/a", |b| b["state"] == "ok")
        .await;
    assert_eq!(status["events_kept"], 2);
    assert_eq!(status["http_status"], 200);
}

#[tokio::test]
async fn refresh_without_configured_token_is_disabled() {
    let feeds = feeds().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sources.toml");
    write(&path, &source("a", &feeds.url("a.json")));
    let service = TestService::start_file(&path, None).await;

    let response = service
        .client
        .post(format!("{}/api/v1/sources/a/refresh", service.base))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 403);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "refresh_disabled");
}

#[tokio::test]
async fn status_reports_rejections_by_reason() {
    let feeds = FeedServer::start().await;
    feeds.set(
        "mixed.json",
        Behaviour::Serve(feed(
            vec![
                event("ok", "Fresque", 5, "Lyon", 45.76, 4.83),
                serde_json::json!({"id": "no-start", "title": "Fresque"}),
                serde_json::json!({"id": "bad-start", "title": "Fresque", "start": "demain"}),
                serde_json::json!({"id": "bad-start-2", "title": "Fresque", "start": "bientôt"}),
            ],
            None,
        )),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sources.toml");
    write(&path, &source("mixed", &feeds.url("mixed.json")));
    let service = TestService::start_file(&path, None).await;
    service.fetch_all().await;

    let (_, status) = service.get("/api/v1/sources/mixed").await;

    assert_eq!(status["events_rejected"], 3);
    let reasons = status["rejections"].as_array().unwrap();
    let invalid_start = reasons
        .iter()
        .find(|r| r["reason"] == "invalid_start")
        .unwrap();
    assert_eq!(invalid_start["count"], 2);
    assert_eq!(invalid_start["examples"].as_array().unwrap().len(), 2);
    assert!(
        reasons
            .iter()
            .any(|r| r["reason"] == "missing_start" && r["count"] == 1)
    );
}
