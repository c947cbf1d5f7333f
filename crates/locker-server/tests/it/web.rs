//! The web player's side of the locker: the sign-in form and its cookies, the anti-forgery
//! check, the UI's commands over the account's library and playlists (edits reaching the change
//! feed as ops), files uploaded from a browser joining the library, and the player's own files
//! served under a strict content security policy.

use base64::Engine;
use serde_json::{Value, json};
use skylark_locker::config::Config;
use skylark_testsupport::{Format, TagSpec, Tone, cover_png, write_audio};

use crate::{ALICE_PASSWORD, BOB_PASSWORD, Locker, blake3_hex, get_json, upload, used_bytes};

/// A browser signed in through the form: its cookies and anti-forgery token.
struct Browser {
    cookie: String,
    csrf: String,
    http: reqwest::Client,
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts the sign-in form.
async fn post_form(locker: &Locker, user: &str, password: &str) -> reqwest::Response {
    no_redirects()
        .post(locker.url("/login"))
        .header("origin", format!("http://{}", locker.addr))
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .unwrap()
}

impl Browser {
    async fn sign_in(locker: &Locker, user: &str, password: &str) -> Browser {
        let r = post_form(locker, user, password).await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        assert_eq!(r.headers()["location"], "/");
        let set: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let session = set
            .iter()
            .find(|c| c.starts_with("skylark_session="))
            .unwrap();
        assert!(session.contains("HttpOnly"), "{session}");
        assert!(session.contains("SameSite=Strict"), "{session}");
        let csrf_cookie = set.iter().find(|c| c.starts_with("skylark_csrf=")).unwrap();
        assert!(!csrf_cookie.contains("HttpOnly"), "{csrf_cookie}");
        let value = |c: &str| c.split(';').next().unwrap().to_owned();
        let csrf = value(csrf_cookie)["skylark_csrf=".len()..].to_owned();
        Browser {
            cookie: format!("{}; {}", value(session), value(csrf_cookie)),
            csrf,
            http: no_redirects(),
        }
    }

    /// Sends command `name` with `args`, with the anti-forgery token.
    async fn send(&self, locker: &Locker, name: &str, args: Value) -> reqwest::Response {
        self.http
            .post(locker.url(&format!("/api/v1/ui/{name}")))
            .header("cookie", &self.cookie)
            .header("x-skylark-csrf", &self.csrf)
            .json(&args)
            .send()
            .await
            .unwrap()
    }

