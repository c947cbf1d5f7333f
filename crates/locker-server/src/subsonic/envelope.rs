//! The `subsonic-response` envelope in the three formats a client may ask for with `f`: XML (the
//! default), JSON and JSONP; and the protocol's error codes.
//!
//! A response body is built once, as JSON, from the types in [`super::responses`], and XML is
//! written from that JSON by the rules the Subsonic schema follows: a scalar field is an attribute
//! (except `value`, which is the element's text), an object is a child element, and an array is
//! that element repeated (an array of scalars repeats the element with each value as its text, as
//! `<versions>1</versions>` does). One set of types therefore serves both formats.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use skylark_locker_api::ErrorCode;

/// The Subsonic REST API version implemented.
pub const API_VERSION: &str = "1.16.1";
/// The server type OpenSubsonic clients see.
pub const SERVER_TYPE: &str = "skylark";
/// The namespace of the Subsonic schema.
const XMLNS: &str = "http://subsonic.org/restapi";

/// The format a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// XML, the default.
    Xml,
    /// JSON (`f=json`).
    Json,
    /// JSON wrapped in a call of the named function (`f=jsonp&callback=NAME`).
    Jsonp(String),
}

impl Format {
    /// The format `f` and `callback` name. Unknown formats, and JSONP without a callback that is a
    /// plain JavaScript name, answer in XML (where the error can be read).
    pub fn parse(f: Option<&str>, callback: Option<&str>) -> std::result::Result<Format, Failure> {
        match f {
            None | Some("xml") => Ok(Format::Xml),
            Some("json") => Ok(Format::Json),
            Some("jsonp") => {
                let name = callback.unwrap_or_default();
                let plain = !name.is_empty()
                    && name.len() <= 100
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_$.".contains(&b))
                    && !name.as_bytes()[0].is_ascii_digit();
                if plain {
                    Ok(Format::Jsonp(name.to_owned()))
                } else {
                    Err(Failure::new(
                        Code::MissingParameter,
                        "f=jsonp needs a callback that is a JavaScript name",
                    ))
                }
            }
            Some(other) => Err(Failure::new(
                Code::Generic,
                format!("unknown format {other:?}; use xml, json or jsonp"),
            )),
        }
    }
}

/// The error codes of the Subsonic API (API reference, "Error handling"; 41 to 44 are
/// OpenSubsonic's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 0: a generic error.
    Generic = 0,
    /// 10: a required parameter is missing.
    MissingParameter = 10,
    /// 40: wrong username or password.
    WrongCredentials = 40,
    /// 42: the authentication mechanism is not supported.
    MechanismNotSupported = 42,
    /// 43: conflicting authentication mechanisms were given.
    ConflictingMechanisms = 43,
    /// 44: invalid API key.
    InvalidApiKey = 44,
    /// 50: the user may not do this.
    NotAuthorized = 50,
    /// 70: the requested data was not found.
    NotFound = 70,
}

/// A failed Subsonic request: answered with `status="failed"` and an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The code.
    pub code: Code,
    /// What to tell the user.
    pub message: String,
}

impl Failure {
    /// A failure with `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// Data not found (another account's ids answer this too).
    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("{what} not found"))
    }

    /// A missing parameter.
    pub fn missing(name: &str) -> Self {
        Self::new(
            Code::MissingParameter,
            format!("required parameter {name} is missing"),
        )
    }
}

impl From<crate::Error> for Failure {
    fn from(e: crate::Error) -> Self {
        match &e {
            crate::Error::Api { code, message } => Failure::new(
                match code {
                    ErrorCode::NotFound => Code::NotFound,
                    ErrorCode::Forbidden | ErrorCode::Unauthorized => Code::NotAuthorized,
                    _ => Code::Generic,
                },
                message.clone(),
            ),
            other => {
                tracing::error!(error = %other, "subsonic request failed");
                Failure::new(Code::Generic, "the server failed; try again later")
            }
        }
    }
}

