//! The web player: the desktop's UI built for the browser (`ui/dist-web`), served at `/`, its
//! sign-in page, and the commands it sends ([`commands`]).
//!
//! A browser signs in on `/login`, a plain HTML form that needs no script. The session token goes
//! into an `HttpOnly`, `SameSite=Strict` cookie that no script can read, and the session's
//! anti-forgery token into a cookie the page can read and sends back in the `X-Skylark-CSRF`
//! header with every request that changes something ([`crate::http::request_token`] checks it).
//! Every response carries a strict content security policy: the page may load only its own
//! scripts, styles, pictures and audio, and run no inline script.
//!
//! **Architecture Invariant:** the web player holds no power of its own: every command runs as the
//! signed-in account through the same library, playlists and ops as the other APIs.

pub mod commands;
pub mod uploads;

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use skylark_locker_api::{ErrorCode, LoginRequest};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::{Error, Result};
use crate::http::{AppState, sign_in};
use crate::sessions::{self, Authenticated};

/// The cookie holding a browser's session token (never readable by scripts).
pub const SESSION_COOKIE: &str = "skylark_session";
/// The cookie holding the session's anti-forgery token, for the page to send back.
pub const CSRF_COOKIE: &str = "skylark_csrf";
/// The header a browser's state-changing requests carry the anti-forgery token in.
pub const CSRF_HEADER: &str = "x-skylark-csrf";

/// What the web player's pages may load: only their own files, no inline script or style, no
/// plugins, no framing by other sites, forms posting only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; \
     font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
     form-action 'self'";

/// The sign-in page's style sheet (the page runs no script and loads nothing else).
const LOGIN_CSS: &str = include_str!("login.css");

/// The web player's routes; `dir` holds its built files (none: `/` says how to build them).
pub fn routes(dir: Option<&Path>) -> Router<AppState> {
    let router = Router::new()
        .route("/login", get(login_page).post(login_form))
        .route("/login.css", get(login_css))
        .route("/logout", post(logout))
        .route("/api/v1/ui/{command}", post(commands::call))
        .route("/api/v1/tracks/{id}/download", get(commands::download));
    let router = match dir {
        Some(dir) => {
            // Built assets have content hashes in their names, so they never change; the page
            // itself is checked on every load so a new build reaches every browser.
            let assets = Router::new()
                .fallback_service(ServeDir::new(dir.join("assets")))
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ));
            let index = Router::new()
                .route_service("/", ServeFile::new(dir.join("index.html")))
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                ));
            router.nest("/assets", assets).merge(index)
        }
        None => router.route("/", get(not_installed)),
    };
    router.layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    ))
}

/// The value of cookie `name` in `headers`.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The session token in a browser's session cookie.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .map(str::to_owned)
}

/// Whether the browser reached the locker over HTTPS (directly or through a proxy that says so),
/// so that cookies are marked `Secure`.
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value.
fn set_cookie(name: &str, value: &str, max_age_s: i64, http_only: bool, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; Max-Age={max_age_s}; SameSite=Strict");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The sign-in page, with the name tried and what went wrong, if anything.
fn login_html(username: &str, problem: Option<&str>) -> String {
    let problem = problem
        .map(|p| format!("<p class=\"problem\" role=\"alert\">{}</p>", escape(p)))
        .unwrap_or_default();
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Sign in · Skylark</title>\n<link rel=\"stylesheet\" href=\"/login.css\">\n\
         </head>\n<body>\n<main>\n<h1>Skylark</h1>\n\
         <form method=\"post\" action=\"/login\">\n\
         <label>Account <input name=\"username\" autocomplete=\"username\" required \
         autofocus value=\"{}\"></label>\n\
         <label>Password <input name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required></label>\n{problem}\n\
         <button type=\"submit\">Sign in</button>\n</form>\n</main>\n</body>\n</html>\n",
        escape(username)
    )
}

/// Query of `GET /login`.
#[derive(Debug, Deserialize)]
struct LoginQuery {
    #[serde(default)]
    signed_out: bool,
}

async fn login_page(
    query: std::result::Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Html<String> {
    let signed_out = query.is_ok_and(|Query(q)| q.signed_out);
    Html(login_html("", signed_out.then_some("You are signed out.")))
}

async fn login_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        LOGIN_CSS,
    )
        .into_response()
}

