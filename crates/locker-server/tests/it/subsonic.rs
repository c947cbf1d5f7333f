//! The OpenSubsonic API under `/rest`, over real HTTP against a real locker holding generated
//! music: every method in XML and JSON (the XML must say what the JSON says), the response shapes
//! the OpenSubsonic documentation requires, sign-in in every form and every refusal, per-account
//! isolation, and Subsonic edits reaching the change feed.

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use quick_xml::events::Event;
use serde_json::{Map, Value, json};
use skylark_locker::config::Config;
use skylark_testsupport::{Format, TagSpec, Tone, cover_jpeg, cover_png, write_audio};

use crate::{ALICE_PASSWORD, BOB_PASSWORD, Locker, get_json, post_json, upload};

/// One track of the fixture library: its id, file format and tags.
struct FixtureTrack {
    id: &'static str,
    format: Format,
    tags: TagSpec,
}

fn tags(title: &str, artist: &str, album: &str, track: u32, year: &str, genre: &str) -> TagSpec {
    TagSpec {
        title: Some(title.to_owned()),
        artists: vec![artist.to_owned()],
        album: Some(album.to_owned()),
        album_artist: Some(artist.to_owned()),
        track: Some((track, Some(11))),
        date: Some(year.to_owned()),
        genres: vec![genre.to_owned()],
        ..TagSpec::default()
    }
}

/// Alice's music: two songs of one album (in the wrong order on purpose), one of another, and a
/// third artist's song; two share a cover picture.
fn alice_tracks() -> Vec<FixtureTrack> {
    let red = cover_png(120, 80, [200, 20, 20]);
    vec![
        FixtureTrack {
            id: "t-hoppipolla",
            format: Format::Mp3,
            tags: TagSpec {
                cover: Some(red.clone()),
                lyrics: Some("[00:00.50]Brosandi\n[00:01.25]hendumst í hring".to_owned()),
                ..tags("Hoppípolla", "Sigur Rós", "Takk...", 3, "2005", "Post-Rock")
            },
        },
        FixtureTrack {
            id: "t-glosoli",
            format: Format::Flac,
            tags: TagSpec {
                cover: Some(red),
                lyrics: Some("Glósóli\n\nLíttu upp".to_owned()),
                ..tags("Glósóli", "Sigur Rós", "Takk...", 2, "2005", "Post-Rock")
            },
        },
        FixtureTrack {
            id: "t-hidden",
            format: Format::OggVorbis,
            tags: tags(
                "Hidden Place",
                "Björk",
                "Vespertine",
                1,
                "2001",
                "Electronic",
            ),
        },
        FixtureTrack {
            id: "t-ljosid",
            format: Format::M4aAac,
            tags: TagSpec {
                cover: Some(cover_jpeg(64, 64, [20, 20, 200])),
                ..tags(
                    "Ljósið",
                    "Ólafur Arnalds",
                    "...And They Have Escaped",
                    1,
                    "2010",
                    "Modern Classical",
                )
            },
        },
    ]
}

/// Bob's music: one song on an album named like Alice's.
fn bob_tracks() -> Vec<FixtureTrack> {
    vec![FixtureTrack {
        id: "b-song",
        format: Format::Opus,
        tags: tags("Bob's Song", "Sigur Rós", "Takk...", 1, "2005", "Post-Rock"),
    }]
}

/// A Subsonic app signed in as one account.
pub struct App {
    base: String,
    http: reqwest::Client,
    /// The account name.
    pub user: String,
    /// Its app password.
    pub password: String,
}

/// md5 of `text` in hex.
fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl App {
    /// The app of the account whose app password `password` is (as `app_password` returns it).
    pub fn of(locker: &Locker, password: &Value) -> App {
        App {
            base: locker.url(""),
            http: reqwest::Client::new(),
            user: password["username"].as_str().unwrap().to_owned(),
            password: password["password"].as_str().unwrap().to_owned(),
        }
    }

    /// Token authentication with a fresh salt, as apps send it.
    pub fn auth(&self) -> Vec<(String, String)> {
        let salt = format!("{:x}", rand_salt());
        vec![
            ("u".into(), self.user.clone()),
            ("t".into(), md5_hex(&format!("{}{salt}", self.password))),
            ("s".into(), salt),
            ("v".into(), "1.16.1".into()),
            ("c".into(), "skylark-tests".into()),
        ]
    }

    /// `GET /rest/METHOD.view` with `params` and `extra` (credentials, format).
    pub async fn raw(
        &self,
        method: &str,
        params: &[(&str, &str)],
        extra: &[(String, String)],
    ) -> reqwest::Response {
        let mut query: Vec<(String, String)> = extra.to_vec();
        query.extend(
            params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.http
            .get(format!("{}/rest/{method}.view", self.base))
            .query(&query)
            .send()
            .await
            .unwrap()
    }

    /// The `subsonic-response` of METHOD in JSON, signed in, whatever its status.
    pub async fn try_json(&self, method: &str, params: &[(&str, &str)]) -> Value {
        let mut extra = self.auth();
        extra.push(("f".into(), "json".into()));
        let response = self.raw(method, params, &extra).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let body: Value = response.json().await.unwrap();
        let envelope = body["subsonic-response"].clone();
        check_envelope(&envelope);
        envelope
    }

    /// METHOD in JSON and in XML: checks both say the same, and returns the JSON
    /// `subsonic-response`, which must be `ok`.
    pub async fn call(&self, method: &str, params: &[(&str, &str)]) -> Value {
        let json = self.try_json(method, params).await;
        assert_eq!(json["status"], "ok", "{method}: {json}");
        let response = self.raw(method, params, &self.auth()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/xml; charset=utf-8"
        );
        let xml = response.text().await.unwrap();
        let from_xml = xml_to_json(&xml);
        assert_eq!(
            from_xml["xmlns"], "http://subsonic.org/restapi",
            "{method}: {xml}"
        );
        let mut expected = normalize(&json);
        let mut got = from_xml;
        // Salted requests differ only in credentials; nothing in a response depends on them.
        if let (Value::Object(e), Value::Object(g)) = (&mut expected, &mut got) {
            g.remove("xmlns");
            e.remove("xmlns");
        }
        assert_eq!(
            got, expected,
            "{method}: the XML says something else than the JSON"
        );
        json
    }

    /// METHOD once, in JSON (for answers that differ each time, such as random lists): the `ok`
    /// `subsonic-response`.
    pub async fn call_json(&self, method: &str, params: &[(&str, &str)]) -> Value {
        let json = self.try_json(method, params).await;
        assert_eq!(json["status"], "ok", "{method}: {json}");
        json
    }

    /// An edit (not safe to send twice), once, in JSON: the `ok` `subsonic-response`.
    pub async fn edit(&self, method: &str, params: &[(&str, &str)]) -> Value {
        let json = self.try_json(method, params).await;
        assert_eq!(json["status"], "ok", "{method}: {json}");
        json
    }

    /// An edit, once, in XML: the response read as [`xml_to_json`] reads it, which must be `ok`.
    pub async fn edit_xml(&self, method: &str, params: &[(&str, &str)]) -> Value {
        let response = self.raw(method, params, &self.auth()).await;
        assert_eq!(
            response.headers()["content-type"],
            "text/xml; charset=utf-8"
        );
        let xml = xml_to_json(&response.text().await.unwrap());
        assert_eq!(xml["status"], "ok", "{method}: {xml}");
        xml
    }

    /// METHOD's error code in JSON, checking the XML answers it too.
    pub async fn error(&self, method: &str, params: &[(&str, &str)]) -> i64 {
        let json = self.try_json(method, params).await;
        assert_eq!(json["status"], "failed", "{method}: {json}");
        check_error(&json["error"]);
        let xml = self
            .raw(method, params, &self.auth())
            .await
            .text()
            .await
            .unwrap();
        let from_xml = xml_to_json(&xml);
        assert_eq!(from_xml["status"], "failed");
        assert_eq!(
            from_xml["error"][0]["code"].as_str().unwrap(),
            json["error"]["code"].to_string()
        );
        json["error"]["code"].as_i64().unwrap()
    }
}

fn rand_salt() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    u64::from_le_bytes(b)
}

/// Reads XML into the shape [`normalize`] gives JSON: attributes as strings, child elements as
/// arrays under their name, text as `value`.
fn xml_to_json(xml: &str) -> Value {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut root = None;
    let open = |e: &quick_xml::events::BytesStart<'_>| {
        let name = e.name().as_ref().to_owned();
        let mut map = Map::new();
        for attr in e.attributes() {
            let attr = attr.unwrap();
            let key = attr.key.as_ref().to_owned();
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .unwrap()
                .into_owned();
            map.insert(key, Value::String(value));
        }
        (name, map)
    };
    let close = |stack: &mut Vec<(String, Map<String, Value>)>, root: &mut Option<Value>| {
        let (name, map) = stack.pop().unwrap();
        match stack.last_mut() {
            Some((_, parent)) => parent
                .entry(name)
                .or_insert_with(|| Value::Array(Vec::new()))
                .as_array_mut()
                .unwrap()
                .push(Value::Object(map)),
            None => *root = Some(Value::Object(map)),
        }
    };
    let append_text = |stack: &mut Vec<(String, Map<String, Value>)>, text: &str| {
        if let Some((_, map)) = stack.last_mut() {
            let entry = map
                .entry("value")
                .or_insert_with(|| Value::String(String::new()));
            let joined = format!("{}{text}", entry.as_str().unwrap());
            *entry = Value::String(joined);
        }
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => stack.push(open(&e)),
            Event::Empty(e) => {
                stack.push(open(&e));
                close(&mut stack, &mut root);
            }
            Event::End(_) => close(&mut stack, &mut root),
            Event::Text(t) => {
                let text = t.xml10_content().into_owned();
                if !text.trim().is_empty() || stack.len() > 1 {
                    append_text(&mut stack, &text);
                }
            }
            Event::GeneralRef(r) => {
                let name: &str = r.as_ref();
                let text = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(name)
                        .unwrap()
                        .to_owned(),
                };
                append_text(&mut stack, &text);
            }
            Event::Eof => break,
            Event::Decl(_) => {}
            other => panic!("unexpected XML: {other:?}"),
        }
    }
    assert!(stack.is_empty(), "unclosed elements in {xml}");
    root.expect("an XML document")
}

