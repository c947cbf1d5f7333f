//! The signed-in connection to one locker ([`Client`]): sign-in and sign-out, sessions, and the
//! JSON calls the other modules build on.
//!
//! The client is blocking, for a desktop app's worker threads and the command line. Inside, it
//! owns a small tokio runtime that runs reqwest, so that uploads and streams can be interrupted,
//! throttled and watched for stalls while the caller's thread simply waits.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use skylark_locker_api::ops::{ChangesResponse, Op, OpResult, OpsRequest, OpsResponse};
use skylark_locker_api::{ErrorBody, ErrorCode, LoginRequest, LoginResponse, Session, User};

use crate::error::{Error, Result};

/// How long a JSON call may take before it counts as failed.
const JSON_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
pub use skylark_locker_api::ops::{MAX_OPS_PER_REQUEST, MAX_OPS_REQUEST_BYTES};

/// Who is signed in where: what a device keeps to talk to its locker without the password.
#[derive(Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Credentials {
    /// The locker's address, `http(s)://host[:port]` with no trailing slash.
    pub server: String,
    /// The account name.
    pub username: String,
    /// The id of the session the token belongs to (shown in the session list).
    pub session_id: String,
    /// The bearer token. Secret: never logged, kept in the OS keychain when there is one.
    pub token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("session_id", &self.session_id)
            .field("token", &"<secret>")
            .finish()
    }
}

/// The runtime the client's I/O runs on. Dropping it never blocks, so a client may be dropped
/// anywhere, an async context included.
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

pub(crate) struct Inner {
    pub(crate) credentials: Credentials,
    pub(crate) http: reqwest::Client,
    runtime: Runtime,
}

/// A signed-in connection to a locker. Cheap to clone; every clone shares one connection pool.
///
/// Every method blocks the calling thread until the locker has answered. Calling one from inside
/// an async runtime gives [`Error::InsideAsyncRuntime`] (use `spawn_blocking`).
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

/// `server` without trailing slashes, checked to be an http(s) URL.
fn normalise_server(server: &str) -> Result<String> {
    let trimmed = server.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => {
            Ok(trimmed.to_owned())
        }
        _ => Err(Error::BadUrl {
            url: server.to_owned(),
        }),
    }
}

fn build(credentials: Credentials) -> Result<Client> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("skylark-locker-client")
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            path: "tokio runtime".into(),
            source,
        })?;
    let http = reqwest::Client::builder()
        .user_agent(concat!("skylark/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|source| Error::Network {
            request: "starting the HTTP client".to_owned(),
            source,
        })?;
    Ok(Client {
        inner: Arc::new(Inner {
            credentials,
            http,
            runtime: Runtime(Some(runtime)),
        }),
    })
}

