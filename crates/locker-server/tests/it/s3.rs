//! The S3 blob store against a real S3-compatible server: moto, from PyPI, started on loopback by
//! the test. Uploads land in the bucket (and nothing in the data folder's store), streams read
//! ranges of it, claims and covers read it, and a restarted locker still serves it all.

use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use serde_json::json;
use skylark_locker::config::Config;
use skylark_locker::storage::{blob_key, cover_key};
use skylark_testsupport::{Format, TagSpec, Tone, cover_png, write_audio};

use crate::python::Moto;
use crate::subsonic::app_password;
use crate::{
    ALICE_PASSWORD, BOB_PASSWORD, Locker, assert_error, blake3_hex, files_under, get, get_json,
    get_range, link, location, post_json, prove, tus_create, tus_patch, upload, used_bytes,
    verdicts,
};

/// Every key in the bucket.
async fn keys(moto: &Moto) -> Vec<String> {
    let store = moto.store();
    let mut keys: Vec<String> = object_store::ObjectStore::list(&store, None)
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .unwrap();
    keys.sort();
    keys
}

/// A 40 s FLAC with a cover (about 500 kB, so claims pick ranges across it).
fn song(dir: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
    let cover = cover_png(96, 96, [20, 200, 40]);
    let path = dir.join("song.flac");
    let tags = TagSpec {
        title: Some("Stored in S3".to_owned()),
        cover: Some(cover.clone()),
        lyrics: Some("[00:01.00]Read from the bucket".to_owned()),
        ..TagSpec::default()
    };
    let tone = Tone {
        seconds: 40.0,
        ..Tone::default()
    };
    write_audio(&path, Format::Flac, &tone, &tags).unwrap();
    (std::fs::read(&path).unwrap(), cover.bytes)
}

/// The object `key` of the bucket.
async fn object(moto: &Moto, key: &str) -> bytes::Bytes {
    let store = moto.store();
    let found = store.get(&ObjectPath::from(key)).await.unwrap();
    found.bytes().await.unwrap()
}