/// What a successful request answers.
#[derive(Debug)]
pub enum Reply {
    /// An empty `ok` envelope.
    Empty,
    /// An envelope holding one element: its name and its body.
    Body(&'static str, Value),
    /// Bytes (a stream, a download, a picture).
    Raw(Response),
}

/// The envelope's own fields.
fn envelope(status: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("status".into(), status.into());
    map.insert("version".into(), API_VERSION.into());
    map.insert("type".into(), SERVER_TYPE.into());
    map.insert("serverVersion".into(), env!("CARGO_PKG_VERSION").into());
    map.insert("openSubsonic".into(), true.into());
    map
}

/// The HTTP response for `result` in `format`. Subsonic reports failures inside a 200 response.
pub fn render(format: &Format, result: std::result::Result<Reply, Failure>) -> Response {
    let (mut map, body) = match result {
        Ok(Reply::Raw(response)) => return response,
        Ok(Reply::Empty) => (envelope("ok"), None),
        Ok(Reply::Body(name, value)) => (envelope("ok"), Some((name, value))),
        Err(failure) => {
            let mut error = Map::new();
            error.insert("code".into(), (failure.code as i64).into());
            error.insert("message".into(), failure.message.into());
            (envelope("failed"), Some(("error", Value::Object(error))))
        }
    };
    let (content_type, text) = match format {
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            out.push_str("<subsonic-response xmlns=\"");
            out.push_str(XMLNS);
            out.push('"');
            for (k, v) in &map {
                write_attribute(&mut out, k, v);
            }
            match &body {
                Some((name, value)) => {
                    out.push('>');
                    write_element(&mut out, name, value);
                    out.push_str("</subsonic-response>");
                }
                None => out.push_str("/>"),
            }
            ("text/xml; charset=utf-8", out)
        }
        Format::Json | Format::Jsonp(_) => {
            if let Some((name, value)) = body {
                map.insert(name.to_owned(), value);
            }
            let mut root = Map::new();
            root.insert("subsonic-response".into(), Value::Object(map));
            let json = Value::Object(root).to_string();
            match format {
                Format::Jsonp(callback) => (
                    "text/javascript; charset=utf-8",
                    format!("{callback}({json});"),
                ),
                _ => ("application/json", json),
            }
        }
    };
    let mut response = (StatusCode::OK, text).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes `text` escaped for XML 1.0: markup characters as entities, and characters XML cannot
/// hold (most control characters) as U+FFFD. In attributes, tabs and line breaks are written as
/// character references so that attribute normalisation keeps them.
fn escape(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\t' | '\n' | '\r' if attribute => out.push_str(&format!("&#{};", u32::from(c))),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

fn write_attribute(out: &mut String, name: &str, value: &Value) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape(out, &scalar_text(value), true);
    out.push('"');
}

/// Writes `value` as the element `name` (or, for an array, as `name` repeated).
fn write_element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                write_element(out, name, item);
            }
        }
        Value::Object(map) => {
            out.push('<');
            out.push_str(name);
            for (k, v) in map {
                if is_scalar(v) && k != "value" {
                    write_attribute(out, k, v);
                }
            }
            let text = map.get("value").filter(|v| is_scalar(v));
            let mut children = map
                .iter()
                .filter(|(_, v)| {
                    matches!(v, Value::Object(_)) || matches!(v, Value::Array(a) if !a.is_empty())
                })
                .peekable();
            if text.is_none() && children.peek().is_none() {
                out.push_str("/>");
                return;
            }
            out.push('>');
            if let Some(text) = text {
                escape(out, &scalar_text(text), false);
            }
            for (k, v) in children {
                write_element(out, k, v);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        scalar => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            escape(out, &scalar_text(scalar), false);
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn xml(name: &'static str, value: Value) -> String {
        let mut out = String::new();
        write_element(&mut out, name, &value);
        out
    }

    #[test]
    fn json_becomes_xml_by_the_schemas_rules() {
        let check = |name, value, expect: &str| assert_eq!(xml(name, value), expect);
        check(
            "album",
            json!({"id": "al-1", "name": "Takk...", "song": [{"id": "t1", "isDir": false}, {"id": "t2"}]}),
            r#"<album id="al-1" name="Takk..."><song id="t1" isDir="false"/><song id="t2"/></album>"#,
        );
        check(
            "openSubsonicExtensions",
            json!([{"name": "formPost", "versions": [1, 2]}]),
            r#"<openSubsonicExtensions name="formPost"><versions>1</versions><versions>2</versions></openSubsonicExtensions>"#,
        );
        check(
            "genre",
            json!({"songCount": 2, "value": "Post-rock & <more>"}),
            r#"<genre songCount="2">Post-rock &amp; &lt;more&gt;</genre>"#,
        );
        check(
            "song",
            json!({"title": "a\"b\tc\u{1}", "replayGain": {"trackGain": -6.5}, "genres": []}),
            r#"<song title="a&quot;b&#9;c�"><replayGain trackGain="-6.5"/></song>"#,
        );
    }

    #[test]
    fn envelopes_in_each_format() {
        let body = |format: &Format, result| {
            let response = render(format, result);
            let content_type = response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_owned();
            let bytes =
                futures::executor::block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
                    .unwrap();
            (content_type, String::from_utf8(bytes.to_vec()).unwrap())
        };
        let (ct, text) = body(&Format::Xml, Ok(Reply::Empty));
        assert_eq!(ct, "text/xml; charset=utf-8");
        assert!(
            text.starts_with(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<subsonic-response xmlns=\"http://subsonic.org/restapi\" "
            ),
            "{text}"
        );
        for attribute in [
            r#" status="ok""#,
            r#" version="1.16.1""#,
            r#" type="skylark""#,
            r#" openSubsonic="true""#,
            " serverVersion=\"",
        ] {
            assert!(text.contains(attribute), "{attribute} in {text}");
        }
        assert!(text.ends_with("/>"), "{text}");
        let (ct, text) = body(
            &Format::Json,
            Err(Failure::new(Code::NotFound, "song not found")),
        );
        assert_eq!(ct, "application/json");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["subsonic-response"]["status"], "failed");
        assert_eq!(v["subsonic-response"]["error"]["code"], 70);
        let (ct, text) = body(&Format::Jsonp("cb.x".to_owned()), Ok(Reply::Empty));
        assert_eq!(ct, "text/javascript; charset=utf-8");
        assert!(text.starts_with("cb.x({\"subsonic-response\":") && text.ends_with("});"));
        assert!(Format::parse(Some("jsonp"), Some("alert(1)//")).is_err());
        assert!(Format::parse(Some("jsonp"), None).is_err());
        assert_eq!(Format::parse(None, None), Ok(Format::Xml));
    }
}
