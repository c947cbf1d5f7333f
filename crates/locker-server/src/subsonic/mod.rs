//! The OpenSubsonic API under `/rest`, so that the many Subsonic apps on phones, cars and desktops
//! can browse (by tags, and by folders as older apps do), search, play, rate and edit playlists in
//! a locker.
//!
//! Every method answers at `/rest/NAME` and `/rest/NAME.view`, to GET with a query and to POST
//! with a form (the `formPost` extension), in XML, JSON or JSONP ([`envelope`]). Apps sign in with
//! the account's app password or an API key ([`credentials`]); the account's own password is never
//! accepted here.
//!
//! **Architecture Invariant:** every Subsonic request sees only its account's [`library`],
//! playlists and files; another account's ids answer error 70, "not found".
//!
//! **Architecture Invariant:** Subsonic edits (playlists, plays, stars, ratings) are ops applied through
//! [`crate::catalog::apply`], the path every device's edits take, so they reach the account's
//! change feed and from there every device.

mod annotation;
mod bookmarks;
mod browse;
pub mod credentials;
mod discovery;
pub mod envelope;
mod lyrics;
mod media;
mod now_playing;
mod playlists;
mod queue;
pub mod responses;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use axum::routing::get;
use skylark_locker_api::ops::{Hlc, Op};
use tracing::Instrument;

use crate::accounts::UserId;
use crate::http::AppState;
use crate::library::Library;
use crate::now_millis;
use crate::subsonic::credentials::{Account, AppPasswordKey, Credentials, Refusal};
use crate::subsonic::envelope::{Code, Failure, Format, Reply};

/// The most parameters one request may carry.
const MAX_PARAMS: usize = 10_000;

/// What the Subsonic API keeps between requests.
#[derive(Debug)]
pub struct SubsonicState {
    key: AppPasswordKey,
    now_playing: now_playing::Board,
}

impl SubsonicState {
    /// The state over the data folder `data` (where the app password key lives).
    pub fn load(data: &std::path::Path) -> crate::Result<Self> {
        Ok(Self {
            key: AppPasswordKey::load(data)?,
            now_playing: now_playing::Board::default(),
        })
    }

    /// The app password key.
    pub fn key(&self) -> &AppPasswordKey {
        &self.key
    }

    /// What each account's apps are playing.
    fn now_playing(&self) -> &now_playing::Board {
        &self.now_playing
    }
}

/// The `/rest` routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/rest/{method}", get(rest).post(rest))
}

/// A request's parameters: the query's, then (for a form POST) the body's, in order.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or error 10.
    pub fn required(&self, name: &str) -> Result<&str, Failure> {
        self.get(name).ok_or_else(|| Failure::missing(name))
    }

    /// The value of `name` as a number, if given.
    pub fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, Failure> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.trim().parse().map_err(|_| {
                    Failure::new(Code::Generic, format!("parameter {name} must be a number"))
                })
            })
            .transpose()
    }

    /// The value of `name` as a boolean (`true`/`false`), if given.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, Failure> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(Failure::new(
                Code::Generic,
                format!("parameter {name} must be true or false"),
            )),
        }
    }

    async fn from_request(req: Request) -> Result<Params, Failure> {
        let bad = |e: String| Failure::new(Code::Generic, format!("unreadable parameters: {e}"));
        let Query(mut pairs) = Query::<Vec<(String, String)>>::try_from_uri(req.uri())
            .map_err(|e| bad(e.body_text()))?;
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if req.method() == Method::POST && is_form {
            let axum::Form(body) = axum::Form::<Vec<(String, String)>>::from_request(req, &())
                .await
                .map_err(|e| bad(e.body_text()))?;
            pairs.extend(body);
        }
        if pairs.len() > MAX_PARAMS {
            return Err(Failure::new(
                Code::Generic,
                format!("at most {MAX_PARAMS} parameters per request"),
            ));
        }
        Ok(Params(pairs))
    }
}

/// What every method gets: the state, the signed-in account and the request.
pub(crate) struct Call<'a> {
    state: &'a AppState,
    account: Account,
    params: &'a Params,
    /// The app's address, when known.
    peer: Option<IpAddr>,
    method: &'a Method,
    headers: &'a HeaderMap,
}

impl Call<'_> {
    fn user(&self) -> UserId {
        self.account.user
    }

    /// The account's library as of now.
    async fn library(&self) -> Result<Arc<Library>, Failure> {
        let user = self.user();
        Ok(self.state.library(user).await?)
    }

    /// Applies `ops` as the account's edits, through the catalog's op path.
    async fn apply(&self, ops: Vec<Op>) -> Result<(), Failure> {
        if ops.is_empty() {
            return Ok(());
        }
        let user = self.user();
        let now = now_millis();
        for chunk in ops.chunks(crate::catalog::MAX_OPS_PER_REQUEST) {
            let chunk = chunk.to_vec();
            self.state
                .db(move |conn| crate::catalog::apply(conn, user, &chunk, now))
                .await?;
        }
        Ok(())
    }
}