#[tokio::test]
async fn blobs_live_in_the_bucket_stream_by_range_and_survive_a_restart() {
    let moto = Moto::start("skylark-blobs").await;
    let config = Config {
        s3: Some(moto.config()),
        ..Config::default()
    };
    let locker = Locker::start(config).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let work = tempfile::tempdir().unwrap();
    let (bytes, cover) = song(work.path());
    assert!(bytes.len() > 100_000, "{}", bytes.len());
    let middle = bytes.len() / 2;

    // Upload: the verified blob and its cover are in the bucket, nothing in the data folder.
    let hash = upload(&locker, &alice, &bytes).await;
    let cover_hash = blake3_hex(&cover);
    assert_eq!(keys(&moto).await, [blob_key(&hash), cover_key(&cover_hash)]);
    assert_eq!(
        object(&moto, &blob_key(&hash)).await.as_ref(),
        bytes.as_slice()
    );
    assert!(files_under(&locker.dir.path().join("store")).is_empty());
    assert!(files_under(&locker.dir.path().join("uploads")).is_empty());

    // A big blob goes up as a multipart upload (parts of 8 MiB) and arrives whole.
    let big: Vec<u8> = (0..20_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let big_hash = upload(&locker, &alice, &big).await;
    assert!(
        object(&moto, &blob_key(&big_hash)).await.as_ref() == big.as_slice(),
        "the multipart blob differs"
    );

    // Stream with ranges: ranged GETs of the bucket.
    link(&locker, &alice, "t1", &hash).await;
    let stream = "/api/v1/tracks/t1/stream";
    let whole = get(&locker, &alice, stream).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "audio/flac");
    assert_eq!(whole.bytes().await.unwrap().as_ref(), bytes.as_slice());
    for (range, start, end) in [
        ("bytes=0-3".to_owned(), 0, 4),
        (
            format!("bytes={middle}-{}", middle + 999),
            middle,
            middle + 1000,
        ),
        ("bytes=-100".to_owned(), bytes.len() - 100, bytes.len()),
    ] {
        let part = get_range(&locker, &alice, stream, &range).await;
        assert_eq!(part.status(), 206, "{range}");
        assert_eq!(
            part.bytes().await.unwrap().as_ref(),
            &bytes[start..end],
            "{range}"
        );
    }
    let served = get(&locker, &alice, &format!("/api/v1/covers/{cover_hash}")).await;
    assert_eq!(served.bytes().await.unwrap().as_ref(), cover.as_slice());
    // A Subsonic app's lyrics come from the tags of the blob in the bucket.
    let password = app_password(&locker, &alice).await["password"]
        .as_str()
        .unwrap()
        .to_owned();
    let lyrics: serde_json::Value = locker
        .http
        .get(locker.url("/rest/getLyricsBySongId"))
        .query(&[
            ("u", "alice"),
            ("p", password.as_str()),
            ("v", "1.16.1"),
            ("c", "s3-test"),
            ("f", "json"),
            ("id", "t1"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        lyrics["subsonic-response"]["lyricsList"]["structuredLyrics"][0]["line"],
        json!([{"start": 1000, "value": "Read from the bucket"}]),
        "{lyrics}"
    );

    // Decoded to WAV for a browser, through ranged reads of the bucket: the FLAC's samples.
    let wav_path = "/api/v1/tracks/t1/wav";
    let wav = get(&locker, &alice, wav_path).await;
    assert_eq!(wav.status(), 200);
    let wav = wav.bytes().await.unwrap();
    let reference = work.path().join("reference.wav");
    let tone = Tone {
        seconds: 40.0,
        ..Tone::default()
    };
    write_audio(&reference, Format::Wav, &tone, &TagSpec::default()).unwrap();
    let samples = |bytes: &[u8]| -> Vec<i16> {
        hound::WavReader::new(std::io::Cursor::new(bytes))
            .unwrap()
            .into_samples::<i16>()
            .map(Result::unwrap)
            .collect()
    };
    assert!(samples(&wav) == samples(&std::fs::read(&reference).unwrap()));
    let seeked = get_range(&locker, &alice, wav_path, "bytes=3000001-3100000").await;
    assert_eq!(seeked.status(), 206);
    assert!(seeked.bytes().await.unwrap() == wav[3_000_001..3_100_001]);

    // A second account claims the same bytes: the proof is checked against ranges read from the
    // bucket, and nothing new is stored.
    let files = json!([{"file_hash": hash, "size": bytes.len()}]);
    let answer = verdicts(&locker, &bob, files.clone()).await;
    assert_eq!(answer["results"][0]["status"], "claim", "{answer}");
    let wrong =
        json!({"id": answer["results"][0]["challenge"]["id"], "proof": blake3_hex(b"a guess")});
    assert_error(
        post_json(&locker, &bob, "/api/v1/claims", &wrong).await,
        403,
        "forbidden",
    )
    .await;
    let challenge = verdicts(&locker, &bob, files).await["results"][0]["challenge"].clone();
    let proof = json!({"id": challenge["id"], "proof": prove(&challenge, &bytes)});
    let claimed = post_json(&locker, &bob, "/api/v1/claims", &proof).await;
    assert_eq!(claimed.status(), 200);
    assert_eq!(used_bytes(&locker, &bob).await, bytes.len() as u64);
    let bobs = get(&locker, &bob, &format!("/api/v1/blobs/{hash}")).await;
    assert_eq!(bobs.bytes().await.unwrap().as_ref(), bytes.as_slice());
    assert_eq!(keys(&moto).await.len(), 3);

    // Deletions: a deleted track no longer streams; a terminated upload leaves nothing behind.
    let delete = json!({"ops": [{"id": "del", "hlc": {"wall_ms": 5, "counter": 0, "device": "d"}, "type": "track_delete", "track": "t1"}]});
    let deleted = post_json(&locker, &alice, "/api/v1/ops", &delete).await;
    assert_eq!(deleted.status(), 200);
    assert_error(get(&locker, &alice, stream).await, 404, "not_found").await;
    let whole_file = [7u8; 100_000];
    let pending =
        location(&tus_create(&locker, &alice, whole_file.len(), &blake3_hex(&whole_file)).await);
    let half = tus_patch(&locker, &alice, &pending, 0, whole_file[..50_000].to_vec()).await;
    assert_eq!(half.status(), 204);
    let terminated = locker
        .http
        .delete(locker.url(&pending))
        .bearer_auth(&alice)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(terminated.status(), 204);
    assert!(files_under(&locker.dir.path().join("uploads")).is_empty());
    assert_eq!(
        keys(&moto).await.len(),
        3,
        "nothing of it reached the bucket"
    );

    // A restart over the same database and bucket serves every blob and cover again.
    let locker = locker.restart().await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let big_url = format!("/api/v1/blobs/{big_hash}");
    let again = get_range(&locker, &alice, &big_url, "bytes=19000000-19000099").await;
    assert_eq!(again.status(), 206);
    assert_eq!(
        again.bytes().await.unwrap().as_ref(),
        &big[19_000_000..19_000_100]
    );
    let blob = get(&locker, &alice, &format!("/api/v1/blobs/{hash}")).await;
    assert_eq!(blob.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let served = get(&locker, &alice, &format!("/api/v1/covers/{cover_hash}")).await;
    assert_eq!(served.bytes().await.unwrap().as_ref(), cover.as_slice());
    let me = get_json(&locker, &alice, "/api/v1/me").await;
    assert_eq!(
        me["used_bytes"].as_u64().unwrap(),
        (bytes.len() + big.len()) as u64
    );
    locker.stop().await;
}

#[tokio::test]
async fn a_store_that_cannot_be_reached_fails_the_upload_and_keeps_nothing() {
    // Nothing listens on this port: the store write fails, the client is told, no blob appears,
    // and the server keeps serving.
    let port = crate::python::free_port();
    let config = Config {
        s3: Some(skylark_locker::config::S3Config {
            bucket: "nowhere".to_owned(),
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            region: Some("us-east-1".to_owned()),
            access_key_id: Some("id".to_owned()),
            secret_access_key: Some("secret".to_owned()),
            allow_http: true,
        }),
        ..Config::default()
    };
    let locker = Locker::start(config).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bytes = vec![3u8; 10_000];
    let hash = blake3_hex(&bytes);
    let created = location(&tus_create(&locker, &alice, bytes.len(), &hash).await);
    let failed = tus_patch(&locker, &alice, &created, 0, bytes).await;
    assert_error(failed, 500, "internal").await;
    assert_eq!(used_bytes(&locker, &alice).await, 0);
    let blob = get(&locker, &alice, &format!("/api/v1/blobs/{hash}")).await;
    assert_eq!(blob.status(), 404);
    locker.stop().await;
}