/// The sign-in form's fields.
#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

/// Whether a form post came from a page of this locker. Browsers send `Origin` with every form
/// post; one naming another site is a forged sign-in (which would sign the user in to the
/// forger's account).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| !host.is_empty() && authority.eq_ignore_ascii_case(host))
}

async fn login_form(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: std::result::Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return (
            StatusCode::BAD_REQUEST,
            Html(login_html(
                "",
                Some("Enter an account name and a password."),
            )),
        )
            .into_response();
    };
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            Html(login_html("", Some("Sign in from this locker's own page."))),
        )
            .into_response();
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("a browser");
    let request = LoginRequest {
        username: form.username.clone(),
        password: form.password,
        device: format!("Web player ({agent})"),
    };
    match sign_in(&state, peer, request).await {
        Ok(login) => {
            let max_age = state.config().session_ttl_ms() / 1000;
            let secure = over_https(&headers);
            let csrf = state.signer().csrf_token(&login.token);
            let mut response = Redirect::to("/").into_response();
            let h = response.headers_mut();
            for value in [
                set_cookie(SESSION_COOKIE, &login.token, max_age, true, secure),
                set_cookie(CSRF_COOKIE, &csrf, max_age, false, secure),
            ] {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    h.append(header::SET_COOKIE, v);
                }
            }
            response
        }
        Err(e) => {
            let (status, text) = match &e {
                Error::Api {
                    code: ErrorCode::Unauthorized,
                    ..
                } => (
                    StatusCode::UNAUTHORIZED,
                    "Wrong account name or password.".to_owned(),
                ),
                Error::Api {
                    code: ErrorCode::RateLimited,
                    message,
                } => (StatusCode::TOO_MANY_REQUESTS, format!("{message}.")),
                other => {
                    tracing::error!(error = %other, "a web sign-in failed");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "The locker could not sign you in; try again later.".to_owned(),
                    )
                }
            };
            (status, Html(login_html(&form.username, Some(&text)))).into_response()
        }
    }
}

/// `POST /logout`: ends the browser's session and forgets its cookies.
async fn logout(
    State(state): State<AppState>,
    who: Authenticated,
    headers: HeaderMap,
) -> Result<Response> {
    state
        .db(move |conn| sessions::revoke(conn, who.user, &who.session))
        .await?;
    let secure = over_https(&headers);
    let mut response = StatusCode::NO_CONTENT.into_response();
    for value in [
        set_cookie(SESSION_COOKIE, "", 0, true, secure),
        set_cookie(CSRF_COOKIE, "", 0, false, secure),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

async fn not_installed() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Skylark locker</title></head><body><p>This locker serves no web player: \
             build it with <code>make web</code> and start the locker with \
             <code>--web-dir ui/dist-web</code>. Desktop apps and Subsonic apps work without \
             it.</p></body></html>\n",
        ),
    )
        .into_response()
}

/// The error a command answers for something the account does not have.
pub(crate) fn not_found(what: &str) -> Error {
    Error::api(ErrorCode::NotFound, format!("no such {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; skylark_session_x=no; skylark_session=tok; b=2"),
        );
        assert_eq!(session_cookie(&headers).as_deref(), Some("tok"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn the_sign_in_page_escapes_what_it_echoes() {
        let page = login_html("<script>\"x\"</script>", Some("a & b"));
        assert!(page.contains("value=\"&lt;script&gt;&quot;x&quot;&lt;/script&gt;\""));
        assert!(page.contains("a &amp; b"));
        assert!(!page.contains("<script>"));
    }

    #[test]
    fn form_posts_from_other_sites_are_refused() {
        let headers = |origin: Option<&'static str>| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_static("music.example:8750"));
            if let Some(o) = origin {
                h.insert(header::ORIGIN, HeaderValue::from_static(o));
            }
            h
        };
        assert!(same_origin(&headers(Some("http://music.example:8750"))));
        assert!(same_origin(&headers(None)));
        assert!(!same_origin(&headers(Some("https://evil.example"))));
        assert!(!same_origin(&headers(Some("null"))));
    }
}
