//! The HTTP API: routes, the bearer-token extractor, and how errors become JSON.
//!
//! SQLite and argon2 block, so every handler runs its database work on the blocking thread pool
//! ([`AppState::db`]); the async executor never waits on them. The one exception is a stream's
//! lookup, a read that runs on the async thread when the database is free at that instant
//! ([`AppState::db_if_free`]).

use std::net::SocketAddr;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use rusqlite::Connection;
use serde::de::DeserializeOwned;
use skylark_locker_api::ops::{ChangesResponse, OpsRequest, OpsResponse};
use skylark_locker_api::subsonic::{ApiKey, AppPassword, NewApiKey, NewApiKeyRequest};
use skylark_locker_api::{
    ClaimRequest, ClaimResponse, ErrorBody, ErrorCode, ErrorDetail, Health, LoginRequest,
    LoginResponse, MatchRequest, MatchResponse, Session, User,
};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::library::{Libraries, Library};
use crate::metrics::{self, Metrics};
use crate::ratelimit::LoginLimiter;
use crate::sessions::{self, Authenticated};
use crate::signed::{self, UrlSigner};
use crate::storage::BlobStore;
use crate::subsonic::{self, SubsonicState, credentials};
use crate::upload_turns::UploadTurns;
use crate::uploads::RunningHashes;
use crate::{accounts, catalog, covers, matching, now_millis};
use crate::{stream, uploads, web};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    db: Arc<Mutex<Connection>>,
    limiter: Arc<LoginLimiter>,
    config: Arc<Config>,
    data: Arc<PathBuf>,
    blobs: BlobStore,
    metrics: Arc<Metrics>,
    signer: UrlSigner,
    upload_turns: Arc<UploadTurns>,
    running_hashes: Arc<RunningHashes>,
    subsonic: Arc<SubsonicState>,
    libraries: Arc<Libraries>,
}