impl Client {
    /// Signs in to the locker at `server` (`http(s)://host[:port]`) as `username`; `device` names
    /// this device in the account's session list. The answer's [`Credentials`] are what to keep
    /// (see [`CredentialStore`](crate::CredentialStore)).
    ///
    /// # Errors
    ///
    /// [`Error::BadUrl`], [`Error::Network`], or [`Error::Api`] with
    /// [`ErrorCode::Unauthorized`] for a wrong name or password and [`ErrorCode::RateLimited`]
    /// after too many failures.
    pub fn sign_in(
        server: &str,
        username: &str,
        password: &str,
        device: &str,
    ) -> Result<(Client, LoginResponse)> {
        let server = normalise_server(server)?;
        let mut client = build(Credentials {
            server,
            username: username.to_owned(),
            session_id: String::new(),
            token: String::new(),
        })?;
        let body = LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            device: device.to_owned(),
        };
        let answer: LoginResponse = client.run(async {
            let request = client.request(Method::POST, "/api/v1/auth/login");
            client
                .json_call("POST /api/v1/auth/login", request.json(&body))
                .await
        })?;
        let inner = Arc::get_mut(&mut client.inner).ok_or_else(|| Error::Protocol {
            request: "POST /api/v1/auth/login".to_owned(),
            message: "the new client was shared before sign-in finished".to_owned(),
        })?;
        inner.credentials.session_id = answer.session.id.clone();
        inner.credentials.token = answer.token.clone();
        Ok((client, answer))
    }

    /// A client for credentials kept from an earlier sign-in. No request is made: a revoked or
    /// expired token shows as [`Error::is_unauthorized`] on the first call.
    ///
    /// # Errors
    ///
    /// [`Error::BadUrl`] if the stored server address is not a URL.
    pub fn with_credentials(credentials: Credentials) -> Result<Client> {
        let server = normalise_server(&credentials.server)?;
        build(Credentials {
            server,
            ..credentials
        })
    }

    /// The credentials this client signs its requests with.
    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    /// The signed-in account, with its quota and the bytes it stores.
    ///
    /// # Errors
    ///
    /// [`Error::Network`], or [`Error::Api`] (unauthorized once the session is revoked).
    pub fn me(&self) -> Result<User> {
        self.get_json("/api/v1/me")
    }

    /// Signs out: the locker revokes this session's token, so it stops working everywhere.
    /// Forget the stored credentials afterwards ([`CredentialStore::clear`](crate::CredentialStore::clear)).
    ///
    /// # Errors
    ///
    /// [`Error::Network`] (the token then still works: try again), or [`Error::Api`].
    pub fn sign_out(&self) -> Result<()> {
        self.run(async {
            let request = self.authed(Method::POST, "/api/v1/auth/logout");
            self.call("POST /api/v1/auth/logout", request)
                .await
                .map(drop)
        })
    }

    /// The account's live sessions, newest first; `current` marks this one.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] or [`Error::Api`].
    pub fn sessions(&self) -> Result<Vec<Session>> {
        self.get_json("/api/v1/auth/sessions")
    }

    /// Revokes session `id` of this account (another device's sign-in, say).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with [`ErrorCode::NotFound`] for an unknown id, or [`Error::Network`].
    pub fn revoke_session(&self, id: &str) -> Result<()> {
        let path = format!("/api/v1/auth/sessions/{}", encode_segment(id));
        self.run(async {
            let request = self.authed(Method::DELETE, &path);
            self.call(&format!("DELETE {path}"), request)
                .await
                .map(drop)
        })
    }

    /// Pushes `ops` (in the order they were made), in requests of at most
    /// [`MAX_OPS_PER_REQUEST`] ops and [`MAX_OPS_REQUEST_BYTES`] bytes. Each op is applied once
    /// however often it is pushed, so after a failure the whole batch can simply be pushed again.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] or [`Error::Api`]; batches before the failing one were applied.
    pub fn push_ops(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        let mut results = Vec::with_capacity(ops.len());
        for batch in batches(ops)? {
            let body = OpsRequest {
                ops: batch.to_vec(),
            };
            let answer: OpsResponse = self.post_json("/api/v1/ops", &body)?;
            if answer.results.len() != batch.len() {
                return Err(Error::Protocol {
                    request: "POST /api/v1/ops".to_owned(),
                    message: format!("{} results for {} ops", answer.results.len(), batch.len()),
                });
            }
            results.extend(answer.results);
        }
        Ok(results)
    }

    /// One page of the change feed: at most `limit` ops after sequence number `since` (0 for
    /// the beginning). Pull again from `next` while `more` is true.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] or [`Error::Api`].
    pub fn pull_changes(&self, since: i64, limit: u32) -> Result<ChangesResponse> {
        self.get_json(&format!("/api/v1/changes?since={since}&limit={limit}"))
    }

    /// Runs `work` on the client's runtime and waits for it.
    pub(crate) fn run<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::InsideAsyncRuntime);
        }
        match &self.inner.runtime.0 {
            Some(runtime) => runtime.block_on(work),
            None => Err(Error::InsideAsyncRuntime),
        }
    }

    /// The absolute URL of `path` (or `path` itself when it already is one).
    pub(crate) fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.inner.credentials.server)
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.inner
            .http
            .request(method, self.url(path))
            .timeout(JSON_TIMEOUT)
    }

    /// A request to `path` carrying the bearer token, with no overall time limit (transfers set
    /// their own).
    pub(crate) fn authed_untimed(&self, method: Method, path: &str) -> RequestBuilder {
        self.inner
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.inner.credentials.token)
    }

    /// A request to `path` carrying the bearer token, with the JSON time limit.
    pub(crate) fn authed(&self, method: Method, path: &str) -> RequestBuilder {
        self.authed_untimed(method, path).timeout(JSON_TIMEOUT)
    }

    /// Sends `request`; a non-success status becomes [`Error::Api`].
    pub(crate) async fn call(&self, what: &str, request: RequestBuilder) -> Result<Response> {
        let response = request.send().await.map_err(|source| Error::Network {
            request: what.to_owned(),
            source,
        })?;
        check(what, response).await
    }

    async fn json_call<T: DeserializeOwned>(
        &self,
        what: &str,
        request: RequestBuilder,
    ) -> Result<T> {
        let response = self.call(what, request).await?;
        let bytes = response.bytes().await.map_err(|source| Error::Network {
            request: what.to_owned(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Protocol {
            request: what.to_owned(),
            message: e.to_string(),
        })
    }

    pub(crate) fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let what = format!("GET {}", path.split('?').next().unwrap_or(path));
        self.run(self.json_call(&what, self.authed(Method::GET, path)))
    }

    /// The body of a GET of `path`, whole.
    pub(crate) fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let what = format!("GET {path}");
        self.run(async {
            let response = self.call(&what, self.authed(Method::GET, path)).await?;
            let bytes = response.bytes().await.map_err(|source| Error::Network {
                request: what.clone(),
                source,
            })?;
            Ok(bytes.to_vec())
        })
    }

    pub(crate) fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.run(self.post_json_async(path, body))
    }

    pub(crate) async fn post_json_async<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let what = format!("POST {path}");
        self.json_call(&what, self.authed(Method::POST, path).json(body))
            .await
    }
}

