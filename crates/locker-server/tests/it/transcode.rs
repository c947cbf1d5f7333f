//! Songs decoded to WAV for players that cannot play their format (Apple Lossless and AIFF in
//! Chromium and Firefox): whole, in byte ranges that agree with the whole, to their owner only,
//! over the API and as Subsonic's `stream?format=wav`.

use std::path::Path;

use serde_json::json;
use skylark_locker::config::Config;
use skylark_testsupport::{Format, TagSpec, Tone, write_audio, write_random_bytes};

use crate::subsonic::{App, app_password, fields};
use crate::{
    ALICE_PASSWORD, BOB_PASSWORD, Locker, assert_error, get, get_range, post_json, upload,
};

/// Uploads the file at `path` as track `id` of the account of `token`, described as the desktop
/// describes it.
async fn add(locker: &Locker, token: &str, id: &str, path: &Path) {
    let blob = upload(locker, token, &std::fs::read(path).unwrap()).await;
    let info = skylark_tags::read_path(path, skylark_tags::ReadOptions { cover: false });
    let fields = info.map_or_else(|_| json!({"title": id}), |info| fields(&info));
    let ops = json!({"ops": [{
        "id": format!("add-{id}"), "hlc": {"wall_ms": 1, "counter": 0, "device": "d"},
        "type": "track_set", "track": id, "blob": blob, "fields": fields
    }]});
    let r = post_json(locker, token, "/api/v1/ops", &ops).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// The spec and integer samples of a WAV file's bytes.
fn pcm(bytes: &[u8]) -> (hound::WavSpec, Vec<i32>) {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).unwrap();
    let spec = reader.spec();
    let samples = reader.into_samples::<i32>().map(Result::unwrap).collect();
    (spec, samples)
}

/// Writes `tone` as `format` and as the WAV it was made from; returns the latter's bytes.
fn fixture(dir: &Path, name: &str, format: Format, tone: &Tone) -> Vec<u8> {
    write_audio(
        &dir.join(format!("{name}.{}", format.extension())),
        format,
        tone,
        &TagSpec::default(),
    )
    .unwrap();
    let reference = dir.join(format!("{name}-reference.wav"));
    write_audio(&reference, Format::Wav, tone, &TagSpec::default()).unwrap();
    std::fs::read(reference).unwrap()
}

#[tokio::test]
async fn apple_lossless_and_aiff_come_out_as_the_samples_they_hold() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    // 24-bit stereo Apple Lossless, and 16-bit mono AIFF at 48 kHz, of odd lengths.
    let alac_tone = Tone {
        seconds: 3.3,
        bits: 24,
        frequency: 997.0,
        ..Tone::default()
    };
    let aiff_tone = Tone {
        seconds: 1.7,
        sample_rate: 48_000,
        channels: 1,
        ..Tone::default()
    };
    let cases = [
        ("alac", Format::M4aAlac, alac_tone, 24),
        ("aiff", Format::Aiff, aiff_tone, 16),
    ];
    for (id, format, tone, bits) in cases {
        let reference = fixture(dir.path(), id, format, &tone);
        add(
            &locker,
            &token,
            id,
            &dir.path().join(format!("{id}.{}", format.extension())),
        )
        .await;
        let path = format!("/api/v1/tracks/{id}/wav");

        let whole = get(&locker, &token, &path).await;
        assert_eq!(whole.status(), 200, "{id}");
        assert_eq!(whole.headers()["content-type"], "audio/wav");
        assert_eq!(whole.headers()["accept-ranges"], "bytes");
        let length: usize = whole.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let whole = whole.bytes().await.unwrap();
        assert_eq!(whole.len(), length, "{id}");
        let (spec, samples) = pcm(&whole);
        assert_eq!(
            (spec.sample_rate, spec.channels, spec.bits_per_sample),
            (tone.sample_rate, tone.channels, bits),
            "{id}"
        );
        let (_, expected) = pcm(&reference);
        assert_eq!(
            samples.len() as u64,
            tone.total_frames() * u64::from(tone.channels)
        );
        assert!(
            samples == expected,
            "{id}: the samples differ from the source's"
        );

        // Ranges as a browser asks for them when it seeks: the bytes a whole response has there,
        // wherever they start and end (in the header, inside a frame, at the end).
        let len = whole.len();
        for (range, start, end) in [
            ("bytes=0-43".to_owned(), 0, 44),
            ("bytes=10-100000".to_owned(), 10, 100_001),
            (format!("bytes={}-", len / 2 + 1), len / 2 + 1, len),
            ("bytes=-1001".to_owned(), len - 1001, len),
            (format!("bytes={0}-{0}", len - 2), len - 2, len - 1),
        ] {
            let part = get_range(&locker, &token, &path, &range).await;
            assert_eq!(part.status(), 206, "{id} {range}");
            assert_eq!(
                part.headers()["content-range"],
                format!("bytes {start}-{}/{len}", end - 1)
            );
            assert!(
                part.bytes().await.unwrap() == whole[start..end],
                "{id} {range}: the bytes differ from the whole file's"
            );
        }
        let beyond = get_range(&locker, &token, &path, &format!("bytes={len}-")).await;
        assert_eq!(beyond.status(), 416);
        assert_eq!(beyond.headers()["content-range"], format!("bytes */{len}"));
        let head = locker
            .http
            .head(locker.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(head.headers()["content-length"], len.to_string());
    }
    locker.stop().await;
}

