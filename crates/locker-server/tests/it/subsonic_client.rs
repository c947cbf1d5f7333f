//! Interoperability: py-opensonic, a third-party OpenSubsonic client library from PyPI, browses
//! (by tags and by folders), searches, streams, rates and edits a playlist in a real locker over
//! loopback, signing in with a token and with an API key; its typed responses check the
//! OpenSubsonic shapes, and the playlist it made reaches the account's change feed.

use serde_json::{Value, json};

use crate::python::subsonic_client;
use crate::subsonic::Fixture;
use crate::{get_json, post_json};

#[tokio::test]
async fn a_third_party_subsonic_client_browses_streams_and_edits_playlists() {
    let f = Fixture::start().await;
    let key: Value = post_json(
        &f.locker,
        &f.alice_token,
        "/api/v1/subsonic/api-keys",
        &json!({"label": "py-opensonic"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let streamed = f.locker.dir.path().join("streamed.bin");
    let out = subsonic_client(vec![
        f.locker.addr.port().to_string(),
        f.alice.user.clone(),
        f.alice.password.clone(),
        key["key"].as_str().unwrap().to_owned(),
        streamed.to_str().unwrap().to_owned(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "py-opensonic failed:\n{stderr}");
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();

    assert_eq!(
        seen["extensions"],
        json!([
            "apiKeyAuthentication",
            "formPost",
            "indexBasedQueue",
            "songLyrics"
        ])
    );
    assert_eq!(seen["license"], true);
    assert_eq!(
        seen["artists"],
        json!(["Björk", "Ólafur Arnalds", "Sigur Rós"])
    );
    assert_eq!(seen["artist_albums"], json!(["Takk..."]));
    assert_eq!(
        seen["album"],
        json!({"name": "Takk...", "song_count": 2, "songs": ["Glósóli", "Hoppípolla"], "tracks": [2, 3]})
    );
    assert_eq!(seen["index_letters"], json!(["B", "O", "S"]));
    assert_eq!(
        seen["albums_by_name"],
        json!(["...And They Have Escaped", "Takk...", "Vespertine"])
    );
    assert_eq!(seen["random_songs"], 2);
    assert_eq!(seen["search"], json!(["Hoppípolla"]));
    assert_eq!(seen["song"], "Hoppípolla");
    // The stream is the uploaded file, byte for byte.
    assert_eq!(seen["stream_content_type"], "audio/mpeg");
    assert_eq!(
        std::fs::read(&streamed).unwrap(),
        f.files["t-hoppipolla"],
        "the streamed bytes differ from the upload"
    );
    assert!(seen["cover_bytes"].as_u64().unwrap() > 0);
    assert_eq!(seen["created"]["songs"], json!(["Hoppípolla", "Glósóli"]));
    assert_eq!(
        seen["updated"],
        json!({"name": "Road trip (edited)", "songs": ["Glósóli", "Hidden Place"], "song_count": 2})
    );
    assert_eq!(
        seen["directories"],
        json!({"artist": "Sigur Rós", "albums": ["Takk..."], "album_is_dir": true, "songs": ["Glósóli", "Hoppípolla"]})
    );
    assert_eq!(
        seen["album_list"],
        json!(["...And They Have Escaped", "Takk...", "Vespertine"])
    );
    assert_eq!(
        seen["search2"],
        json!({"artists": ["Sigur Rós"], "albums": ["Takk..."], "songs": ["Glósóli", "Hoppípolla"]})
    );
    assert_eq!(
        seen["genres"],
        json!([
            ["Electronic", 1, 1],
            ["Modern Classical", 1, 1],
            ["Post-Rock", 2, 1]
        ])
    );
    assert_eq!(seen["post_rock"], json!(["Glósóli", "Hoppípolla"]));
    assert_eq!(
        seen["user"],
        json!({"name": "alice", "stream": true, "admin": false})
    );
    assert_eq!(
        seen["play_queue"],
        json!({"songs": ["Glósóli", "Hoppípolla"], "current": true, "position": 2500})
    );
    assert_eq!(
        seen["play_queue_by_index"],
        json!({"songs": 2, "current": 1})
    );
    assert_eq!(
        seen["bookmarks"],
        json!([["Hoppípolla", 754_000, "chapter two", "alice"]])
    );
    assert_eq!(seen["bookmarks_after_delete"], 0);
    assert_eq!(
        seen["lyrics_by_id"],
        json!([[true, [[500, "Brosandi"], [1250, "hendumst í hring"]]]])
    );
    assert_eq!(seen["lyrics"], "Glósóli\n\nLíttu upp");
    assert_eq!(seen["no_lyrics"], "");
    assert_eq!(seen["rating"], 4);
    assert_eq!(
        seen["now_playing"],
        json!([["Glósóli", "alice", "py-opensonic-test"]])
    );
    // Alice's other artists share no genre with Sigur Rós: only its own other song is near.
    assert_eq!(seen["similar_songs"], json!(["Hoppípolla"]));
    assert_eq!(seen["similar_artists"], json!([]));
    assert_eq!(seen["album_notes"], Value::Null);
    assert_eq!(seen["starred"], json!(["Hoppípolla"]));
    assert_eq!(seen["starred_v1"], json!(["Hoppípolla"]));
    assert_eq!(seen["top_songs"], json!(["Hoppípolla"]));
    assert_eq!(seen["play_count"], 1);
    assert_eq!(seen["api_key_user"], "alice");
    assert_eq!(
        seen["api_key_albums"],
        json!(["...And They Have Escaped", "Takk...", "Vespertine"])
    );

    // What the client did is in the change feed the desktop pulls.
    let feed = get_json(&f.locker, &f.alice_token, "/api/v1/changes").await;
    let ops: Vec<&Value> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["op"])
        .collect();
    let id = seen["created"]["id"].as_str().unwrap();
    let names: Vec<&str> = ops
        .iter()
        .filter(|o| o["type"] == "playlist_set" && o["playlist"] == id)
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Road trip", "Road trip (edited)"]);
    assert!(
        ops.iter()
            .any(|o| o["type"] == "play" && o["track"] == "t-hoppipolla")
    );
    assert!(ops.iter().any(|o| o["type"] == "track_set"
        && o["track"] == "t-hoppipolla"
        && o["fields"]["loved"] == true));
    f.locker.stop().await;
}