/// A random id in hex for ops and playlists the Subsonic API makes.
pub(crate) fn random_id(prefix: &str) -> Result<String, Failure> {
    Ok(crate::catalog::random_id(prefix)?)
}

/// The device every Subsonic edit is stamped with.
pub(crate) const DEVICE: &str = "subsonic";

/// A stamp for a Subsonic edit made at `now`, later than every stamp in `seen`
/// ([`crate::catalog::stamp_after`]).
pub(crate) fn stamp_after<'a>(now: i64, seen: impl IntoIterator<Item = &'a str>) -> Hlc {
    crate::catalog::stamp_after(DEVICE, now, seen)
}

/// Takes the credentials out of `params`, or says which rule they break.
fn credentials(params: &Params) -> Result<Credentials, Failure> {
    let (u, p, t, s, key) = (
        params.get("u"),
        params.get("p"),
        params.get("t"),
        params.get("s"),
        params.get("apiKey"),
    );
    if let Some(key) = key {
        // apiKeyAuthentication: "passing in u must be treated as an error 43", as must any other
        // mechanism alongside.
        if u.is_some() || p.is_some() || t.is_some() || s.is_some() {
            return Err(Failure::new(
                Code::ConflictingMechanisms,
                "give either apiKey or u with p or t and s, not both",
            ));
        }
        return Ok(Credentials::ApiKey(key.to_owned()));
    }
    let user = u.ok_or_else(|| Failure::missing("u"))?.to_owned();
    match (p, t, s) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(Failure::new(
            Code::ConflictingMechanisms,
            "give either p or t and s, not both",
        )),
        (Some(password), None, None) => Ok(Credentials::Password {
            user,
            password: password.to_owned(),
        }),
        (None, Some(token), Some(salt)) => Ok(Credentials::Token {
            user,
            token: token.to_owned(),
            salt: salt.to_owned(),
        }),
        (None, Some(_), None) => Err(Failure::missing("s")),
        (None, None, Some(_)) => Err(Failure::missing("t")),
        (None, None, None) => Err(Failure::missing("p")),
    }
}

/// Signs the request in, counting failures against the same limits as `/api/v1/auth/login`.
async fn authenticate(
    state: &AppState,
    params: &Params,
    peer: Option<IpAddr>,
) -> Result<Account, Failure> {
    let creds = credentials(params)?;
    let mut keys = Vec::with_capacity(2);
    if let Some(ip) = peer {
        keys.push(format!("ip:{ip}"));
    }
    if let Credentials::Token { user, .. } | Credentials::Password { user, .. } = &creds {
        keys.push(format!("subsonic:{}", user.to_lowercase()));
    }
    if let Err(wait) = state.limiter().check(&keys, Instant::now()) {
        return Err(Failure::new(
            Code::Generic,
            format!(
                "too many failed sign-ins; try again in {} s",
                wait.as_secs().max(1)
            ),
        ));
    }
    let subsonic = Arc::clone(state.subsonic());
    let now = now_millis();
    let verdict = state
        .db(move |conn| credentials::verify(conn, &subsonic.key, &creds, now))
        .await?;
    match verdict {
        Ok(account) => Ok(account),
        Err(refusal) => {
            state.limiter().record_failure(&keys, Instant::now());
            Err(match refusal {
                Refusal::UnknownApiKey => Failure::new(Code::InvalidApiKey, "invalid API key"),
                Refusal::WrongPassword => Failure::new(
                    Code::WrongCredentials,
                    "wrong username or password (use the account's Subsonic app password)",
                ),
                Refusal::Malformed => {
                    Failure::new(Code::WrongCredentials, "p=enc: must be followed by hex")
                }
            })
        }
    }
}

/// `GET` and `POST /rest/{method}`.
async fn rest(State(state): State<AppState>, Path(method): Path<String>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let http_method = req.method().clone();
    let headers = req.headers().clone();
    let params = match Params::from_request(req).await {
        Ok(params) => params,
        Err(failure) => return envelope::render(&Format::Xml, Err(failure)),
    };
    let format = match Format::parse(params.get("f"), params.get("callback")) {
        Ok(format) => format,
        Err(failure) => return envelope::render(&Format::Xml, Err(failure)),
    };
    let name = method.strip_suffix(".view").unwrap_or(&method);
    let result = run(&state, name, &params, peer, &http_method, &headers)
        .instrument(tracing::debug_span!("subsonic", method = name))
        .await;
    envelope::render(&format, result)
}

