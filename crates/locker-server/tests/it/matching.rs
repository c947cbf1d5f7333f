//! Scan and match: have, claim with proof of possession, upload.

use serde_json::{Value, json};
use skylark_locker::config::Config;

use crate::{
    ALICE_PASSWORD, BOB_PASSWORD, Locker, assert_error, get_json, post_json, post_match, prove,
    upload, verdicts,
};

fn bytes(seed: u32, len: u32) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)).to_le_bytes()[2])
        .collect()
}

fn hash(b: &[u8]) -> String {
    blake3::hash(b).to_hex().to_string()
}

async fn claim(locker: &Locker, token: &str, id: &str, proof: &str) -> reqwest::Response {
    post_json(
        locker,
        token,
        "/api/v1/claims",
        &json!({"id": id, "proof": proof}),
    )
    .await
}

#[tokio::test]
async fn have_claim_and_upload() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let song = bytes(1, 300_000);
    let other = bytes(2, 1_000);
    upload(&locker, &alice, &song).await;

    // Alice's second computer: everything she has is "have", so nothing is uploaded again.
    let files = json!([
        {"file_hash": hash(&song), "size": song.len()},
        {"file_hash": hash(&other), "size": other.len()},
    ]);
    let answer: Value = verdicts(&locker, &alice, files.clone()).await;
    assert_eq!(answer["results"][0]["status"], "have");
    assert_eq!(answer["results"][1]["status"], "upload");

    // Bob has the same song: the locker asks him to prove it instead of uploading it.
    let answer: Value = verdicts(&locker, &bob, files).await;
    assert_eq!(answer["results"][0]["status"], "claim");
    let challenge = answer["results"][0]["challenge"].clone();
    assert_eq!(challenge["ranges"].as_array().unwrap().len(), 3);
    let id = challenge["id"].as_str().unwrap();
    let accepted = claim(&locker, &bob, id, &prove(&challenge, &song)).await;
    assert_eq!(accepted.status(), 200);
    let body: Value = accepted.json().await.unwrap();
    assert_eq!(body["file_hash"], hash(&song));
    let me: Value = get_json(&locker, &bob, "/api/v1/me").await;
    assert_eq!(me["used_bytes"], 300_000);
    let again: Value = verdicts(
        &locker,
        &bob,
        json!([{"file_hash": hash(&song), "size": song.len()}]),
    )
    .await;
    assert_eq!(again["results"][0]["status"], "have");
    locker.stop().await;
}

#[tokio::test]
async fn knowing_the_hash_is_not_enough() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let song = bytes(3, 200_000);
    upload(&locker, &alice, &song).await;
    let answer: Value = verdicts(
        &locker,
        &bob,
        json!([{"file_hash": hash(&song), "size": song.len()}]),
    )
    .await;
    let challenge = answer["results"][0]["challenge"].clone();
    let id = challenge["id"].as_str().unwrap();
    // A wrong proof is refused, and the challenge is used up: no second guess.
    assert_error(
        claim(&locker, &bob, id, &hash(b"guess")).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        claim(&locker, &bob, id, &prove(&challenge, &song)).await,
        404,
        "not_found",
    )
    .await;
    // Alice cannot answer Bob's challenge either.
    let answer: Value = verdicts(
        &locker,
        &bob,
        json!([{"file_hash": hash(&song), "size": song.len()}]),
    )
    .await;
    let challenge = answer["results"][0]["challenge"].clone();
    assert_error(
        claim(
            &locker,
            &alice,
            challenge["id"].as_str().unwrap(),
            &prove(&challenge, &song),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // A size that does not match the stored bytes is simply an upload.
    let answer: Value = verdicts(
        &locker,
        &bob,
        json!([{"file_hash": hash(&song), "size": 5}]),
    )
    .await;
    assert_eq!(answer["results"][0]["status"], "upload");
    locker.stop().await;
}

#[tokio::test]
async fn the_same_audio_with_other_tags_is_have() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let song = bytes(4, 50_000);
    let blob = upload(&locker, &alice, &song).await;
    let audio_id = hash(b"the audio packets");
    let ops = json!({"ops": [{"id": "t", "hlc": {"wall_ms": 1, "counter": 0, "device": "d"}, "type": "track_set",
        "track": "t1", "blob": blob, "fields": {"audio_id": audio_id}}]});
    post_json(&locker, &alice, "/api/v1/ops", &ops).await;
    let retagged = hash(b"the same audio with new tags");
    let answer: Value = verdicts(
        &locker,
        &alice,
        json!([{"audio_id": audio_id, "file_hash": retagged, "size": 50_100}]),
    )
    .await;
    assert_eq!(answer["results"][0]["status"], "have");
    locker.stop().await;
}

#[tokio::test]
async fn malformed_match_requests() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    assert_error(
        post_match(&locker, &alice, json!([{"file_hash": "nope", "size": 1}])).await,
        400,
        "bad_request",
    )
    .await;
    let too_many: Vec<Value> = (0..10_001)
        .map(|_| json!({"file_hash": "ab".repeat(32), "size": 1}))
        .collect();
    assert_error(
        post_match(&locker, &alice, Value::Array(too_many)).await,
        400,
        "bad_request",
    )
    .await;
    assert_error(
        claim(&locker, &alice, "no-such-claim", &"00".repeat(32)).await,
        404,
        "not_found",
    )
    .await;
    locker.stop().await;
}