    /// Runs command `name`, which must succeed.
    async fn call(&self, locker: &Locker, name: &str, args: Value) -> Value {
        let r = self.send(locker, name, args).await;
        assert_eq!(r.status(), 200, "{name}: {}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    /// Uploads `bytes` the way the web player's tus client does: no hash, the cookie and the
    /// anti-forgery token. Returns the last response.
    async fn upload(&self, locker: &Locker, name: &str, bytes: &[u8]) -> reqwest::Response {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let created = self
            .http
            .post(locker.url("/api/v1/uploads"))
            .header("cookie", &self.cookie)
            .header("x-skylark-csrf", &self.csrf)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", bytes.len().to_string())
            .header(
                "upload-metadata",
                format!("filename {},filetype {}", b64(name), b64("audio/flac")),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
        let location = created.headers()["location"].to_str().unwrap().to_owned();
        // Two requests, as a resumed upload would send them.
        let half = bytes.len() / 2;
        let mut last = None;
        for (offset, chunk) in [(0, &bytes[..half]), (half, &bytes[half..])] {
            last = Some(
                self.http
                    .patch(locker.url(&location))
                    .header("cookie", &self.cookie)
                    .header("x-skylark-csrf", &self.csrf)
                    .header("tus-resumable", "1.0.0")
                    .header("content-type", "application/offset+octet-stream")
                    .header("upload-offset", offset.to_string())
                    .body(chunk.to_vec())
                    .send()
                    .await
                    .unwrap(),
            );
        }
        last.unwrap()
    }
}

fn song(dir: &std::path::Path, name: &str, tags: TagSpec, hz: f64) -> Vec<u8> {
    let path = dir.join(name);
    let tone = Tone {
        frequency: hz,
        ..Tone::default()
    };
    write_audio(&path, Format::Flac, &tone, &tags).unwrap();
    std::fs::read(&path).unwrap()
}

fn tagged(title: &str, artist: &str, album: &str, track: u32, genre: &str) -> TagSpec {
    TagSpec {
        title: Some(title.to_owned()),
        artists: vec![artist.to_owned()],
        album: Some(album.to_owned()),
        album_artist: Some(artist.to_owned()),
        track: Some((track, None)),
        genres: vec![genre.to_owned()],
        ..TagSpec::default()
    }
}

#[tokio::test]
async fn a_browser_signs_in_with_the_form_and_its_cookie_is_guarded() {
    let locker = Locker::start(Config::default()).await;
    let page = locker.http.get(locker.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(page.text().await.unwrap().contains("name=\"password\""));

    // A wrong password shows the form again, saying so, and sets no cookie.
    let wrong = post_form(&locker, "alice", "not it").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Wrong account name or password")
    );

    // Another site's page cannot sign the browser in.
    let forged = no_redirects()
        .post(locker.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[("username", "alice"), ("password", ALICE_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.headers().get("set-cookie").is_none());

    let browser = Browser::sign_in(&locker, "alice", ALICE_PASSWORD).await;
    let info = browser.call(&locker, "app_info", json!({})).await;
    assert_eq!(info["user"], "alice");
    assert_eq!(info["wizard_done"], true);

    // The cookie alone changes nothing: a forged request lacks the token, or has a wrong one.
    for token in [None, Some("0".repeat(32))] {
        let mut request = browser
            .http
            .post(locker.url("/api/v1/ui/create_playlist"))
            .header("cookie", &browser.cookie)
            .json(&json!({"name": "Forged"}));
        if let Some(t) = token {
            request = request.header("x-skylark-csrf", t);
        }
        crate::assert_error(request.send().await.unwrap(), 403, "forbidden").await;
    }
    assert_eq!(
        browser.call(&locker, "playlists", json!({})).await,
        json!([])
    );
    // Reading with the cookie needs no token (a page's <audio> and <img> cannot send one).
    let me = browser
        .http
        .get(locker.url("/api/v1/me"))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    // Signing out ends the session and clears both cookies.
    let out = browser
        .http
        .post(locker.url("/logout"))
        .header("cookie", &browser.cookie)
        .header("x-skylark-csrf", &browser.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let cleared: Vec<&str> = out
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cleared.len(), 2);
    assert!(cleared.iter().all(|c| c.contains("Max-Age=0")));
    crate::assert_error(
        browser.send(&locker, "app_info", json!({})).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn the_web_player_browses_and_edits_the_library_through_ops() {
    let locker = Locker::start(Config::default()).await;
    let dir = locker.dir.path();
    let browser = Browser::sign_in(&locker, "alice", ALICE_PASSWORD).await;
    let files = [
        (
            "1.flac",
            tagged("Glósóli", "Sigur Rós", "Takk...", 2, "Post-rock"),
            330.0,
        ),
        (
            "2.flac",
            TagSpec {
                lyrics: Some("[00:00.40]Brosandi\n[00:00.80]hendumst í hring".to_owned()),
                ..tagged("Hoppípolla", "Sigur Rós", "Takk...", 3, "Post-rock")
            },
            440.0,
        ),
        (
            "3.flac",
            tagged("Army of Me", "Björk", "Post", 1, "Electronic"),
            550.0,
        ),
    ];
    for (name, tags, hz) in files {
        let r = browser
            .upload(&locker, name, &song(dir, name, tags, hz))
            .await;
        assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    }
    // The same file again is the same track.
    let again = browser
        .upload(
            &locker,
            "copy.flac",
            &song(
                dir,
                "1.flac",
                tagged("Glósóli", "Sigur Rós", "Takk...", 2, "Post-rock"),
                330.0,
            ),
        )
        .await;
    assert_eq!(again.status(), 204);

    let ids = browser
        .call(
            &locker,
            "track_ids",
            json!({"sort": "title", "descending": false}),
        )
        .await;
    let tracks = browser.call(&locker, "tracks", json!({ "ids": ids })).await;
    let titles: Vec<&str> = tracks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Army of Me", "Glósóli", "Hoppípolla"]);
    // Lyrics, from the tags of the stored file, in the desktop command's shape.
    let lyrics = browser
        .call(&locker, "track_lyrics", json!({"id": tracks[2]["id"]}))
        .await;
    assert_eq!(
        lyrics,
        json!({"source": "tags", "timed": true, "lines": [
            {"start_ms": 400, "text": "Brosandi"},
            {"start_ms": 800, "text": "hendumst í hring"}
        ]})
    );
    let none = browser
        .call(&locker, "track_lyrics", json!({"id": tracks[0]["id"]}))
        .await;
    assert_eq!(none, Value::Null);
    let missing = browser
        .send(&locker, "track_lyrics", json!({"id": 999_999}))
        .await;
    assert_eq!(missing.status(), 404);
    let army = &tracks[0];
    assert_eq!(army["availability"], "locker");
    assert_eq!(army["codec"], "flac");
    assert_eq!(army["album"], "Post");
    assert!((900..=1100).contains(&army["duration_ms"].as_i64().unwrap()));
    let by_title = |t: &str| {
        tracks
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["title"] == t)
            .unwrap()["id"]
            .clone()
    };

    let albums = browser.call(&locker, "albums", json!({})).await;
    assert_eq!(albums.as_array().unwrap().len(), 2);
    let takk = albums
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Takk...")
        .unwrap();
    let album = browser
        .call(&locker, "album", json!({"id": takk["id"]}))
        .await;
    let in_album: Vec<&str> = album["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(in_album, ["Glósóli", "Hoppípolla"]);
    let artist = browser
        .call(&locker, "artist", json!({"id": takk["album_artist_id"]}))
        .await;
    assert_eq!(artist["artist"]["name"], "Sigur Rós");
    let genres = browser.call(&locker, "genres", json!({})).await;
    let rock = genres
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Post-rock")
        .unwrap();
    assert_eq!(rock["track_count"], 2);
    assert_eq!(
        browser
            .call(&locker, "genre_tracks", json!({"id": rock["id"]}))
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Search folds case and accents and matches word prefixes.
    let found = browser
        .call(
            &locker,
            "search",
            json!({"text": "sig ros hopp", "limit": 10}),
        )
        .await;
    assert_eq!(found["tracks"].as_array().unwrap().len(), 1);
    assert_eq!(found["tracks"][0]["title"], "Hoppípolla");
    let stats = browser.call(&locker, "library_stats", json!({})).await;
    assert_eq!(
        (stats["tracks"].as_u64(), stats["albums"].as_u64()),
        (Some(3), Some(2))
    );

    // Playlists: create with two songs, insert one at the top, move, remove.
    let id = browser
        .call(
            &locker,
            "create_playlist",
            json!({"name": "Evening", "tracks": [by_title("Glósóli"), by_title("Hoppípolla")]}),
        )
        .await;
    browser
        .call(
            &locker,
            "add_to_playlist",
            json!({"id": id, "tracks": [by_title("Army of Me")], "index": 0}),
        )
        .await;
    let order = |p: &Value| -> Vec<String> {
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["track"]["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let p = browser.call(&locker, "playlist", json!({ "id": id })).await;
    assert_eq!(order(&p), ["Army of Me", "Glósóli", "Hoppípolla"]);
    let first = p["items"][0]["id"].clone();
    browser
        .call(
            &locker,
            "move_playlist_item",
            json!({"id": id, "item": first, "index": 2}),
        )
        .await;
    let p = browser.call(&locker, "playlist", json!({ "id": id })).await;
    assert_eq!(order(&p), ["Glósóli", "Hoppípolla", "Army of Me"]);
    let middle = p["items"][1]["id"].clone();
    browser
        .call(
            &locker,
            "remove_from_playlist",
            json!({"id": id, "items": [middle]}),
        )
        .await;
    browser
        .call(
            &locker,
            "rename_playlist",
            json!({"id": id, "name": "Night"}),
        )
        .await;
    let p = browser.call(&locker, "playlist", json!({ "id": id })).await;
    assert_eq!(order(&p), ["Glósóli", "Army of Me"]);
    assert_eq!(p["playlist"]["name"], "Night");
    assert_eq!(p["playlist"]["item_count"], 2);

    // Plays and ratings count, and every edit is in the change feed for the desktop to pull.
    browser
        .call(
            &locker,
            "record_play",
            json!({"id": by_title("Army of Me"), "at": 1_700_000_000_000_i64}),
        )
        .await;
    browser
        .call(
            &locker,
            "set_rating",
            json!({"id": by_title("Army of Me"), "rating": 80}),
        )
        .await;
    let army = &browser
        .call(&locker, "tracks", json!({"ids": [by_title("Army of Me")]}))
        .await[0];
    assert_eq!(
        (army["play_count"].as_u64(), army["rating"].as_u64()),
        (Some(1), Some(80))
    );
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let feed = get_json(&locker, &token, "/api/v1/changes?since=0").await;
    let kinds: Vec<&str> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["op"]["hlc"]["device"] == "web")
        .map(|o| o["op"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "track_set").count(),
        3,
        "{kinds:?}"
    );
    for kind in [
        "playlist_set",
        "playlist_item_set",
        "playlist_item_remove",
        "play",
        "rating",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }

    // Taken out of the locker, a song leaves the library and its playlists, through an op.
    let removed = browser
        .call(
            &locker,
            "cloud_remove",
            json!({"tracks": [by_title("Army of Me")]}),
        )
        .await;
    assert_eq!(removed, 1);
    let stats = browser.call(&locker, "library_stats", json!({})).await;
    assert_eq!(stats["tracks"], 2);
    let p = browser.call(&locker, "playlist", json!({ "id": id })).await;
    assert_eq!(order(&p), ["Glósóli"]);
    let feed = get_json(&locker, &token, "/api/v1/changes?since=0").await;
    assert!(
        feed["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["op"]["type"] == "track_delete" && o["op"]["hlc"]["device"] == "web")
    );

    // Another account sees none of it, by any number.
    let bob = Browser::sign_in(&locker, "bob", BOB_PASSWORD).await;
    assert_eq!(
        bob.call(
            &locker,
            "track_ids",
            json!({"sort": "title", "descending": false})
        )
        .await,
        json!([])
    );
    for (name, args) in [
        ("playlist", json!({ "id": id })),
        ("album", json!({"id": takk["id"]})),
        ("tracks", json!({"ids": [by_title("Army of Me")]})),
        (
            "add_to_playlist",
            json!({"id": id, "tracks": [], "index": null}),
        ),
    ] {
        let r = bob.send(&locker, name, args).await;
        if name == "tracks" {
            assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
        } else {
            crate::assert_error(r, 404, "not_found").await;
        }
    }
    crate::assert_error(
        browser.send(&locker, "no_such_command", json!({})).await,
        404,
        "not_found",
    )
    .await;
    crate::assert_error(
        browser.send(&locker, "track_ids", json!({"sort": 3})).await,
        400,
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn a_browser_upload_that_is_not_audio_is_refused_and_not_kept() {
    let locker = Locker::start(Config::default()).await;
    let browser = Browser::sign_in(&locker, "alice", ALICE_PASSWORD).await;
    let r = browser
        .upload(
            &locker,
            "notes.flac",
            b"these are my notes, not music at all"
                .repeat(100)
                .as_slice(),
        )
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("notes.flac") && message.contains("nothing was kept"),
        "{message}"
    );
    let token = locker.login("alice", ALICE_PASSWORD).await;
    assert_eq!(used_bytes(&locker, &token).await, 0);
    assert!(crate::files_under(&locker.dir.path().join("uploads")).is_empty());
    assert_eq!(
        browser.call(&locker, "library_stats", json!({})).await["tracks"],
        0
    );
}

#[tokio::test]
async fn covers_scale_downloads_are_named_and_the_player_is_served() {
    let web = tempfile::tempdir().unwrap();
    std::fs::create_dir(web.path().join("assets")).unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>Skylark</title>",
    )
    .unwrap();
    std::fs::write(web.path().join("assets/app-1234.js"), "console.log(1)").unwrap();
    let config = Config {
        web_dir: Some(web.path().to_owned()),
        ..Config::default()
    };
    let locker = Locker::start(config).await;
    let index = locker.http.get(locker.url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(
        index.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'")
    );
    assert!(
        index
            .text()
            .await
            .unwrap()
            .contains("<title>Skylark</title>")
    );
    let asset = locker
        .http
        .get(locker.url("/assets/app-1234.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    // The API's own missing routes still answer in the API's shape.
    crate::assert_error(
        locker
            .http
            .get(locker.url("/api/v1/nothing"))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;

    let browser = Browser::sign_in(&locker, "alice", ALICE_PASSWORD).await;
    let cover = cover_png(600, 400, [20, 200, 30]);
    let tags = TagSpec {
        title: Some("Ágætis byrjun".to_owned()),
        cover: Some(cover.clone()),
        ..TagSpec::default()
    };
    let bytes = song(locker.dir.path(), "a.flac", tags, 440.0);
    assert_eq!(
        browser.upload(&locker, "a.flac", &bytes).await.status(),
        204
    );
    let track = &browser
        .call(&locker, "recently_added", json!({"limit": 10}))
        .await[0];
    let hash = track["cover_hash"].as_str().unwrap();
    assert_eq!(hash, blake3_hex(&cover.bytes));
    let small = browser
        .http
        .get(locker.url(&format!("/api/v1/covers/{hash}?size=96")))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), 200);
    let picture = image::load_from_memory(&small.bytes().await.unwrap()).unwrap();
    assert_eq!((picture.width(), picture.height()), (96, 64));

    // The browser streams with its cookie, ranges included, and downloads under the title.
    let uid = track["uid"].as_str().unwrap();
    let part = browser
        .http
        .get(locker.url(&format!("/api/v1/tracks/{uid}/stream")))
        .header("cookie", &browser.cookie)
        .header("range", "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), b"fLaC");
    let download = browser
        .http
        .get(locker.url(&format!("/api/v1/tracks/{uid}/download")))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''%C3%81g%C3%A6tis%20byrjun.flac")
    );
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());
    // A desktop's upload (with a declared hash) does not become a track by itself.
    let token = locker.login("alice", ALICE_PASSWORD).await;
    upload(
        &locker,
        &token,
        &song(locker.dir.path(), "b.flac", TagSpec::default(), 220.0),
    )
    .await;
    assert_eq!(
        browser.call(&locker, "library_stats", json!({})).await["tracks"],
        1
    );
}

#[tokio::test]
async fn without_a_web_player_the_root_says_how_to_build_one() {
    let locker = Locker::start(Config::default()).await;
    let r = locker.http.get(locker.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("make web"));
}