async fn run(
    state: &AppState,
    name: &str,
    params: &Params,
    peer: Option<IpAddr>,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Reply, Failure> {
    // OpenSubsonic: "must be accessible without any authentication parameters".
    if name == "getOpenSubsonicExtensions" {
        return Ok(browse::extensions());
    }
    let account = authenticate(state, params, peer).await?;
    let call = Call {
        state,
        account,
        params,
        peer,
        method,
        headers,
    };
    match name {
        "ping" => Ok(Reply::Empty),
        "getLicense" => browse::license(),
        "tokenInfo" => browse::token_info(&call),
        "getMusicFolders" => browse::music_folders(),
        "getIndexes" => browse::indexes(&call).await,
        "getArtists" => browse::artists(&call).await,
        "getArtist" => browse::artist(&call).await,
        "getAlbum" => browse::album(&call).await,
        "getSong" => browse::song(&call).await,
        "getMusicDirectory" => browse::music_directory(&call).await,
        "getGenres" => browse::genres(&call).await,
        "getSongsByGenre" => browse::songs_by_genre(&call).await,
        "getTopSongs" => browse::top_songs(&call).await,
        "getSimilarSongs" => discovery::similar_songs(&call, false).await,
        "getSimilarSongs2" => discovery::similar_songs(&call, true).await,
        "getArtistInfo" => discovery::artist_info(&call, false).await,
        "getArtistInfo2" => discovery::artist_info(&call, true).await,
        "getAlbumInfo" => discovery::album_info(&call, false).await,
        "getAlbumInfo2" => discovery::album_info(&call, true).await,
        "getUser" => browse::user(&call),
        "getScanStatus" | "startScan" => browse::scan_status(&call).await,
        "getAlbumList" => browse::album_list(&call).await,
        "getAlbumList2" => browse::album_list2(&call).await,
        "getRandomSongs" => browse::random_songs(&call).await,
        "search2" => browse::search2(&call).await,
        "search3" => browse::search3(&call).await,
        "getStarred" => browse::starred(&call).await,
        "getStarred2" => browse::starred2(&call).await,
        "getPlaylists" => playlists::list(&call).await,
        "getPlaylist" => playlists::get(&call).await,
        "createPlaylist" => playlists::create(&call).await,
        "updatePlaylist" => playlists::update(&call).await,
        "deletePlaylist" => playlists::delete(&call).await,
        "stream" => media::stream(&call, false).await,
        "download" => media::stream(&call, true).await,
        "getCoverArt" => media::cover_art(&call).await,
        "scrobble" => annotation::scrobble(&call).await,
        "getNowPlaying" => now_playing::get(&call).await,
        "star" => annotation::star(&call, true).await,
        "unstar" => annotation::star(&call, false).await,
        "setRating" => annotation::set_rating(&call).await,
        "savePlayQueue" => queue::save(&call, false).await,
        "getPlayQueue" => queue::get(&call, false).await,
        "savePlayQueueByIndex" => queue::save(&call, true).await,
        "getPlayQueueByIndex" => queue::get(&call, true).await,
        "getBookmarks" => bookmarks::list(&call).await,
        "createBookmark" => bookmarks::create(&call).await,
        "deleteBookmark" => bookmarks::delete(&call).await,
        "getLyricsBySongId" => lyrics::by_song_id(&call).await,
        "getLyrics" => lyrics::by_artist_and_title(&call).await,
        other => Err(Failure::new(
            Code::Generic,
            format!("{other} is not implemented by this server"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn credential_forms_and_their_conflicts() {
        let code = |pairs: &[(&str, &str)]| credentials(&params(pairs)).map_err(|f| f.code);
        assert!(matches!(
            code(&[("u", "a"), ("t", "x"), ("s", "y")]),
            Ok(Credentials::Token { .. })
        ));
        assert!(matches!(
            code(&[("u", "a"), ("p", "x")]),
            Ok(Credentials::Password { .. })
        ));
        assert!(matches!(
            code(&[("apiKey", "k")]),
            Ok(Credentials::ApiKey(_))
        ));
        assert_eq!(
            code(&[("apiKey", "k"), ("u", "a")]).err(),
            Some(Code::ConflictingMechanisms)
        );
        assert_eq!(
            code(&[("u", "a"), ("p", "x"), ("t", "x"), ("s", "y")]).err(),
            Some(Code::ConflictingMechanisms)
        );
        assert_eq!(code(&[("u", "a")]).err(), Some(Code::MissingParameter));
        assert_eq!(code(&[("p", "x")]).err(), Some(Code::MissingParameter));
        assert_eq!(
            code(&[("u", "a"), ("t", "x")]).err(),
            Some(Code::MissingParameter)
        );
    }

    #[test]
    fn stamps_come_after_what_was_seen() {
        let s = stamp_after(1000, []);
        assert_eq!((s.wall_ms, s.counter), (1000, 0));
        let s = stamp_after(
            1000,
            [
                "00000000000000000500:0000000003:phone",
                "00000000000000002000:0000000007:laptop",
                "garbage",
            ],
        );
        assert_eq!((s.wall_ms, s.counter, s.device.as_str()), (2000, 8, DEVICE));
    }
}