#[tokio::test]
async fn lossy_songs_without_a_declared_length_are_counted_first() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    let tone = Tone {
        seconds: 2.2,
        ..Tone::default()
    };
    let path = dir.path().join("song.ogg");
    write_audio(&path, Format::OggVorbis, &tone, &TagSpec::default()).unwrap();
    add(&locker, &token, "vorbis", &path).await;
    let whole = get(&locker, &token, "/api/v1/tracks/vorbis/wav").await;
    assert_eq!(whole.status(), 200);
    let whole = whole.bytes().await.unwrap();
    // A seek: the length is the one counted for the first request.
    let part = get_range(
        &locker,
        &token,
        "/api/v1/tracks/vorbis/wav",
        "bytes=100001-",
    )
    .await;
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100001-{}/{}", whole.len() - 1, whole.len())
    );
    assert!(part.bytes().await.unwrap() == whole[100_001..]);
    let (spec, samples) = pcm(&whole);
    assert_eq!((spec.channels, spec.bits_per_sample), (2, 16));
    // Vorbis in Ogg trims to the exact length through its granule positions.
    assert_eq!(samples.len() as u64, tone.total_frames() * 2);
    assert!(
        samples.iter().any(|&s| s.abs() > 10_000),
        "the tone is there"
    );
    locker.stop().await;
}

#[tokio::test]
async fn only_the_owner_gets_it_and_undecodable_files_say_so() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), "song", Format::Aiff, &Tone::default());
    add(&locker, &alice, "aiff", &dir.path().join("song.aiff")).await;
    let path = "/api/v1/tracks/aiff/wav";
    assert_error(get(&locker, &bob, path).await, 404, "not_found").await;
    assert_error(
        locker.http.get(locker.url(path)).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        get(&locker, &alice, "/api/v1/tracks/nothing/wav").await,
        404,
        "not_found",
    )
    .await;

    // WavPack has no decoder here; random bytes under an audio name decode to nothing.
    let wavpack = dir.path().join("song.wv");
    write_audio(
        &wavpack,
        Format::WavPack,
        &Tone::default(),
        &TagSpec::default(),
    )
    .unwrap();
    add(&locker, &alice, "wavpack", &wavpack).await;
    let noise = dir.path().join("noise.m4a");
    write_random_bytes(&noise, 50_000, 7).unwrap();
    add(&locker, &alice, "noise", &noise).await;
    for id in ["wavpack", "noise"] {
        let r = get(&locker, &alice, &format!("/api/v1/tracks/{id}/wav")).await;
        assert_eq!(r.status(), 422, "{id}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "undecodable", "{id}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("the locker cannot decode this song"),
            "{id}: {message}"
        );
    }
    locker.stop().await;
}

#[tokio::test]
async fn subsonic_apps_ask_for_it_with_format_wav() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    let tone = Tone {
        seconds: 1.3,
        ..Tone::default()
    };
    let reference = fixture(dir.path(), "song", Format::M4aAlac, &tone);
    let path = dir.path().join("song.m4a");
    add(&locker, &token, "alac", &path).await;
    let app = App::of(&locker, &app_password(&locker, &token).await);

    let wav = app
        .raw("stream", &[("id", "alac"), ("format", "wav")], &app.auth())
        .await;
    assert_eq!(wav.status(), 200);
    assert_eq!(wav.headers()["content-type"], "audio/wav");
    let (_, samples) = pcm(&wav.bytes().await.unwrap());
    assert!(samples == pcm(&reference).1);
    let api = get(&locker, &token, "/api/v1/tracks/alac/wav").await;
    assert_eq!(api.status(), 200);

    // Any other format, and no format, is the file as uploaded.
    for format in [None, Some("raw"), Some("mp3")] {
        let mut params = vec![("id", "alac")];
        params.extend(format.map(|f| ("format", f)));
        let raw = app.raw("stream", &params, &app.auth()).await;
        assert_eq!(raw.headers()["content-type"], "audio/mp4", "{format:?}");
        assert_eq!(raw.bytes().await.unwrap(), std::fs::read(&path).unwrap());
    }
    locker.stop().await;
}