impl AppState {
    /// State over an open database and the data folder `data`, with the blob store `config`
    /// names.
    pub fn new(conn: Connection, config: Config, data: &FsPath) -> Result<Self> {
        let limiter = LoginLimiter::new(
            config.login_attempts.max(1) as usize,
            Duration::from_secs(config.login_window_secs.max(1)),
        );
        Ok(Self {
            db: Arc::new(Mutex::new(conn)),
            limiter: Arc::new(limiter),
            blobs: BlobStore::open(&config, data)?,
            config: Arc::new(config),
            data: Arc::new(data.to_owned()),
            metrics: Arc::new(Metrics::default()),
            signer: UrlSigner::load(data)?,
            upload_turns: Arc::default(),
            running_hashes: Arc::default(),
            subsonic: Arc::new(SubsonicState::load(data)?),
            libraries: Arc::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The data folder.
    pub fn data_dir(&self) -> &FsPath {
        &self.data
    }

    /// The blob store.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The stream URL signer.
    pub fn signer(&self) -> &UrlSigner {
        &self.signer
    }

    /// The running counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The turns of uploads with a request in progress.
    pub fn upload_turns(&self) -> &Arc<UploadTurns> {
        &self.upload_turns
    }

    /// The running hashes of unfinished uploads.
    pub fn running_hashes(&self) -> &RunningHashes {
        &self.running_hashes
    }

    /// The failed sign-in counter that sign-ins of every kind share.
    pub fn limiter(&self) -> &LoginLimiter {
        &self.limiter
    }

    /// The library of `user` as of now (kept between requests while its change feed stands).
    pub async fn library(&self, user: accounts::UserId) -> Result<Arc<Library>> {
        let libraries = Arc::clone(&self.libraries);
        self.db(move |conn| libraries.get(conn, user)).await
    }

    /// The Subsonic API's key.
    pub fn subsonic(&self) -> &Arc<SubsonicState> {
        &self.subsonic
    }

    /// Runs `work` with the database on the blocking pool.
    pub(crate) async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.blocking(move |db| db.with(work)).await
    }

    /// Runs `work` with the database on the calling (async) thread if no one holds it this
    /// instant; `None` if someone does, and the caller takes the blocking pool.
    ///
    /// Only for a hot path's reads of a few rows that SQLite's page cache holds (a stream's
    /// lookup), which then cost microseconds instead of a hand-off between threads; never for
    /// writes, which may wait on the write lock or a checkpoint.
    pub(crate) fn db_if_free<T>(&self, work: impl FnOnce(&Connection) -> T) -> Option<T> {
        match self.db.try_lock() {
            Ok(conn) => Some(work(&conn)),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(work(&poisoned.into_inner())),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Runs `work` on the blocking pool with the database at hand, locked only inside
    /// [`Db::with`]: for a request that does other blocking work (a file read) in the same trip,
    /// as each trip is a hand-off between threads.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Db) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let db = Db(Arc::clone(&self.db));
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(|e| Error::api(ErrorCode::Internal, format!("a worker failed: {e}")))?
    }
}

/// The database, for work on the blocking pool ([`AppState::blocking`]).
pub(crate) struct Db(Arc<Mutex<Connection>>);

impl Db {
    /// Runs `work` with the connection locked.
    pub(crate) fn with<T>(&self, work: impl FnOnce(&Connection) -> T) -> T {
        let conn = self.0.lock().unwrap_or_else(|p| p.into_inner());
        work(&conn)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let code = self.code();
        let message = match &self {
            Error::Api { message, .. } => message.clone(),
            other => {
                tracing::error!(error = %other, "request failed");
                "the server failed; try again later".to_owned()
            }
        };
        let status =
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (
            status,
            Json(ErrorBody {
                error: ErrorDetail { code, message },
            }),
        )
            .into_response();
        if code == ErrorCode::Unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// JSON in a request body; malformed JSON is a `bad_request` error in the API's shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> std::result::Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| ApiJson(v))
            .map_err(|e: JsonRejection| {
                let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ErrorCode::PayloadTooLarge
                } else {
                    ErrorCode::BadRequest
                };
                Error::api(code, e.body_text())
            })
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> std::result::Result<Self, Self::Rejection> {
        authenticate(&parts.method, &parts.headers, state).await
    }
}

/// The error of a request without valid credentials.
pub(crate) fn unauthorized() -> Error {
    Error::api(ErrorCode::Unauthorized, "sign in first")
}

/// The bearer token in `headers`.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .ok_or_else(unauthorized)
}

/// The session token a request presents: a bearer token, or the web player's session cookie.
/// A request that would change something on the strength of the cookie alone must also carry
/// the session's anti-forgery token, so that another site's page cannot make the browser do it.
pub(crate) fn request_token(
    method: &Method,
    headers: &HeaderMap,
    state: &AppState,
) -> Result<String> {
    if headers.contains_key(header::AUTHORIZATION) {
        return bearer_token(headers);
    }
    let token = web::session_cookie(headers).ok_or_else(unauthorized)?;
    if !method.is_safe() {
        let presented = headers
            .get(web::CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !state.signer().check_csrf(&token, presented) {
            return Err(Error::api(
                ErrorCode::Forbidden,
                "the request lacks this session's anti-forgery token",
            ));
        }
    }
    Ok(token)
}

/// The identity behind the credentials of a request ([`request_token`]).
pub(crate) async fn authenticate(
    method: &Method,
    headers: &HeaderMap,
    state: &AppState,
) -> Result<Authenticated> {
    let token = request_token(method, headers, state)?;
    let now = now_millis();
    state
        .db(move |conn| sessions::authenticate(conn, &token, now))
        .await?
        .ok_or_else(unauthorized)
}

/// The API's routes over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(metrics::metrics))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/sessions", get(list_sessions))
        .route("/api/v1/auth/sessions/{id}", delete(revoke_session))
        .route("/api/v1/me", get(me))
        .route(
            "/api/v1/ops",
            post(post_ops).layer(axum::extract::DefaultBodyLimit::max(
                skylark_locker_api::ops::MAX_OPS_REQUEST_BYTES,
            )),
        )
        .route("/api/v1/changes", get(get_changes))
        .route("/api/v1/tracks/{id}/stream", get(stream::stream))
        .route("/api/v1/tracks/{id}/stream-url", post(signed::stream_url))
        .route("/api/v1/tracks/{id}/wav", get(crate::transcode::track))
        .route("/api/v1/blobs/{hash}", get(stream::blob))
        .route("/api/v1/covers/{hash}", get(covers::cover))
        .route("/api/v1/match", post(post_match))
        .route("/api/v1/claims", post(post_claim))
        .route(
            "/api/v1/uploads",
            post(uploads::create).options(uploads::options),
        )
        .route(
            "/api/v1/uploads/{id}",
            patch(uploads::patch)
                .head(uploads::head)
                .delete(uploads::terminate),
        )
        .route(
            "/api/v1/subsonic/password",
            post(new_app_password).delete(remove_app_password),
        )
        .route(
            "/api/v1/subsonic/api-keys",
            get(list_api_keys).post(new_api_key),
        )
        .route("/api/v1/subsonic/api-keys/{id}", delete(revoke_api_key))
        .merge(subsonic::routes())
        .merge(web::routes(state.config().web_dir.as_deref()))
        .fallback(|| async { Error::api(ErrorCode::NotFound, "no such endpoint") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Result<Json<Health>> {
    state
        .db(|conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(|source| Error::Db {
                    context: "checking health",
                    source,
                })
        })
        .await?;
    Ok(Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>> {
    Ok(Json(sign_in(&state, peer, req).await?))
}

/// Checks an account's name and password and opens a session for `req.device`. Failures are
/// counted per account and per address, and too many of them refuse sign-ins for a while.
pub(crate) async fn sign_in(
    state: &AppState,
    peer: SocketAddr,
    req: LoginRequest,
) -> Result<LoginResponse> {
    let account_key = format!("user:{}", req.username.to_lowercase());
    let keys = [account_key.clone(), format!("ip:{}", peer.ip())];
    if let Err(wait) = state.limiter.check(&keys, Instant::now()) {
        return Err(Error::api(
            ErrorCode::RateLimited,
            format!(
                "too many failed sign-ins; try again in {} s",
                wait.as_secs().max(1)
            ),
        ));
    }
    let ttl_ms = state.config.session_ttl_ms();
    let LoginRequest {
        username,
        password,
        device,
    } = req;
    let result = state
        .db(move |conn| {
            let Some(user) = accounts::verify(conn, &username, &password)? else {
                return Ok(None);
            };
            let (token, session) = sessions::create(conn, user, &device, now_millis(), ttl_ms)?;
            Ok(Some((token, session, accounts::user(conn, user)?)))
        })
        .await?;
    match result {
        Some((token, session, user)) => {
            state.limiter.clear(&account_key);
            Ok(LoginResponse {
                token,
                session,
                user,
            })
        }
        None => {
            state.limiter.record_failure(&keys, Instant::now());
            Err(Error::api(
                ErrorCode::Unauthorized,
                "wrong account name or password",
            ))
        }
    }
}

async fn logout(State(state): State<AppState>, who: Authenticated) -> Result<StatusCode> {
    state
        .db(move |conn| sessions::revoke(conn, who.user, &who.session))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_sessions(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<Json<Vec<Session>>> {
    let now = now_millis();
    let list = state
        .db(move |conn| sessions::list(conn, who.user, &who.session, now))
        .await?;
    Ok(Json(list))
}

async fn revoke_session(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    if state
        .db(move |conn| sessions::revoke(conn, who.user, &id))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::api(ErrorCode::NotFound, "no such session"))
    }
}

async fn post_ops(
    State(state): State<AppState>,
    who: Authenticated,
    ApiJson(req): ApiJson<OpsRequest>,
) -> Result<Json<OpsResponse>> {
    let now = now_millis();
    let results = state
        .db(move |conn| catalog::apply(conn, who.user, &req.ops, now))
        .await?;
    Ok(Json(OpsResponse { results }))
}

async fn post_match(
    State(state): State<AppState>,
    who: Authenticated,
    ApiJson(req): ApiJson<MatchRequest>,
) -> Result<Json<MatchResponse>> {
    let now = now_millis();
    let results = state
        .db(move |conn| matching::verdicts(conn, who.user, &req.files, now))
        .await?;
    Ok(Json(MatchResponse { results }))
}

async fn post_claim(
    State(state): State<AppState>,
    who: Authenticated,
    ApiJson(req): ApiJson<ClaimRequest>,
) -> Result<Json<ClaimResponse>> {
    let now = now_millis();
    let id = req.id.clone();
    let claim = state
        .db(move |conn| matching::take_claim(conn, who.user, &id, now))
        .await?;
    if !claim.verify(state.blobs(), &req.proof).await? {
        return Err(Error::api(
            ErrorCode::Forbidden,
            "the proof does not match the file",
        ));
    }
    let (hash, size) = (claim.hash().to_owned(), claim.size());
    let linked = hash.clone();
    state
        .db(move |conn| matching::link_blob(conn, who.user, &linked, size, now))
        .await?;
    Ok(Json(ClaimResponse { file_hash: hash }))
}

/// Query of `GET /api/v1/changes`.
#[derive(Debug, serde::Deserialize)]
struct ChangesQuery {
    #[serde(default)]
    since: i64,
    #[serde(default = "default_page")]
    limit: u32,
}

fn default_page() -> u32 {
    500
}

async fn get_changes(
    State(state): State<AppState>,
    who: Authenticated,
    query: std::result::Result<Query<ChangesQuery>, QueryRejection>,
) -> Result<Json<ChangesResponse>> {
    let Query(q) = query.map_err(|e| Error::api(ErrorCode::BadRequest, e.body_text()))?;
    let page = state
        .db(move |conn| catalog::changes(conn, who.user, q.since, q.limit))
        .await?;
    Ok(Json(page))
}

/// `POST /api/v1/subsonic/password`: a new app password for Subsonic apps, shown once.
async fn new_app_password(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<Json<AppPassword>> {
    let now = now_millis();
    let subsonic = Arc::clone(state.subsonic());
    let (password, user) = state
        .db(move |conn| {
            let password = credentials::new_app_password(conn, subsonic.key(), who.user, now)?;
            Ok((password, accounts::user(conn, who.user)?))
        })
        .await?;
    Ok(Json(AppPassword {
        username: user.name,
        password,
        created_at: now,
    }))
}

/// `DELETE /api/v1/subsonic/password`.
async fn remove_app_password(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<StatusCode> {
    if state
        .db(move |conn| credentials::remove_app_password(conn, who.user))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::api(ErrorCode::NotFound, "there is no app password"))
    }
}

/// `GET /api/v1/subsonic/api-keys`.
async fn list_api_keys(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<Json<Vec<ApiKey>>> {
    Ok(Json(
        state
            .db(move |conn| credentials::api_keys(conn, who.user))
            .await?,
    ))
}

/// `POST /api/v1/subsonic/api-keys`: a new API key, shown once.
async fn new_api_key(
    State(state): State<AppState>,
    who: Authenticated,
    ApiJson(req): ApiJson<NewApiKeyRequest>,
) -> Result<(StatusCode, Json<NewApiKey>)> {
    let now = now_millis();
    let (key, info) = state
        .db(move |conn| credentials::new_api_key(conn, who.user, &req.label, now))
        .await?;
    Ok((StatusCode::CREATED, Json(NewApiKey { key, info })))
}

/// `DELETE /api/v1/subsonic/api-keys/{id}`.
async fn revoke_api_key(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    if state
        .db(move |conn| credentials::revoke_api_key(conn, who.user, &id))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::api(ErrorCode::NotFound, "no such API key"))
    }
}

async fn me(State(state): State<AppState>, who: Authenticated) -> Result<Json<User>> {
    Ok(Json(
        state.db(move |conn| accounts::user(conn, who.user)).await?,
    ))
}

/// Serves the API on `listener` until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = tokio::spawn(sweep(state.clone()));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    sweeper.abort();
    result
}

/// How often the server looks for abandoned uploads and staging files.
const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// At start-up and then every [`SWEEP_INTERVAL`]: deletes uploads nobody continued for
/// `upload_expiry_hours` and their files, and the staging files that crashed store writes left
/// that are as old.
async fn sweep(state: AppState) {
    let max_age = Duration::from_secs(u64::from(state.config.upload_expiry_hours) * 3600);
    let max_age_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
    let mut tick = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        tick.tick().await;
        let data = state.data_dir().to_owned();
        let busy = state.upload_turns().busy();
        state.running_hashes().prune(max_age);
        match state
            .db(move |conn| uploads::expire(conn, &data, now_millis(), max_age_ms, &busy))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "deleted abandoned uploads"),
            Err(e) => tracing::warn!(error = %e, "cannot expire uploads"),
        }
        let cutoff = std::time::SystemTime::now()
            .checked_sub(max_age)
            .unwrap_or(std::time::UNIX_EPOCH);
        match state.blobs().sweep_staging(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "deleted staging files of interrupted writes"),
            Err(e) => tracing::warn!(error = %e, "cannot sweep the blob store"),
        }
    }
}
