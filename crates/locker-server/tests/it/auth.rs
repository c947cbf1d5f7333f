//! Signing in and out, sessions, rate limiting and error shapes.

use skylark_locker::config::Config;

use crate::{ALICE_PASSWORD, BOB_PASSWORD, Locker, assert_error, get, get_json};

#[tokio::test]
async fn login_me_logout() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    assert_eq!(token.len(), 64);
    let me: serde_json::Value = get_json(&locker, &token, "/api/v1/me").await;
    assert_eq!(me["name"], "alice");
    let out = locker
        .http
        .post(locker.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let after = get(&locker, &token, "/api/v1/me").await;
    assert_eq!(after.headers()["www-authenticate"], "Bearer");
    assert_error(after, 401, "unauthorized").await;
    locker.stop().await;
}

#[tokio::test]
async fn tokens_are_stored_hashed() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let db = std::fs::read(locker.dir.path().join("locker.db")).unwrap();
    let wal = std::fs::read(locker.dir.path().join("locker.db-wal")).unwrap_or_default();
    let haystack = [db, wal].concat();
    assert!(
        !haystack.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is on disk"
    );
    locker.stop().await;
}

#[tokio::test]
async fn wrong_credentials_and_bad_requests() {
    let locker = Locker::start(Config::default()).await;
    let login = |body: serde_json::Value| {
        locker
            .http
            .post(locker.url("/api/v1/auth/login"))
            .json(&body)
            .send()
    };
    assert_error(
        login(serde_json::json!({"username": "alice", "password": "nope nope"}))
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        login(serde_json::json!({"username": "nobody", "password": ALICE_PASSWORD}))
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        login(serde_json::json!({"username": "alice"}))
            .await
            .unwrap(),
        400,
        "bad_request",
    )
    .await;
    let garbage = locker
        .http
        .post(locker.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(garbage, 400, "bad_request").await;
    let no_token = locker
        .http
        .get(locker.url("/api/v1/auth/sessions"))
        .send()
        .await
        .unwrap();
    assert_error(no_token, 401, "unauthorized").await;
    let bad_token = locker
        .http
        .get(locker.url("/api/v1/auth/sessions"))
        .bearer_auth("x".repeat(64))
        .send()
        .await
        .unwrap();
    assert_error(bad_token, 401, "unauthorized").await;
    let missing = locker
        .http
        .get(locker.url("/api/v1/nothing/here"))
        .send()
        .await
        .unwrap();
    assert_error(missing, 404, "not_found").await;
    locker.stop().await;
}

#[tokio::test]
async fn sessions_list_and_revoke_within_one_account() {
    let locker = Locker::start(Config::default()).await;
    let laptop = locker.login("alice", ALICE_PASSWORD).await;
    let phone = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let list: Vec<serde_json::Value> = get(&locker, &laptop, "/api/v1/auth/sessions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 2, "bob's session is not alice's business");
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_id = list.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Bob cannot revoke Alice's session: it does not exist as far as he can tell.
    let theirs = locker
        .http
        .delete(locker.url(&format!("/api/v1/auth/sessions/{phone_id}")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_error(theirs, 404, "not_found").await;
    let still = get(&locker, &phone, "/api/v1/me").await;
    assert_eq!(still.status(), 200);

    let revoke = locker
        .http
        .delete(locker.url(&format!("/api/v1/auth/sessions/{phone_id}")))
        .bearer_auth(&laptop)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    let gone = get(&locker, &phone, "/api/v1/me").await;
    assert_error(gone, 401, "unauthorized").await;
    locker.stop().await;
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_account_and_address() {
    let config = Config {
        login_attempts: 3,
        ..Config::default()
    };
    let locker = Locker::start(config).await;
    for _ in 0..3 {
        let r = locker
            .http
            .post(locker.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "alice", "password": "guess guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    // Now even the right password is refused for a while.
    let blocked = locker
        .http
        .post(locker.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "alice", "password": ALICE_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(blocked, 429, "rate_limited").await;
    // The address is limited too: another account from it is refused.
    let other = locker
        .http
        .post(locker.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "bob", "password": BOB_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(other, 429, "rate_limited").await;
    locker.stop().await;
}

#[tokio::test]
async fn health_and_graceful_shutdown() {
    let locker = Locker::start(Config::default()).await;
    let health: serde_json::Value = locker
        .http
        .get(locker.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let addr = locker.addr;
    locker.stop().await;
    assert!(
        reqwest::get(format!("http://{addr}/healthz"))
            .await
            .is_err(),
        "the server stopped listening"
    );
}

#[tokio::test]
async fn metrics_in_prometheus_text() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let _ = locker
        .http
        .get(locker.url("/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    let _ = get(&locker, &token, "/api/v1/me").await;
    let r = locker
        .http
        .get(locker.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text().await.unwrap();
    let value = |line_start: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{line_start} missing in\n{text}"))
    };
    assert!(value("skylark_locker_http_requests_total{status=\"2xx\"}") >= 2);
    assert!(value("skylark_locker_http_requests_total{status=\"4xx\"}") >= 1);
    assert_eq!(value("skylark_locker_accounts "), 2);
    assert_eq!(value("skylark_locker_sessions "), 1);
    assert!(!text.contains("alice"), "no account's data in the metrics");
    locker.stop().await;
}