/// JSON as [`xml_to_json`] reads the XML of the same response.
fn normalize(value: &Value) -> Value {
    let scalar = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                match v {
                    Value::Null => {}
                    // An element's empty text is no text in XML (an empty line of lyrics).
                    Value::String(text) if k == "value" && text.is_empty() => {}
                    Value::Object(_) => {
                        out.insert(k.clone(), Value::Array(vec![normalize(v)]));
                    }
                    Value::Array(items) if items.is_empty() => {}
                    Value::Array(items) => {
                        let items = items
                            .iter()
                            .map(|i| match i {
                                Value::Object(_) => normalize(i),
                                s => json!({"value": scalar(s)}),
                            })
                            .collect();
                        out.insert(k.clone(), Value::Array(items));
                    }
                    s => {
                        out.insert(k.clone(), Value::String(scalar(s)));
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

// The response shapes of the OpenSubsonic documentation ("Responses"): the fields it marks as
// required, with their types, and the optional ones this server sends.

fn is_int(v: &Value) -> bool {
    v.is_i64() || v.is_u64()
}

/// A field's name and the test its value must pass.
type FieldCheck<'a> = (&'a str, fn(&Value) -> bool);

fn require(v: &Value, what: &str, fields: &[FieldCheck<'_>]) {
    for (name, ok) in fields {
        assert!(ok(&v[*name]), "{what}.{name} is missing or mistyped in {v}");
    }
}

fn optional(v: &Value, what: &str, fields: &[FieldCheck<'_>]) {
    for (name, ok) in fields {
        if !v[*name].is_null() {
            assert!(ok(&v[*name]), "{what}.{name} is mistyped in {v}");
        }
    }
}

/// `subsonic-response`.
pub fn check_envelope(v: &Value) {
    require(
        v,
        "subsonic-response",
        &[
            ("status", |s| s == "ok" || s == "failed"),
            ("version", |s| s == "1.16.1"),
            ("type", |s| s == "skylark"),
            ("serverVersion", Value::is_string),
            ("openSubsonic", |b| b == true),
        ],
    );
}

fn check_error(v: &Value) {
    require(v, "error", &[("code", is_int)]);
    optional(v, "error", &[("message", Value::is_string)]);
}

/// `Child`.
pub fn check_child(v: &Value) {
    require(
        v,
        "Child",
        &[
            ("id", Value::is_string),
            ("isDir", |b| b == false),
            ("title", Value::is_string),
        ],
    );
    optional(
        v,
        "Child",
        &[
            ("parent", Value::is_string),
            ("album", Value::is_string),
            ("artist", Value::is_string),
            ("track", is_int),
            ("year", is_int),
            ("genre", Value::is_string),
            ("coverArt", Value::is_string),
            ("size", is_int),
            ("contentType", Value::is_string),
            ("suffix", Value::is_string),
            ("duration", is_int),
            ("bitRate", is_int),
            ("bitDepth", is_int),
            ("samplingRate", is_int),
            ("channelCount", is_int),
            ("isVideo", Value::is_boolean),
            ("userRating", is_int),
            ("playCount", is_int),
            ("discNumber", is_int),
            ("created", Value::is_string),
            ("starred", Value::is_string),
            ("albumId", Value::is_string),
            ("artistId", Value::is_string),
            ("type", |t| t == "music"),
            ("mediaType", |t| t == "song"),
            ("played", Value::is_string),
            ("genres", Value::is_array),
            ("artists", Value::is_array),
            ("albumArtists", Value::is_array),
            ("displayArtist", Value::is_string),
            ("displayAlbumArtist", Value::is_string),
            ("replayGain", Value::is_object),
        ],
    );
}

/// `AlbumID3` (and `AlbumID3WithSongs`).
pub fn check_album(v: &Value) {
    require(
        v,
        "AlbumID3",
        &[
            ("id", Value::is_string),
            ("name", Value::is_string),
            ("songCount", is_int),
            ("duration", is_int),
            ("created", Value::is_string),
        ],
    );
    optional(
        v,
        "AlbumID3",
        &[
            ("artist", Value::is_string),
            ("artistId", Value::is_string),
            ("coverArt", Value::is_string),
            ("playCount", is_int),
            ("starred", Value::is_string),
            ("year", is_int),
            ("genre", Value::is_string),
            ("played", Value::is_string),
            ("genres", Value::is_array),
            ("artists", Value::is_array),
            ("displayArtist", Value::is_string),
            ("sortName", Value::is_string),
            ("song", Value::is_array),
        ],
    );
    for song in v["song"].as_array().into_iter().flatten() {
        check_child(song);
    }
}

/// `ArtistID3` (and `ArtistWithAlbumsID3`).
pub fn check_artist(v: &Value) {
    require(
        v,
        "ArtistID3",
        &[("id", Value::is_string), ("name", Value::is_string)],
    );
    optional(
        v,
        "ArtistID3",
        &[
            ("coverArt", Value::is_string),
            ("albumCount", is_int),
            ("starred", Value::is_string),
            ("sortName", Value::is_string),
            ("album", Value::is_array),
        ],
    );
    for album in v["album"].as_array().into_iter().flatten() {
        check_album(album);
    }
}

/// `playlist` (and `playlistWithSongs`).
pub fn check_playlist(v: &Value) {
    require(
        v,
        "playlist",
        &[
            ("id", Value::is_string),
            ("name", Value::is_string),
            ("songCount", is_int),
            ("duration", is_int),
            ("created", Value::is_string),
            ("changed", Value::is_string),
        ],
    );
    optional(
        v,
        "playlist",
        &[
            ("owner", Value::is_string),
            ("public", Value::is_boolean),
            ("coverArt", Value::is_string),
            ("entry", Value::is_array),
        ],
    );
    for entry in v["entry"].as_array().into_iter().flatten() {
        check_child(entry);
    }
}

fn check_search_result(v: &Value) {
    for artist in v["artist"].as_array().into_iter().flatten() {
        check_artist(artist);
    }
    for album in v["album"].as_array().into_iter().flatten() {
        check_album(album);
    }
    for song in v["song"].as_array().into_iter().flatten() {
        check_child(song);
    }
}

/// A locker with Alice's and Bob's music uploaded and described by ops, as the desktop does, and
/// an app password for each.
pub struct Fixture {
    /// The locker.
    pub locker: Locker,
    /// Alice's app.
    pub alice: App,
    /// Bob's app.
    pub bob: App,
    /// Alice's bearer token.
    pub alice_token: String,
    /// Bob's bearer token.
    pub bob_token: String,
    /// Every uploaded file by track id.
    pub files: BTreeMap<&'static str, Vec<u8>>,
}

/// The catalog fields the desktop would send for `info`.
pub fn fields(info: &skylark_tags::FileInfo) -> Value {
    let t = &info.tags;
    let p = &info.properties;
    let mut f = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            f.insert(k.to_owned(), v);
        }
    };
    put("title", json!(t.title));
    put("artist", json!(t.artists.join(", ")));
    put("album", json!(t.album));
    put("album_artist", json!(t.album_artist));
    put("track_no", json!(t.track_no));
    put("disc_no", json!(t.disc_no));
    put("year", json!(t.year));
    put("genre", json!(t.genres.join(", ")));
    put("duration_ms", json!(p.duration.as_millis() as u64));
    put("bitrate_kbps", json!(p.bitrate_kbps));
    put("sample_rate", json!(p.sample_rate));
    put("channels", json!(p.channels));
    put("bit_depth", json!(p.bit_depth));
    put("codec", json!(p.codec.as_str()));
    Value::Object(f)
}

async fn load(
    locker: &Locker,
    token: &str,
    tracks: Vec<FixtureTrack>,
    files: &mut BTreeMap<&'static str, Vec<u8>>,
) {
    let mut ops = Vec::new();
    for (i, track) in tracks.into_iter().enumerate() {
        let path = locker
            .dir
            .path()
            .join(format!("{}.{}", track.id, track.format.extension()));
        let tone = Tone {
            seconds: 2.0 + i as f64,
            ..Tone::default()
        };
        write_audio(&path, track.format, &tone, &track.tags).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let blob = upload(locker, token, &bytes).await;
        let info =
            skylark_tags::read_path(&path, skylark_tags::ReadOptions { cover: false }).unwrap();
        ops.push(json!({
            "id": format!("desktop-{}", track.id),
            "hlc": {"wall_ms": 1_000 + i, "counter": 0, "device": "desktop"},
            "type": "track_set", "track": track.id, "blob": blob, "fields": fields(&info)
        }));
        files.insert(track.id, bytes);
    }
    let r = post_json(locker, token, "/api/v1/ops", &json!({ "ops": ops })).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// A new app password for the holder of `token`, over the API.
pub async fn app_password(locker: &Locker, token: &str) -> Value {
    let r = post_json(locker, token, "/api/v1/subsonic/password", &json!({})).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

impl Fixture {
    /// Starts the locker and loads both libraries.
    pub async fn start() -> Self {
        let locker = Locker::start(Config::default()).await;
        let alice_token = locker.login("alice", ALICE_PASSWORD).await;
        let bob_token = locker.login("bob", BOB_PASSWORD).await;
        let mut files = BTreeMap::new();
        load(&locker, &alice_token, alice_tracks(), &mut files).await;
        load(&locker, &bob_token, bob_tracks(), &mut files).await;
        let app = |p: Value| App::of(&locker, &p);
        let alice = app(app_password(&locker, &alice_token).await);
        let bob = app(app_password(&locker, &bob_token).await);
        Fixture {
            locker,
            alice,
            bob,
            alice_token,
            bob_token,
            files,
        }
    }
}

/// Sends one op as Alice's laptop, stamped after every edit of the tests.
async fn laptop_op(f: &Fixture, op: Value) {
    let mut op = op;
    op["id"] = json!(format!("laptop-{}", op["type"].as_str().unwrap()));
    op["hlc"] = json!({"wall_ms": 9_000_000_000_000i64, "counter": 0, "device": "laptop"});
    let r = post_json(
        &f.locker,
        &f.alice_token,
        "/api/v1/ops",
        &json!({ "ops": [op] }),
    )
    .await;
    assert_eq!(r.status(), 200);
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn browsing_lists_and_search_in_xml_and_json() {
    let f = Fixture::start().await;
    let app = &f.alice;

    app.call("ping", &[]).await;
    assert_eq!(app.call("getLicense", &[]).await["license"]["valid"], true);
    assert_eq!(
        app.call("tokenInfo", &[]).await["tokenInfo"]["username"],
        "alice"
    );
    let folders = app.call("getMusicFolders", &[]).await;
    let folder = &folders["musicFolders"]["musicFolder"][0];
    assert!(
        is_int(&folder["id"]) && folder["name"].is_string(),
        "{folders}"
    );

    // Artists, indexed by letter, sorted without diacritics getting in the way.
    let artists = app.call("getArtists", &[]).await["artists"].clone();
    assert!(artists["ignoredArticles"].is_string());
    let index = artists["index"].as_array().unwrap();
    assert_eq!(names(&artists["index"], "name"), ["B", "O", "S"]);
    let all: Vec<&Value> = index
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap())
        .collect();
    for a in &all {
        check_artist(a);
    }
    let sigur = all.iter().find(|a| a["name"] == "Sigur Rós").unwrap();
    assert_eq!(sigur["albumCount"], 1);
    let indexes = app.call("getIndexes", &[]).await["indexes"].clone();
    assert!(is_int(&indexes["lastModified"]) && indexes["ignoredArticles"].is_string());
    assert_eq!(names(&indexes["index"], "name"), ["B", "O", "S"]);
    let last_modified = indexes["lastModified"].as_i64().unwrap().to_string();
    let unchanged = app
        .call("getIndexes", &[("ifModifiedSince", &last_modified)])
        .await;
    assert!(unchanged["indexes"]["index"].as_array().unwrap().is_empty());

    let artist = app
        .call("getArtist", &[("id", sigur["id"].as_str().unwrap())])
        .await["artist"]
        .clone();
    check_artist(&artist);
    assert_eq!(names(&artist["album"], "name"), ["Takk..."]);

    // The album: its songs in track order, with what the tags and the file say.
    let album_id = artist["album"][0]["id"].as_str().unwrap().to_owned();
    let album = app.call("getAlbum", &[("id", &album_id)]).await["album"].clone();
    check_album(&album);
    assert_eq!(names(&album["song"], "title"), ["Glósóli", "Hoppípolla"]);
    assert_eq!(album["songCount"], 2);
    assert_eq!(album["year"], 2005);
    assert_eq!(album["genre"], "Post-Rock");
    assert_eq!(album["artist"], "Sigur Rós");
    assert!(album["coverArt"].is_string());
    let glosoli = &album["song"][0];
    assert_eq!(glosoli["id"], "t-glosoli");
    assert_eq!(glosoli["track"], 2);
    assert_eq!(glosoli["suffix"], "flac");
    assert_eq!(glosoli["contentType"], "audio/flac");
    assert_eq!(glosoli["size"], f.files["t-glosoli"].len());
    assert_eq!(glosoli["albumId"], album_id.as_str());
    assert_eq!(glosoli["artistId"], sigur["id"]);
    assert_eq!(glosoli["duration"], 3, "{glosoli}");
    assert_eq!(glosoli["samplingRate"], 44_100);
    assert_eq!(album["song"][1]["suffix"], "mp3");
    assert_eq!(
        album["song"][1]["coverArt"], glosoli["coverArt"],
        "one picture"
    );

    let song = app.call("getSong", &[("id", "t-hidden")]).await["song"].clone();
    check_child(&song);
    assert_eq!(
        (
            &song["title"],
            &song["artist"],
            &song["album"],
            &song["suffix"]
        ),
        (
            &json!("Hidden Place"),
            &json!("Björk"),
            &json!("Vespertine"),
            &json!("ogg")
        )
    );

    // Album lists.
    let list = |v: Value| {
        let albums = v["albumList2"]["album"].clone();
        for a in albums.as_array().unwrap() {
            check_album(a);
        }
        names(&albums, "name")
    };
    assert_eq!(
        list(
            app.call(
                "getAlbumList2",
                &[("type", "alphabeticalByName"), ("size", "10")]
            )
            .await
        ),
        ["...And They Have Escaped", "Takk...", "Vespertine"]
    );
    assert_eq!(
        list(
            app.call("getAlbumList2", &[("type", "alphabeticalByArtist")])
                .await
        ),
        ["Vespertine", "...And They Have Escaped", "Takk..."]
    );
    assert_eq!(
        list(
            app.call(
                "getAlbumList2",
                &[("type", "byYear"), ("fromYear", "2010"), ("toYear", "2000")]
            )
            .await
        ),
        ["...And They Have Escaped", "Takk...", "Vespertine"]
    );
    assert_eq!(
        list(
            app.call(
                "getAlbumList2",
                &[("type", "byGenre"), ("genre", "electronic")]
            )
            .await
        ),
        ["Vespertine"]
    );
    assert_eq!(
        list(
            app.call("getAlbumList2", &[("type", "newest"), ("size", "1")])
                .await
        )
        .len(),
        1
    );
    let mut random = list(app.call_json("getAlbumList2", &[("type", "random")]).await);
    random.sort();
    assert_eq!(
        random,
        ["...And They Have Escaped", "Takk...", "Vespertine"]
    );
    assert_eq!(
        list(
            app.call(
                "getAlbumList2",
                &[("type", "alphabeticalByName"), ("offset", "2")]
            )
            .await
        ),
        ["Vespertine"]
    );
    for kind in ["frequent", "recent", "starred", "highest"] {
        assert!(
            list(app.call("getAlbumList2", &[("type", kind)]).await).is_empty(),
            "{kind}: nothing played, starred or rated yet"
        );
    }
    assert_eq!(app.error("getAlbumList2", &[]).await, 10);
    assert_eq!(app.error("getAlbumList2", &[("type", "byYear")]).await, 10);
    assert_eq!(app.error("getAlbumList2", &[("type", "sideways")]).await, 0);

    let random = app.call_json("getRandomSongs", &[("size", "3")]).await;
    assert_eq!(random["randomSongs"]["song"].as_array().unwrap().len(), 3);
    let by_genre = app
        .call_json("getRandomSongs", &[("genre", "Post-Rock"), ("size", "10")])
        .await;
    let mut titles = names(&by_genre["randomSongs"]["song"], "title");
    titles.sort();
    assert_eq!(titles, ["Glósóli", "Hoppípolla"]);

    // Search folds case and diacritics and matches word prefixes.
    let search = |v: Value| {
        let r = v["searchResult3"].clone();
        check_search_result(&r);
        r
    };
    let r = search(app.call("search3", &[("query", "sig ros")]).await);
    assert_eq!(names(&r["artist"], "name"), ["Sigur Rós"]);
    assert_eq!(names(&r["album"], "name"), ["Takk..."]);
    assert_eq!(names(&r["song"], "title"), ["Glósóli", "Hoppípolla"]);
    let r = search(app.call("search3", &[("query", "bjork")]).await);
    assert_eq!(names(&r["song"], "title"), ["Hidden Place"]);
    let r = search(app.call("search3", &[("query", "HOPPI")]).await);
    assert_eq!(names(&r["song"], "title"), ["Hoppípolla"]);
    assert!(r["artist"].as_array().is_none_or(Vec::is_empty));
    // An empty query lists everything, in pages.
    let r = search(
        app.call("search3", &[("query", "\"\""), ("songCount", "3")])
            .await,
    );
    assert_eq!(r["song"].as_array().unwrap().len(), 3);
    let r = search(
        app.call("search3", &[("query", ""), ("songOffset", "3")])
            .await,
    );
    assert_eq!(r["song"].as_array().unwrap().len(), 1);
    assert_eq!(app.error("search3", &[]).await, 10);

    // The same through /rest/NAME (no .view) and a form POST, as the formPost extension allows.
    let mut form = app.auth();
    form.push(("f".into(), "json".into()));
    form.push(("id".into(), "t-hidden".into()));
    let posted: Value = f
        .locker
        .http
        .post(f.locker.url("/rest/getSong"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(posted["subsonic-response"]["song"]["title"], "Hidden Place");
    assert_eq!(app.error("getSong", &[("id", "no-such-song")]).await, 70);
    assert_eq!(app.error("getSong", &[]).await, 10);
    // A method the locker does not offer.
    assert_eq!(app.error("getPodcasts", &[]).await, 0);
    f.locker.stop().await;
}

#[tokio::test]
async fn extensions_need_no_sign_in_and_jsonp_wraps_the_json() {
    let f = Fixture::start().await;
    let r: Value = f
        .locker
        .http
        .get(f.locker.url("/rest/getOpenSubsonicExtensions?f=json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let envelope = &r["subsonic-response"];
    check_envelope(envelope);
    let extensions = envelope["openSubsonicExtensions"].as_array().unwrap();
    for e in extensions {
        assert!(e["name"].is_string() && e["versions"].as_array().unwrap().iter().all(is_int));
    }
    assert_eq!(
        names(&envelope["openSubsonicExtensions"], "name"),
        [
            "apiKeyAuthentication",
            "formPost",
            "indexBasedQueue",
            "songLyrics"
        ]
    );
    // The XML says the same.
    f.alice.call("getOpenSubsonicExtensions", &[]).await;
    let mut extra = f.alice.auth();
    extra.push(("f".into(), "jsonp".into()));
    extra.push(("callback".into(), "handle".into()));
    let r = f.alice.raw("ping", &[], &extra).await;
    assert_eq!(
        r.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let text = r.text().await.unwrap();
    let inner = text
        .strip_prefix("handle(")
        .and_then(|t| t.strip_suffix(");"))
        .unwrap();
    let v: Value = serde_json::from_str(inner).unwrap();
    assert_eq!(v["subsonic-response"]["status"], "ok");
    f.locker.stop().await;
}

#[tokio::test]
async fn stream_download_and_cover_art() {
    let f = Fixture::start().await;
    let app = &f.alice;
    let auth = app.auth();
    let flac = &f.files["t-glosoli"];
    // The whole file, whatever format or bitrate is asked for: the locker does not transcode.
    for params in [
        vec![("id", "t-glosoli")],
        vec![("id", "t-glosoli"), ("format", "raw")],
        vec![
            ("id", "t-glosoli"),
            ("maxBitRate", "128"),
            ("format", "mp3"),
        ],
    ] {
        let r = app.raw("stream", &params, &auth).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "audio/flac");
        assert_eq!(r.headers()["accept-ranges"], "bytes");
        assert_eq!(r.bytes().await.unwrap().as_ref(), flac.as_slice());
    }
    // Seeking: a range.
    let r = f
        .locker
        .http
        .get(f.locker.url("/rest/stream"))
        .query(&auth)
        .query(&[("id", "t-glosoli")])
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 100-199/{}", flac.len()).as_str()
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &flac[100..200]);
    // A download is the same file, named.
    let r = app.raw("download", &[("id", "t-hoppipolla")], &auth).await;
    assert_eq!(r.status(), 200);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("Hopp%C3%ADpolla.mp3"),
        "{disposition}"
    );
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        f.files["t-hoppipolla"].as_slice()
    );
    // An unknown song is a Subsonic error, in the format asked for.
    let mut json_auth = auth.clone();
    json_auth.push(("f".into(), "json".into()));
    let r: Value = app
        .raw("stream", &[("id", "nope")], &json_auth)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["subsonic-response"]["error"]["code"], 70);

    // Cover art: the picture in the file, by its cover art id or the song's, album's or artist's.
    let song = app.call("getSong", &[("id", "t-glosoli")]).await["song"].clone();
    let cover_id = song["coverArt"].as_str().unwrap().to_owned();
    let artist_id = song["artistId"].as_str().unwrap().to_owned();
    let album_id = song["albumId"].as_str().unwrap().to_owned();
    let red = cover_png(120, 80, [200, 20, 20]);
    for id in [cover_id.as_str(), "t-glosoli", &album_id, &artist_id] {
        let r = app.raw("getCoverArt", &[("id", id)], &auth).await;
        assert_eq!(r.status(), 200, "{id}");
        assert_eq!(r.headers()["content-type"], "image/png", "{id}");
        assert_eq!(
            r.bytes().await.unwrap().as_ref(),
            red.bytes.as_slice(),
            "{id}"
        );
    }
    // Scaled to fit the size asked for, keeping proportions.
    let r = app
        .raw("getCoverArt", &[("id", &cover_id), ("size", "60")], &auth)
        .await;
    assert_eq!(r.headers()["content-type"], "image/png");
    let small = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (60, 40));
    let jpeg_cover = app.call("getSong", &[("id", "t-ljosid")]).await["song"]["coverArt"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .raw("getCoverArt", &[("id", &jpeg_cover), ("size", "16")], &auth)
        .await;
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let small = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (16, 16));
    // A song without a cover has none.
    assert_eq!(app.error("getCoverArt", &[("id", "t-hidden")]).await, 70);
    f.locker.stop().await;
}

#[tokio::test]
async fn every_way_to_sign_in_and_every_refusal() {
    let f = Fixture::start().await;
    let app = &f.alice;
    let base = [("v", "1.16.1"), ("c", "t"), ("f", "json")];
    let code = |pairs: Vec<(&'static str, String)>| {
        let url = f.locker.url("/rest/ping.view");
        let http = f.locker.http.clone();
        async move {
            let mut q: Vec<(String, String)> = base
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            q.extend(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)));
            let v: Value = http
                .get(url)
                .query(&q)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let r = v["subsonic-response"].clone();
            check_envelope(&r);
            if r["status"] == "ok" {
                None
            } else {
                check_error(&r["error"]);
                Some(r["error"]["code"].as_i64().unwrap())
            }
        }
    };
    let pw = app.password.clone();
    let token = md5_hex(&format!("{pw}pepper"));
    let hex: String = pw.bytes().map(|b| format!("{b:02x}")).collect();
    // The app password, as a token, in clear, and hex-encoded.
    assert_eq!(
        code(vec![
            ("u", "alice".into()),
            ("t", token.clone()),
            ("s", "pepper".into())
        ])
        .await,
        None
    );
    assert_eq!(
        code(vec![("u", "alice".into()), ("p", pw.clone())]).await,
        None
    );
    assert_eq!(
        code(vec![("u", "alice".into()), ("p", format!("enc:{hex}"))]).await,
        None
    );
    // Refusals: the account password is not the app password; wrong tokens; unknown accounts.
    assert_eq!(
        code(vec![("u", "alice".into()), ("p", ALICE_PASSWORD.into())]).await,
        Some(40)
    );
    assert_eq!(
        code(vec![
            ("u", "alice".into()),
            ("t", token.clone()),
            ("s", "salt".into())
        ])
        .await,
        Some(40)
    );
    assert_eq!(
        code(vec![
            ("u", "bob".into()),
            ("t", token.clone()),
            ("s", "pepper".into())
        ])
        .await,
        Some(40)
    );
    assert_eq!(
        code(vec![("u", "nobody".into()), ("p", pw.clone())]).await,
        Some(40)
    );
    // Missing and conflicting parameters.
    assert_eq!(code(vec![]).await, Some(10));
    assert_eq!(code(vec![("u", "alice".into())]).await, Some(10));
    assert_eq!(
        code(vec![("u", "alice".into()), ("t", token.clone())]).await,
        Some(10)
    );
    assert_eq!(
        code(vec![
            ("u", "alice".into()),
            ("p", pw.clone()),
            ("t", token.clone()),
            ("s", "pepper".into())
        ])
        .await,
        Some(43)
    );

    // API keys: made, listed and revoked over the API; `u` beside one is an error 43.
    let made = post_json(
        &f.locker,
        &f.alice_token,
        "/api/v1/subsonic/api-keys",
        &json!({"label": "car"}),
    )
    .await;
    assert_eq!(made.status(), 201);
    let made: Value = made.json().await.unwrap();
    let key = made["key"].as_str().unwrap().to_owned();
    assert_eq!(code(vec![("apiKey", key.clone())]).await, None);
    let info: Value = f
        .locker
        .http
        .get(f.locker.url("/rest/tokenInfo"))
        .query(&[("apiKey", key.as_str()), ("f", "json")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["subsonic-response"]["tokenInfo"]["username"], "alice");
    assert_eq!(
        code(vec![("apiKey", key.clone()), ("u", "alice".into())]).await,
        Some(43)
    );
    assert_eq!(
        code(vec![("apiKey", key.clone()), ("p", pw.clone())]).await,
        Some(43)
    );
    assert_eq!(code(vec![("apiKey", "not a key".into())]).await, Some(44));
    let keys = get_json(&f.locker, &f.alice_token, "/api/v1/subsonic/api-keys").await;
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert_eq!(keys[0]["label"], "car");
    assert!(keys[0]["last_used_at"].is_i64());
    assert!(keys[0].get("key").is_none(), "the key is shown once");
    let id = keys[0]["id"].as_str().unwrap();
    // Bob cannot revoke Alice's key.
    let r = f
        .locker
        .http
        .delete(f.locker.url(&format!("/api/v1/subsonic/api-keys/{id}")))
        .bearer_auth(&f.bob_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(code(vec![("apiKey", key.clone())]).await, None);
    let r = f
        .locker
        .http
        .delete(f.locker.url(&format!("/api/v1/subsonic/api-keys/{id}")))
        .bearer_auth(&f.alice_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(code(vec![("apiKey", key)]).await, Some(44));

    // A new app password replaces the old one.
    let second = app_password(&f.locker, &f.alice_token).await;
    assert_eq!(second["username"], "alice");
    let second = second["password"].as_str().unwrap().to_owned();
    assert_ne!(second, pw);
    assert_eq!(
        code(vec![("u", "alice".into()), ("p", pw.clone())]).await,
        Some(40)
    );
    assert_eq!(
        code(vec![("u", "alice".into()), ("p", second.clone())]).await,
        None
    );
    // And removing it signs the apps out.
    let r = f
        .locker
        .http
        .delete(f.locker.url("/api/v1/subsonic/password"))
        .bearer_auth(&f.alice_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        code(vec![("u", "alice".into()), ("p", second)]).await,
        Some(40)
    );
    // Managing credentials takes a signed-in session.
    let r = f
        .locker
        .http
        .post(f.locker.url("/api/v1/subsonic/password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Failures are rate limited like sign-ins: after the limit, even the right password waits.
    let bob_pw = f.bob.password.clone();
    for _ in 0..Config::default().login_attempts {
        code(vec![("u", "bob".into()), ("p", "wrong".into())]).await;
    }
    assert_eq!(
        code(vec![("u", "bob".into()), ("p", bob_pw)]).await,
        Some(0)
    );
    f.locker.stop().await;
}

#[tokio::test]
async fn another_accounts_ids_answer_not_found() {
    let f = Fixture::start().await;
    let (alice, bob) = (&f.alice, &f.bob);
    let song = alice.call("getSong", &[("id", "t-glosoli")]).await["song"].clone();
    let album_id = song["albumId"].as_str().unwrap();
    let artist_id = song["artistId"].as_str().unwrap();
    let cover_id = song["coverArt"].as_str().unwrap();
    let made = alice
        .edit(
            "createPlaylist",
            &[("name", "Alice's"), ("songId", "t-glosoli")],
        )
        .await;
    let playlist_id = made["playlist"]["id"].as_str().unwrap();

    // Bob has an album and an artist with the same names, under other ids.
    let bobs = bob.call("getSong", &[("id", "b-song")]).await["song"].clone();
    assert_eq!(bobs["album"], "Takk...");
    assert_ne!(bobs["albumId"].as_str().unwrap(), album_id);
    assert_ne!(bobs["artistId"].as_str().unwrap(), artist_id);

    for (method, params) in [
        ("getSong", vec![("id", "t-glosoli")]),
        ("getAlbum", vec![("id", album_id)]),
        ("getArtist", vec![("id", artist_id)]),
        ("getPlaylist", vec![("id", playlist_id)]),
        ("getCoverArt", vec![("id", cover_id)]),
        ("getCoverArt", vec![("id", "t-glosoli")]),
        ("stream", vec![("id", "t-glosoli")]),
        ("download", vec![("id", "t-glosoli")]),
        ("scrobble", vec![("id", "t-glosoli")]),
        ("star", vec![("id", "t-glosoli")]),
        ("star", vec![("albumId", album_id)]),
        ("unstar", vec![("artistId", artist_id)]),
        (
            "updatePlaylist",
            vec![("playlistId", playlist_id), ("name", "Bob's now")],
        ),
        ("deletePlaylist", vec![("id", playlist_id)]),
        ("createPlaylist", vec![("playlistId", playlist_id)]),
        (
            "createPlaylist",
            vec![("name", "Mine"), ("songId", "t-glosoli")],
        ),
    ] {
        assert_eq!(bob.error(method, &params).await, 70, "{method} {params:?}");
    }
    assert_eq!(
        bob.error("getPlaylists", &[("username", "alice")]).await,
        50
    );
    // Nothing of Alice's shows in Bob's lists, and nothing of hers changed.
    let artists = bob.call("getArtists", &[]).await;
    assert!(!artists.to_string().contains("Björk"));
    let search = bob.call("search3", &[("query", "")]).await["searchResult3"].clone();
    assert_eq!(names(&search["song"], "title"), ["Bob's Song"]);
    assert!(
        bob.call("getPlaylists", &[]).await["playlists"]["playlist"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    let still = alice.call("getPlaylist", &[("id", playlist_id)]).await["playlist"].clone();
    assert_eq!(still["name"], "Alice's");
    assert_eq!(names(&still["entry"], "id"), ["t-glosoli"]);
    assert_eq!(
        alice.call("getSong", &[("id", "t-glosoli")]).await["song"]["playCount"],
        0
    );
    f.locker.stop().await;
}

/// The change feed of the holder of `token`, after `since`.
async fn feed(locker: &Locker, token: &str, since: i64) -> Vec<Value> {
    get_json(locker, token, &format!("/api/v1/changes?since={since}")).await["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["op"].clone())
        .collect()
}

#[tokio::test]
async fn playlists_made_through_subsonic_reach_the_change_feed() {
    let f = Fixture::start().await;
    let app = &f.alice;
    let since = get_json(&f.locker, &f.alice_token, "/api/v1/changes").await["next"]
        .as_i64()
        .unwrap();
    let made = app
        .edit(
            "createPlaylist",
            &[
                ("name", "Road trip"),
                ("songId", "t-hidden"),
                ("songId", "t-glosoli"),
                ("songId", "t-hidden"),
            ],
        )
        .await["playlist"]
        .clone();
    check_playlist(&made);
    assert_eq!(made["name"], "Road trip");
    assert_eq!(made["owner"], "alice");
    assert_eq!(
        names(&made["entry"], "id"),
        ["t-hidden", "t-glosoli", "t-hidden"]
    );
    assert_eq!(made["songCount"], 3);
    // The fixture's tones last 2, 3, 4 and 5 s in track order: Hidden Place 4 s, Glósóli 3 s.
    assert_eq!(made["duration"], 4 + 3 + 4, "{made}");
    let id = made["id"].as_str().unwrap().to_owned();

    // The desktop sees it through the change feed: the playlist, then its entries in order.
    let ops = feed(&f.locker, &f.alice_token, since).await;
    assert_eq!(ops[0]["type"], "playlist_set");
    assert_eq!(ops[0]["playlist"], id.as_str());
    assert_eq!(ops[0]["name"], "Road trip");
    let items: Vec<&Value> = ops
        .iter()
        .filter(|o| o["type"] == "playlist_item_set")
        .collect();
    assert_eq!(items.len(), 3);
    let keys: Vec<&str> = items
        .iter()
        .map(|o| o["order_key"].as_str().unwrap())
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    assert_eq!(
        items
            .iter()
            .map(|o| o["track"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["t-hidden", "t-glosoli", "t-hidden"]
    );
    let (conn, user) = crate::ops::user(&f.locker, "alice");
    let entries = skylark_locker::catalog::playlist_entries(&conn, user, &id).unwrap();
    assert_eq!(
        entries.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
        ["t-hidden", "t-glosoli", "t-hidden"]
    );

    // A device renamed it with its clock far ahead; a Subsonic rename still wins, because the
    // server stamps its edits after what it has seen.
    let ahead = json!({"ops": [{"id": "desk-rename", "hlc": {"wall_ms": 9_000_000_000_000i64, "counter": 0, "device": "laptop"},
        "type": "playlist_set", "playlist": id, "name": "Laptop's name"}]});
    assert_eq!(
        post_json(&f.locker, &f.alice_token, "/api/v1/ops", &ahead)
            .await
            .status(),
        200
    );
    let since = get_json(
        &f.locker,
        &f.alice_token,
        &format!("/api/v1/changes?since={since}"),
    )
    .await["next"]
        .as_i64()
        .unwrap();
    // Rename, remove the first and third songs, append one.
    app.edit(
        "updatePlaylist",
        &[
            ("playlistId", &id),
            ("name", "Road trip 2"),
            ("songIndexToRemove", "0"),
            ("songIndexToRemove", "2"),
            ("songIdToAdd", "t-ljosid"),
            ("comment", "ignored"),
        ],
    )
    .await;
    let now = app.call("getPlaylist", &[("id", &id)]).await["playlist"].clone();
    check_playlist(&now);
    assert_eq!(now["name"], "Road trip 2");
    assert_eq!(names(&now["entry"], "id"), ["t-glosoli", "t-ljosid"]);
    let ops = feed(&f.locker, &f.alice_token, since).await;
    let kinds: Vec<&str> = ops.iter().map(|o| o["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "playlist_set",
            "playlist_item_remove",
            "playlist_item_remove",
            "playlist_item_set"
        ]
    );
    assert!(ops[0]["hlc"]["wall_ms"].as_i64().unwrap() >= 9_000_000_000_000);
    assert!(ops.iter().all(|o| o["hlc"]["device"] == "subsonic"));
    assert_eq!(
        app.error(
            "updatePlaylist",
            &[("playlistId", &id), ("songIndexToRemove", "7")]
        )
        .await,
        0
    );
    assert_eq!(
        app.error(
            "updatePlaylist",
            &[("playlistId", &id), ("songIdToAdd", "nope")]
        )
        .await,
        70
    );

    // createPlaylist with an id replaces the songs.
    let replaced = app
        .edit(
            "createPlaylist",
            &[("playlistId", &id), ("songId", "t-hoppipolla")],
        )
        .await["playlist"]
        .clone();
    assert_eq!(names(&replaced["entry"], "id"), ["t-hoppipolla"]);
    let lists = app.call("getPlaylists", &[]).await["playlists"]["playlist"].clone();
    for p in lists.as_array().unwrap() {
        check_playlist(p);
    }
    assert_eq!(names(&lists, "name"), ["Road trip 2"]);
    assert_eq!(lists[0]["songCount"], 1);

    // Deleting it is an op too, and it is gone.
    let since = get_json(
        &f.locker,
        &f.alice_token,
        &format!("/api/v1/changes?since={since}"),
    )
    .await["next"]
        .as_i64()
        .unwrap();
    app.edit_xml("deletePlaylist", &[("id", &id)]).await;
    let ops = feed(&f.locker, &f.alice_token, since).await;
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["type"], "playlist_delete");
    assert_eq!(app.error("getPlaylist", &[("id", &id)]).await, 70);
    assert!(
        app.call("getPlaylists", &[]).await["playlists"]["playlist"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    assert_eq!(app.error("createPlaylist", &[]).await, 10);
    assert_eq!(app.error("deletePlaylist", &[]).await, 10);
    f.locker.stop().await;
}

#[tokio::test]
async fn plays_and_stars_are_ops_in_the_change_feed() {
    let f = Fixture::start().await;
    let app = &f.alice;
    let since = get_json(&f.locker, &f.alice_token, "/api/v1/changes").await["next"]
        .as_i64()
        .unwrap();
    // Two scrobbles with times, one retried; a "now playing" notice is not a play.
    app.edit("scrobble", &[("id", "t-hidden"), ("time", "1700000000000")])
        .await;
    app.edit_xml("scrobble", &[("id", "t-hidden"), ("time", "1700000000000")])
        .await;
    app.edit(
        "scrobble",
        &[
            ("id", "t-hidden"),
            ("time", "1700000300000"),
            ("submission", "true"),
        ],
    )
    .await;
    app.edit("scrobble", &[("id", "t-glosoli"), ("submission", "false")])
        .await;
    let ops = feed(&f.locker, &f.alice_token, since).await;
    let plays: Vec<&Value> = ops.iter().filter(|o| o["type"] == "play").collect();
    assert_eq!(plays.len(), 2, "{ops:?}");
    assert_eq!(plays[0]["track"], "t-hidden");
    assert_eq!(plays[0]["at"], 1_700_000_000_000i64);
    let song = app.call("getSong", &[("id", "t-hidden")]).await["song"].clone();
    assert_eq!(song["playCount"], 2);
    assert_eq!(song["played"], "2023-11-14T22:18:20.000Z");
    assert_eq!(
        app.call("getSong", &[("id", "t-glosoli")]).await["song"]["playCount"],
        0
    );
    let frequent = app.call("getAlbumList2", &[("type", "frequent")]).await;
    assert_eq!(
        names(&frequent["albumList2"]["album"], "name"),
        ["Vespertine"]
    );
    let recent = app.call("getAlbumList2", &[("type", "recent")]).await;
    assert_eq!(
        names(&recent["albumList2"]["album"], "name"),
        ["Vespertine"]
    );

    // Stars: a song, an album and an artist.
    let song = app.call("getSong", &[("id", "t-glosoli")]).await["song"].clone();
    let since = get_json(
        &f.locker,
        &f.alice_token,
        &format!("/api/v1/changes?since={since}"),
    )
    .await["next"]
        .as_i64()
        .unwrap();
    let bjork = app.call("getSong", &[("id", "t-hidden")]).await["song"]["artistId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.edit(
        "star",
        &[
            ("id", "t-glosoli"),
            ("albumId", song["albumId"].as_str().unwrap()),
            ("artistId", &bjork),
        ],
    )
    .await;
    let ops = feed(&f.locker, &f.alice_token, since).await;
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[0]["type"], "track_set");
    assert_eq!(ops[0]["track"], "t-glosoli");
    assert_eq!(ops[0]["fields"], json!({"loved": true}));
    assert_eq!(ops[1]["type"], "love");
    assert_eq!(
        ops[1]["target"],
        json!({"kind": "album", "album_artist": "Sigur Rós", "album": "Takk..."})
    );
    assert_eq!(
        ops[2]["target"],
        json!({"kind": "artist", "artist": "Björk"})
    );
    let starred = app.call("getStarred2", &[]).await["starred2"].clone();
    check_search_result(&starred);
    assert_eq!(names(&starred["song"], "title"), ["Glósóli"]);
    assert_eq!(names(&starred["album"], "name"), ["Takk..."]);
    assert_eq!(names(&starred["artist"], "name"), ["Björk"]);
    assert!(starred["song"][0]["starred"].is_string());
    let listed = app.call("getAlbumList2", &[("type", "starred")]).await;
    assert_eq!(names(&listed["albumList2"]["album"], "name"), ["Takk..."]);
    // The desktop's own love of another song arrives as the same field.
    let desk = json!({"ops": [{"id": "desk-love", "hlc": {"wall_ms": 5, "counter": 0, "device": "laptop"},
        "type": "track_set", "track": "t-ljosid", "fields": {"loved": true}}]});
    assert_eq!(
        post_json(&f.locker, &f.alice_token, "/api/v1/ops", &desk)
            .await
            .status(),
        200
    );
    let starred = app.call("getStarred2", &[]).await["starred2"].clone();
    assert_eq!(names(&starred["song"], "title"), ["Glósóli", "Ljósið"]);
    // Unstarring, including with an album id given as `id`, as older apps send.
    app.edit_xml(
        "unstar",
        &[
            ("id", "t-glosoli"),
            ("id", song["albumId"].as_str().unwrap()),
            ("artistId", &bjork),
        ],
    )
    .await;
    let starred = app.call("getStarred2", &[]).await["starred2"].clone();
    assert_eq!(names(&starred["song"], "title"), ["Ljósið"]);
    assert!(starred["album"].as_array().is_none_or(Vec::is_empty));
    assert!(starred["artist"].as_array().is_none_or(Vec::is_empty));
    assert_eq!(app.error("star", &[]).await, 10);
    assert_eq!(app.error("scrobble", &[]).await, 10);
    f.locker.stop().await;
}

/// `Child` for a directory (an album, when browsing by folders).
fn check_dir(v: &Value) {
    require(
        v,
        "Child (directory)",
        &[
            ("id", Value::is_string),
            ("isDir", |b| b == true),
            ("title", Value::is_string),
            // What the `Album` shape requires, as some apps read `getAlbumList`.
            ("name", Value::is_string),
            ("songCount", is_int),
            ("duration", is_int),
            ("created", Value::is_string),
        ],
    );
    optional(
        v,
        "Child (directory)",
        &[
            ("parent", Value::is_string),
            ("album", Value::is_string),
            ("artist", Value::is_string),
            ("year", is_int),
            ("genre", Value::is_string),
            ("coverArt", Value::is_string),
            ("playCount", is_int),
            ("starred", Value::is_string),
            ("artistId", Value::is_string),
            ("mediaType", |t| t == "album"),
            ("played", Value::is_string),
        ],
    );
}

/// `searchResult2` and `starred`: artists as `getIndexes` lists them, albums as directories.
fn check_search_result2(v: &Value) {
    for artist in v["artist"].as_array().into_iter().flatten() {
        require(
            artist,
            "Artist",
            &[("id", Value::is_string), ("name", Value::is_string)],
        );
    }
    for album in v["album"].as_array().into_iter().flatten() {
        check_dir(album);
    }
    for song in v["song"].as_array().into_iter().flatten() {
        check_child(song);
    }
}

#[tokio::test]
async fn folder_browsing_genres_top_songs_the_user_and_ratings() {
    let f = Fixture::start().await;
    let app = &f.alice;

    // Folder browsing, as older apps do it: an artist from getIndexes holds its albums, and an
    // album its songs in order.
    let indexes = app.call("getIndexes", &[]).await["indexes"].clone();
    let sigur = indexes["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap())
        .find(|a| a["name"] == "Sigur Rós")
        .unwrap()
        .clone();
    let sigur_id = sigur["id"].as_str().unwrap();
    let dir = app.call("getMusicDirectory", &[("id", sigur_id)]).await["directory"].clone();
    assert_eq!(
        (&dir["id"], &dir["name"]),
        (&sigur["id"], &json!("Sigur Rós"))
    );
    for album in dir["child"].as_array().unwrap() {
        check_dir(album);
    }
    assert_eq!(names(&dir["child"], "title"), ["Takk..."]);
    let takk = &dir["child"][0];
    assert_eq!(takk["parent"], sigur["id"]);
    assert_eq!(
        (&takk["year"], &takk["genre"]),
        (&json!(2005), &json!("Post-Rock"))
    );
    assert!(takk["coverArt"].is_string());
    let album = app
        .call("getMusicDirectory", &[("id", takk["id"].as_str().unwrap())])
        .await["directory"]
        .clone();
    assert_eq!(album["name"], "Takk...");
    assert_eq!(album["parent"], sigur["id"]);
    for song in album["child"].as_array().unwrap() {
        check_child(song);
    }
    assert_eq!(names(&album["child"], "title"), ["Glósóli", "Hoppípolla"]);
    assert_eq!(
        app.error("getMusicDirectory", &[("id", "t-hidden")]).await,
        70
    );
    assert_eq!(app.error("getMusicDirectory", &[]).await, 10);
    // Bob's album of the same name is his: its id is nothing to Alice.
    let bobs =
        f.bob.call("getAlbumList", &[("type", "newest")]).await["albumList"]["album"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_ne!(bobs, takk["id"].as_str().unwrap());
    assert_eq!(app.error("getMusicDirectory", &[("id", &bobs)]).await, 70);

    // The album lists and search, with albums as directories.
    let list = app
        .call("getAlbumList", &[("type", "alphabeticalByName")])
        .await["albumList"]["album"]
        .clone();
    for a in list.as_array().unwrap() {
        check_dir(a);
    }
    assert_eq!(
        names(&list, "title"),
        ["...And They Have Escaped", "Takk...", "Vespertine"]
    );
    assert_eq!(
        names(
            &app.call(
                "getAlbumList",
                &[("type", "byGenre"), ("genre", "electronic")]
            )
            .await["albumList"]["album"],
            "title"
        ),
        ["Vespertine"]
    );
    assert_eq!(app.error("getAlbumList", &[]).await, 10);
    let found = app.call("search2", &[("query", "sig ros")]).await["searchResult2"].clone();
    check_search_result2(&found);
    assert_eq!(names(&found["artist"], "name"), ["Sigur Rós"]);
    assert_eq!(names(&found["album"], "title"), ["Takk..."]);
    assert_eq!(names(&found["song"], "title"), ["Glósóli", "Hoppípolla"]);
    let paged = app
        .call(
            "search2",
            &[("query", ""), ("songCount", "1"), ("songOffset", "1")],
        )
        .await["searchResult2"]["song"]
        .clone();
    assert_eq!(paged.as_array().unwrap().len(), 1);

    // Genres: each with its songs and albums, by name; and a genre's songs, page by page.
    let genres = app.call("getGenres", &[]).await["genres"]["genre"].clone();
    assert_eq!(
        genres,
        json!([
            {"value": "Electronic", "songCount": 1, "albumCount": 1},
            {"value": "Modern Classical", "songCount": 1, "albumCount": 1},
            {"value": "Post-Rock", "songCount": 2, "albumCount": 1},
        ])
    );
    let songs = |v: Value| names(&v["songsByGenre"]["song"], "title");
    let mut post_rock = songs(app.call("getSongsByGenre", &[("genre", "post-rock")]).await);
    post_rock.sort();
    assert_eq!(post_rock, ["Glósóli", "Hoppípolla"]);
    let first = songs(
        app.call("getSongsByGenre", &[("genre", "Post-Rock"), ("count", "1")])
            .await,
    );
    let second = songs(
        app.call(
            "getSongsByGenre",
            &[("genre", "Post-Rock"), ("count", "1"), ("offset", "1")],
        )
        .await,
    );
    assert_eq!((first.len(), second.len()), (1, 1));
    assert_ne!(first, second);
    assert!(songs(app.call("getSongsByGenre", &[("genre", "Polka")]).await).is_empty());
    assert_eq!(app.error("getSongsByGenre", &[]).await, 10);

    // Top songs are the account's most played of that artist.
    app.edit(
        "scrobble",
        &[("id", "t-hoppipolla"), ("time", "1700000000000")],
    )
    .await;
    app.edit(
        "scrobble",
        &[("id", "t-hoppipolla"), ("time", "1700000100000")],
    )
    .await;
    app.edit(
        "scrobble",
        &[("id", "t-glosoli"), ("time", "1700000200000")],
    )
    .await;
    let top = app
        .call("getTopSongs", &[("artist", "sigur rós"), ("count", "5")])
        .await["topSongs"]["song"]
        .clone();
    assert_eq!(names(&top, "title"), ["Hoppípolla", "Glósóli"]);
    let one = app
        .call("getTopSongs", &[("artist", "Sigur Rós"), ("count", "1")])
        .await;
    assert_eq!(names(&one["topSongs"]["song"], "title"), ["Hoppípolla"]);
    assert!(
        app.call("getTopSongs", &[("artist", "Nobody")]).await["topSongs"]["song"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );

    // The account itself, and no one else.
    let user = app.call("getUser", &[("username", "alice")]).await["user"].clone();
    assert_eq!(user["username"], "alice");
    assert_eq!(
        (
            &user["streamRole"],
            &user["downloadRole"],
            &user["playlistRole"],
            &user["adminRole"]
        ),
        (&json!(true), &json!(true), &json!(true), &json!(false))
    );
    assert_eq!(user["folder"], json!([1]));
    assert_eq!(app.error("getUser", &[("username", "bob")]).await, 50);
    // Nothing to scan: uploads are indexed as they arrive.
    for method in ["getScanStatus", "startScan"] {
        let status = app.call(method, &[]).await["scanStatus"].clone();
        assert_eq!(status, json!({"scanning": false, "count": 4}), "{method}");
    }
    assert_eq!(app.error("getUser", &[]).await, 10);

    // Ratings, in stars, reach the song and every device.
    let since = get_json(&f.locker, &f.alice_token, "/api/v1/changes").await["next"]
        .as_i64()
        .unwrap();
    app.edit("setRating", &[("id", "t-hidden"), ("rating", "4")])
        .await;
    assert_eq!(
        app.call("getSong", &[("id", "t-hidden")]).await["song"]["userRating"],
        4
    );
    let ops = feed(&f.locker, &f.alice_token, since).await;
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(
        (&ops[0]["type"], &ops[0]["rating"]),
        (&json!("rating"), &json!(80))
    );
    let highest = app.call("getAlbumList", &[("type", "highest")]).await;
    assert_eq!(
        names(&highest["albumList"]["album"], "title"),
        ["Vespertine"]
    );
    app.edit_xml("setRating", &[("id", "t-hidden"), ("rating", "0")])
        .await;
    assert!(
        app.call("getSong", &[("id", "t-hidden")]).await["song"]
            .get("userRating")
            .is_none()
    );
    assert_eq!(
        app.error("setRating", &[("id", "t-hidden"), ("rating", "6")])
            .await,
        0
    );
    assert_eq!(
        app.error(
            "setRating",
            &[("id", takk["id"].as_str().unwrap()), ("rating", "3")]
        )
        .await,
        0
    );
    assert_eq!(
        app.error("setRating", &[("id", "b-song"), ("rating", "3")])
            .await,
        70
    );
    assert_eq!(app.error("setRating", &[("id", "t-hidden")]).await, 10);

    // What is starred, as folder-browsing apps list it.
    app.edit(
        "star",
        &[
            ("id", "t-glosoli"),
            ("albumId", takk["id"].as_str().unwrap()),
        ],
    )
    .await;
    let starred = app.call("getStarred", &[]).await["starred"].clone();
    check_search_result2(&starred);
    assert_eq!(names(&starred["song"], "title"), ["Glósóli"]);
    assert_eq!(names(&starred["album"], "title"), ["Takk..."]);
    assert!(starred["album"][0]["starred"].is_string());
    f.locker.stop().await;
}

#[tokio::test]
async fn the_play_queue_moves_from_one_app_to_another() {
    let f = Fixture::start().await;
    let app = &f.alice;
    // Nothing saved yet: an empty answer.
    let none = app.call("getPlayQueue", &[]).await;
    assert!(none.get("playQueue").is_none(), "{none}");

    app.edit(
        "savePlayQueue",
        &[
            ("id", "t-glosoli"),
            ("id", "t-hoppipolla"),
            ("id", "t-hidden"),
            ("current", "t-hoppipolla"),
            ("position", "61000"),
        ],
    )
    .await;
    let queue = app.call("getPlayQueue", &[]).await["playQueue"].clone();
    assert_eq!(
        (&queue["current"], &queue["position"], &queue["username"]),
        (&json!("t-hoppipolla"), &json!(61_000), &json!("alice"))
    );
    assert_eq!(queue["changedBy"], "skylark-tests");
    assert!(queue["changed"].is_string());
    for entry in queue["entry"].as_array().unwrap() {
        check_child(entry);
    }
    assert_eq!(
        names(&queue["entry"], "title"),
        ["Glósóli", "Hoppípolla", "Hidden Place"]
    );
    // Another account has its own (none), and cannot queue Alice's songs.
    assert!(
        f.bob
            .call("getPlayQueue", &[])
            .await
            .get("playQueue")
            .is_none()
    );
    assert_eq!(
        f.bob.error("savePlayQueue", &[("id", "t-glosoli")]).await,
        70
    );
    // Bad saves change nothing.
    assert_eq!(
        app.error(
            "savePlayQueue",
            &[("id", "t-glosoli"), ("current", "t-hidden")]
        )
        .await,
        0
    );
    assert_eq!(
        app.error("savePlayQueue", &[("id", "t-glosoli"), ("position", "-5")])
            .await,
        0
    );
    assert_eq!(
        app.error(
            "savePlayQueue",
            &[("id", "t-glosoli"), ("position", "soon")]
        )
        .await,
        0
    );
    assert_eq!(
        app.call("getPlayQueue", &[]).await["playQueue"]["entry"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // A song deleted since leaves the queue; when it was the one playing, so does the place.
    app.edit(
        "savePlayQueue",
        &[
            ("id", "t-hidden"),
            ("id", "t-ljosid"),
            ("current", "t-hidden"),
            ("position", "5000"),
        ],
    )
    .await;
    laptop_op(&f, json!({"type": "track_delete", "track": "t-hidden"})).await;
    let queue = app.call("getPlayQueue", &[]).await["playQueue"].clone();
    assert_eq!(names(&queue["entry"], "title"), ["Ljósið"]);
    assert!(
        queue.get("current").is_none() && queue.get("position").is_none(),
        "{queue}"
    );

    // No songs clears it.
    app.edit_xml("savePlayQueue", &[]).await;
    assert!(
        app.call("getPlayQueue", &[])
            .await
            .get("playQueue")
            .is_none()
    );
    f.locker.stop().await;
}

#[tokio::test]
async fn bookmarks_keep_a_place_in_a_song() {
    let f = Fixture::start().await;
    let app = &f.alice;
    let none = app.call("getBookmarks", &[]).await;
    assert!(
        none["bookmarks"]["bookmark"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{none}"
    );

    app.edit(
        "createBookmark",
        &[
            ("id", "t-glosoli"),
            ("position", "61000"),
            ("comment", "the build-up"),
        ],
    )
    .await;
    app.edit_xml(
        "createBookmark",
        &[("id", "t-hidden"), ("position", "5000")],
    )
    .await;
    // A song's bookmark is replaced, its note too; the last changed comes first.
    app.edit(
        "createBookmark",
        &[("id", "t-glosoli"), ("position", "90500")],
    )
    .await;
    let list = app.call("getBookmarks", &[]).await["bookmarks"]["bookmark"].clone();
    let list = list.as_array().unwrap();
    let got: Vec<(&str, i64, Option<&str>)> = list
        .iter()
        .map(|b| {
            check_child(&b["entry"]);
            assert_eq!(b["username"], "alice");
            assert!(b["created"].is_string() && b["changed"].is_string(), "{b}");
            (
                b["entry"]["id"].as_str().unwrap(),
                b["position"].as_i64().unwrap(),
                b["comment"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("t-glosoli", 90_500, None), ("t-hidden", 5_000, None)]
    );

    // Another account has its own (none), and cannot bookmark or unbookmark Alice's songs.
    let bobs = f.bob.call("getBookmarks", &[]).await;
    assert!(!bobs.to_string().contains("t-glosoli"), "{bobs}");
    for method in ["createBookmark", "deleteBookmark"] {
        assert_eq!(
            f.bob
                .error(method, &[("id", "t-glosoli"), ("position", "1")])
                .await,
            70,
            "{method}"
        );
    }
    // Bad requests change nothing.
    for params in [
        vec![("id", "t-ljosid")],
        vec![("position", "10")],
        vec![("id", "t-ljosid"), ("position", "-1")],
        vec![("id", "t-ljosid"), ("position", "later")],
    ] {
        let code = app.error("createBookmark", &params).await;
        assert!(code == 0 || code == 10, "{params:?}: {code}");
    }
    let long = "x".repeat(1_001);
    assert_eq!(
        app.error(
            "createBookmark",
            &[("id", "t-ljosid"), ("position", "1"), ("comment", &long)]
        )
        .await,
        0
    );
    assert_eq!(app.error("deleteBookmark", &[]).await, 10);
    let count = |v: Value| v["bookmarks"]["bookmark"].as_array().map_or(0, Vec::len);
    assert_eq!(count(app.call("getBookmarks", &[]).await), 2);

    // A song deleted since leaves the list; deleting a bookmark forgets it, twice is fine.
    laptop_op(&f, json!({"type": "track_delete", "track": "t-hidden"})).await;
    assert_eq!(count(app.call("getBookmarks", &[]).await), 1);
    app.edit("deleteBookmark", &[("id", "t-glosoli")]).await;
    app.edit("deleteBookmark", &[("id", "t-glosoli")]).await;
    assert_eq!(count(app.call("getBookmarks", &[]).await), 0);
    f.locker.stop().await;
}

#[tokio::test]
async fn lyrics_come_from_the_songs_tags() {
    let f = Fixture::start().await;
    let app = &f.alice;
    // Timed lines in the tag (LRC text), by song id.
    let list = app
        .call("getLyricsBySongId", &[("id", "t-hoppipolla")])
        .await["lyricsList"]["structuredLyrics"]
        .clone();
    let lyrics = &list.as_array().unwrap()[0];
    assert_eq!(
        (&lyrics["displayTitle"], &lyrics["displayArtist"]),
        (&json!("Hoppípolla"), &json!("Sigur Rós"))
    );
    assert_eq!(
        (&lyrics["synced"], &lyrics["lang"]),
        (&json!(true), &json!("xxx"))
    );
    assert_eq!(
        lyrics["line"],
        json!([
            {"start": 500, "value": "Brosandi"},
            {"start": 1250, "value": "hendumst í hring"}
        ])
    );
    // Plain lines, blank ones kept.
    let list = app.call("getLyricsBySongId", &[("id", "t-glosoli")]).await["lyricsList"]
        ["structuredLyrics"]
        .clone();
    let lyrics = &list.as_array().unwrap()[0];
    assert_eq!(lyrics["synced"], false);
    assert_eq!(
        names(&lyrics["line"], "value"),
        ["Glósóli", "", "Líttu upp"]
    );
    assert!(lyrics["line"][0].get("start").is_none());
    // None in the tags: an empty list.
    let none = app.call("getLyricsBySongId", &[("id", "t-hidden")]).await;
    assert!(
        none["lyricsList"]["structuredLyrics"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{none}"
    );

    // The older call, by artist and title (case and spaces aside), as one text.
    let old = app
        .call(
            "getLyrics",
            &[("artist", "sigur rós"), ("title", " GLÓSÓLI ")],
        )
        .await["lyrics"]
        .clone();
    assert_eq!(
        (&old["artist"], &old["title"], &old["value"]),
        (
            &json!("Sigur Rós"),
            &json!("Glósóli"),
            &json!("Glósóli\n\nLíttu upp")
        )
    );
    let by_title = app.call("getLyrics", &[("title", "Hoppípolla")]).await;
    assert_eq!(by_title["lyrics"]["value"], "Brosandi\nhendumst í hring");
    for params in [
        vec![("artist", "Björk"), ("title", "Glósóli")],
        vec![("title", "Hidden Place")],
        vec![("artist", "Sigur Rós")],
        vec![],
    ] {
        let answer = app.call("getLyrics", &params).await;
        assert_eq!(answer["lyrics"], json!({"value": ""}), "{params:?}");
    }

    // The text of an LRC file the desktop found beside a song comes as its `lyrics` field, and
    // wins over the tags, as on the desktop; a field over 64 KiB is refused.
    let send = |id: &str, track: &str, lyrics: String| {
        json!({"ops": [{
            "id": id, "hlc": {"wall_ms": 9_000_000_000_000i64, "counter": 0, "device": "laptop"},
            "type": "track_set", "track": track, "fields": {"lyrics": lyrics}
        }]})
    };
    for (id, track) in [("lrc-1", "t-hidden"), ("lrc-2", "t-glosoli")] {
        let text = "[ti:Sent]\n[00:02.00]Sent along\n[00:04.00]beside the file\n".to_owned();
        let r = post_json(
            &f.locker,
            &f.alice_token,
            "/api/v1/ops",
            &send(id, track, text),
        )
        .await;
        assert_eq!(r.status(), 200);
        let list =
            app.call("getLyricsBySongId", &[("id", track)]).await["lyricsList"]["structuredLyrics"]
                .clone();
        assert_eq!(
            list[0]["line"],
            json!([
                {"start": 2000, "value": "Sent along"},
                {"start": 4000, "value": "beside the file"}
            ]),
            "{track}"
        );
    }
    let huge = "[00:01.00]la\n".repeat(6_000);
    let r = post_json(
        &f.locker,
        &f.alice_token,
        "/api/v1/ops",
        &send("lrc-3", "t-hidden", huge),
    )
    .await;
    assert_eq!(r.status(), 400);

    // Another account's songs are not found, by id or by name.
    assert_eq!(
        f.bob
            .error("getLyricsBySongId", &[("id", "t-hoppipolla")])
            .await,
        70
    );
    let bobs = f.bob.call("getLyrics", &[("title", "Glósóli")]).await;
    assert_eq!(bobs["lyrics"], json!({"value": ""}));
    assert_eq!(app.error("getLyricsBySongId", &[]).await, 10);
    f.locker.stop().await;
}

/// `getNowPlaying` in an app: the (user, minutes ago, player id, player name) of each entry,
/// with the song's shape checked, and the titles.
async fn now_playing(app: &App) -> Vec<(String, i64, i64, String, String)> {
    let answer = app.call("getNowPlaying", &[]).await;
    let entries = answer["nowPlaying"]["entry"].as_array().cloned();
    entries
        .unwrap_or_default()
        .iter()
        .map(|e| {
            check_child(e);
            (
                e["username"].as_str().unwrap().to_owned(),
                e["minutesAgo"].as_i64().unwrap(),
                e["playerId"].as_i64().unwrap(),
                e["playerName"].as_str().unwrap().to_owned(),
                e["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn now_playing_shows_an_accounts_own_players() {
    let f = Fixture::start().await;
    let app = &f.alice;
    assert!(now_playing(app).await.is_empty());

    // A "now playing" notice puts the song on the board, and records no play.
    app.edit("scrobble", &[("id", "t-glosoli"), ("submission", "false")])
        .await;
    let board = now_playing(app).await;
    assert_eq!(board.len(), 1, "{board:?}");
    let (user, minutes, player, name, title) = &board[0];
    assert_eq!(
        (user.as_str(), *minutes, name.as_str(), title.as_str()),
        ("alice", 0, "skylark-tests", "Glósóli")
    );
    let song = app.call("getSong", &[("id", "t-glosoli")]).await;
    assert_eq!(song["song"]["playCount"], 0);

    // The same app's next song replaces its line; another app gets a line of its own, shown
    // first as the latest.
    app.edit_xml("scrobble", &[("id", "t-hidden"), ("submission", "false")])
        .await;
    let mut other = app.auth();
    other.retain(|(k, _)| k != "c");
    other.push(("c".into(), "car stereo".into()));
    other.push(("f".into(), "json".into()));
    let r = app
        .raw(
            "scrobble",
            &[("id", "t-ljosid"), ("submission", "false")],
            &other,
        )
        .await;
    let r: Value = r.json().await.unwrap();
    assert_eq!(r["subsonic-response"]["status"], "ok", "{r}");
    let board = now_playing(app).await;
    let lines: Vec<(&str, &str)> = board
        .iter()
        .map(|(_, _, _, name, title)| (name.as_str(), title.as_str()))
        .collect();
    assert_eq!(
        lines,
        [("car stereo", "Ljósið"), ("skylark-tests", "Hidden Place")]
    );
    assert_eq!(board[1].2, *player, "a player keeps its id");
    assert_ne!(board[0].2, *player);

    // A song started long enough ago to have ended is gone; so is a song deleted since.
    let long_ago = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        - 5 * 60_000)
        .to_string();
    app.edit(
        "scrobble",
        &[
            ("id", "t-hoppipolla"),
            ("submission", "false"),
            ("time", &long_ago),
        ],
    )
    .await;
    laptop_op(&f, json!({"type": "track_delete", "track": "t-ljosid"})).await;
    assert!(now_playing(app).await.is_empty());

    // Another account sees none of Alice's players, and cannot announce her songs.
    app.edit("scrobble", &[("id", "t-glosoli"), ("submission", "false")])
        .await;
    assert_eq!(now_playing(app).await.len(), 1);
    assert!(now_playing(&f.bob).await.is_empty());
    assert_eq!(
        f.bob
            .error("scrobble", &[("id", "t-glosoli"), ("submission", "false")])
            .await,
        70
    );
    f.locker.stop().await;
}

#[tokio::test]
async fn similar_songs_and_artists_come_from_the_accounts_own_library() {
    let f = Fixture::start().await;
    let app = &f.alice;
    // Björk's song is Post-Rock too now, as Sigur Rós's are; Ólafur Arnalds shares no genre.
    laptop_op(
        &f,
        json!({"type": "track_set", "track": "t-hidden", "fields": {"genre": "Electronic, Post-Rock"}}),
    )
    .await;
    let song =
        |id: &'static str| async move { app.call("getSong", &[("id", id)]).await["song"].clone() };
    let (hoppipolla, hidden, ljosid) = (
        song("t-hoppipolla").await,
        song("t-hidden").await,
        song("t-ljosid").await,
    );
    let sigur_ros = hoppipolla["artistId"].as_str().unwrap();
    let takk = hoppipolla["albumId"].as_str().unwrap();
    let bjork = hidden["artistId"].as_str().unwrap();
    let vespertine = hidden["albumId"].as_str().unwrap();
    let olafur = ljosid["artistId"].as_str().unwrap();

    let titles = |answer: &Value, key: &str| {
        let list = answer[key]["song"].as_array().cloned().unwrap_or_default();
        for s in &list {
            check_child(s);
        }
        let mut t: Vec<String> = list
            .iter()
            .map(|s| s["title"].as_str().unwrap().to_owned())
            .collect();
        t.sort();
        t
    };
    // A song: its artist's other songs and songs sharing a genre, never itself or the rest.
    let similar = app
        .call_json("getSimilarSongs2", &[("id", "t-hoppipolla")])
        .await;
    assert_eq!(
        titles(&similar, "similarSongs2"),
        ["Glósóli", "Hidden Place"]
    );
    let one = app
        .call_json("getSimilarSongs", &[("id", "t-hoppipolla"), ("count", "1")])
        .await;
    assert_eq!(titles(&one, "similarSongs").len(), 1);
    // An album or an artist: none of its own songs.
    let by_album = app.call("getSimilarSongs2", &[("id", takk)]).await;
    assert_eq!(titles(&by_album, "similarSongs2"), ["Hidden Place"]);
    let by_artist = app.call("getSimilarSongs", &[("id", sigur_ros)]).await;
    assert_eq!(titles(&by_artist, "similarSongs"), ["Hidden Place"]);
    // Nothing near: an empty list, not an error.
    let alone = app.call("getSimilarSongs2", &[("id", olafur)]).await;
    assert!(titles(&alone, "similarSongs2").is_empty(), "{alone}");

    // Similar artists: those sharing a genre, in both shapes.
    let info2 = app.call("getArtistInfo2", &[("id", sigur_ros)]).await;
    let similar = info2["artistInfo2"]["similarArtist"].as_array().unwrap();
    for a in similar {
        check_artist(a);
    }
    assert_eq!(
        names(&info2["artistInfo2"]["similarArtist"], "name"),
        ["Björk"]
    );
    assert_eq!(similar[0]["id"], bjork);
    // getArtistInfo also takes an album or a song, meaning its artist.
    let info = app.call("getArtistInfo", &[("id", takk)]).await;
    assert_eq!(
        names(&info["artistInfo"]["similarArtist"], "name"),
        ["Björk"]
    );
    let info = app.call("getArtistInfo", &[("id", "t-hidden")]).await;
    assert_eq!(
        names(&info["artistInfo"]["similarArtist"], "name"),
        ["Sigur Rós"]
    );
    let info = app.call("getArtistInfo2", &[("id", olafur)]).await;
    assert!(
        info["artistInfo2"]
            .get("similarArtist")
            .is_none_or(|l| l.as_array().is_some_and(Vec::is_empty)),
        "{info}"
    );
    // Album info: known albums answer (with nothing the locker does not know).
    assert!(app.call("getAlbumInfo2", &[("id", takk)]).await["albumInfo"].is_object());
    assert!(app.call("getAlbumInfo", &[("id", "t-glosoli")]).await["albumInfo"].is_object());
    assert_eq!(app.error("getAlbumInfo2", &[("id", "t-glosoli")]).await, 70);

    // Another account's ids are not found; missing ids are missing.
    for method in [
        "getSimilarSongs",
        "getSimilarSongs2",
        "getArtistInfo2",
        "getAlbumInfo2",
    ] {
        assert_eq!(
            f.bob.error(method, &[("id", vespertine)]).await,
            70,
            "{method}"
        );
        assert_eq!(app.error(method, &[]).await, 10, "{method}");
    }
    assert_eq!(
        f.bob.error("getSimilarSongs2", &[("id", "t-hidden")]).await,
        70
    );
    assert_eq!(
        app.error("getSimilarSongs2", &[("id", "t-hidden"), ("count", "many")])
            .await,
        0
    );
    f.locker.stop().await;
}
