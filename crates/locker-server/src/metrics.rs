//! `/metrics`: counters and gauges in the Prometheus text exposition format (version 0.0.4).
//!
//! Only aggregates over the whole server are exposed, never anything about one account.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{DbContext, Result};
use crate::http::AppState;

/// Counters the server keeps while it runs.
#[derive(Debug, Default)]
pub struct Metrics {
    requests_2xx: AtomicU64,
    requests_3xx: AtomicU64,
    requests_4xx: AtomicU64,
    requests_5xx: AtomicU64,
    /// Bytes received by upload PATCH requests.
    pub upload_bytes: AtomicU64,
}

impl Metrics {
    fn count(&self, status: u16) {
        let counter = match status {
            200..=299 => &self.requests_2xx,
            300..=399 => &self.requests_3xx,
            400..=499 => &self.requests_4xx,
            _ => &self.requests_5xx,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Middleware counting responses by status class.
pub async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    state.metrics().count(response.status().as_u16());
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Result<Response> {
    let (users, blobs, blob_bytes, uploads, sessions): (u64, u64, u64, u64, u64) = state
        .db(|conn| {
            conn.query_row(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM blobs),
                    (SELECT coalesce(sum(size), 0) FROM blobs), (SELECT count(*) FROM uploads),
                    (SELECT count(*) FROM sessions)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .ctx("reading metrics")
        })
        .await?;
    let m = state.metrics();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP skylark_locker_http_requests_total HTTP responses sent, by status class."
    );
    let _ = writeln!(out, "# TYPE skylark_locker_http_requests_total counter");
    for (class, counter) in [
        ("2xx", &m.requests_2xx),
        ("3xx", &m.requests_3xx),
        ("4xx", &m.requests_4xx),
        ("5xx", &m.requests_5xx),
    ] {
        let _ = writeln!(
            out,
            "skylark_locker_http_requests_total{{status=\"{class}\"}} {}",
            counter.load(Ordering::Relaxed)
        );
    }
    let mut gauge = |name: &str, help: &str, kind: &str, value: u64| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name} {value}");
    };
    gauge(
        "skylark_locker_upload_bytes_total",
        "Bytes received by uploads.",
        "counter",
        m.upload_bytes.load(Ordering::Relaxed),
    );
    gauge("skylark_locker_accounts", "Accounts.", "gauge", users);
    gauge(
        "skylark_locker_sessions",
        "Signed-in sessions.",
        "gauge",
        sessions,
    );
    gauge(
        "skylark_locker_blobs",
        "Distinct files stored.",
        "gauge",
        blobs,
    );
    gauge(
        "skylark_locker_blob_bytes",
        "Bytes of distinct files stored.",
        "gauge",
        blob_bytes,
    );
    gauge(
        "skylark_locker_uploads_in_progress",
        "Uploads started and not finished.",
        "gauge",
        uploads,
    );
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