/// Turns a non-success response into [`Error::Api`], reading the API's error body.
pub(crate) async fn check(what: &str, response: Response) -> Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.bytes().await.unwrap_or_default();
    Err(api_error(what, status, &body))
}

/// The [`Error::Api`] for a response with `status` and `body`; a body not in the API's shape
/// gets a code from the status.
pub(crate) fn api_error(what: &str, status: StatusCode, body: &[u8]) -> Error {
    let (code, message) = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => (parsed.error.code, parsed.error.message),
        Err(_) => (
            code_for_status(status),
            String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        ),
    };
    Error::Api {
        request: what.to_owned(),
        status: status.as_u16(),
        code,
        message,
    }
}

fn code_for_status(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        409 => ErrorCode::Conflict,
        413 => ErrorCode::PayloadTooLarge,
        429 => ErrorCode::RateLimited,
        460 => ErrorCode::ChecksumMismatch,
        507 => ErrorCode::QuotaExceeded,
        400..=499 => ErrorCode::BadRequest,
        _ => ErrorCode::Internal,
    }
}

/// Percent-encodes a path segment (RFC 3986 §3.3: unreserved characters stay).
pub(crate) fn encode_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `ops` in runs that each fit one request: at most [`MAX_OPS_PER_REQUEST`] ops, and at most
/// [`MAX_OPS_REQUEST_BYTES`] bytes of JSON with the request's envelope. An op is never split; one
/// alone is always within the limit, since the locker bounds every field.
fn batches(ops: &[Op]) -> Result<Vec<&[Op]>> {
    // `{"ops":[` and `]}`, and a comma between ops.
    const ENVELOPE: usize = 10;
    let mut runs = Vec::new();
    let (mut start, mut bytes) = (0, ENVELOPE);
    for (i, op) in ops.iter().enumerate() {
        let size = serde_json::to_vec(op)
            .map_err(|e| Error::Protocol {
                request: "POST /api/v1/ops".to_owned(),
                message: format!("an op cannot be written as JSON: {e}"),
            })?
            .len()
            + 1;
        if i > start && (i - start == MAX_OPS_PER_REQUEST || bytes + size > MAX_OPS_REQUEST_BYTES) {
            runs.push(&ops[start..i]);
            (start, bytes) = (i, ENVELOPE);
        }
        bytes += size;
    }
    if start < ops.len() {
        runs.push(&ops[start..]);
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        let ok = |s: &str, want: &str| assert_eq!(normalise_server(s).unwrap(), want, "{s}");
        ok("http://127.0.0.1:8750", "http://127.0.0.1:8750");
        ok(
            " https://locker.example.org/ ",
            "https://locker.example.org",
        );
        for bad in [
            "",
            "locker.example.org",
            "ftp://x",
            "http://",
            "http://a/b",
            "http://a b",
        ] {
            assert!(
                matches!(normalise_server(bad), Err(Error::BadUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_keep_the_api_code_or_derive_one() {
        let body = br#"{"error":{"code":"quota_exceeded","message":"full"}}"#;
        let e = api_error("POST /x", StatusCode::INSUFFICIENT_STORAGE, body);
        assert_eq!(e.code(), Some(ErrorCode::QuotaExceeded));
        assert!(e.to_string().contains("full"), "{e}");
        let e = api_error("GET /y", StatusCode::UNAUTHORIZED, b"nope");
        assert!(e.is_unauthorized());
        let e = api_error("GET /y", StatusCode::BAD_GATEWAY, b"");
        assert_eq!(e.code(), Some(ErrorCode::Internal));
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }

    #[test]
    fn credentials_never_print_the_token() {
        let c = Credentials {
            server: "http://x".to_owned(),
            username: "u".to_owned(),
            session_id: "s".to_owned(),
            token: "very-secret".to_owned(),
        };
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
