//! Scan and match: have, claim with proof of possession, upload.

use serde_json::{Value, json};
use skylark_locker::config::Config;

use crate::{ALICE_PASSWORD, BOB_PASSWORD, Locker, assert_error, upload};

fn bytes(seed: u32, len: u32) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)).to_le_bytes()[2])
        .collect()
}

fn hash(b: &[u8]) -> String {
    blake3::hash(b).to_hex().to_string()
}

async fn matching(locker: &Locker, token: &str, files: Value) -> reqwest::Response {
    locker
        .http
        .post(locker.url("/api/v1/match"))
        .bearer_auth(token)
        .json(&json!({ "files": files }))
        .send()
        .await
        .unwrap()
}

/// The client's side of a challenge: BLAKE3 of the nonce and the ranges of its own copy.
fn prove(challenge: &Value, file: &[u8]) -> String {
    let nonce = challenge["nonce"].as_str().unwrap();
    let mut hasher = blake3::Hasher::new();
    let nonce: Vec<u8> = (0..nonce.len() / 2)
        .map(|i| u8::from_str_radix(&nonce[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    hasher.update(&nonce);
    for range in challenge["ranges"].as_array().unwrap() {
        let (offset, len) = (
            range[0].as_u64().unwrap() as usize,
            range[1].as_u64().unwrap() as usize,
        );
        hasher.update(&file[offset..offset + len]);
    }
    hasher.finalize().to_hex().to_string()
}

async fn claim(locker: &Locker, token: &str, id: &str, proof: &str) -> reqwest::Response {
    locker
        .http
        .post(locker.url("/api/v1/claims"))
        .bearer_auth(token)
        .json(&json!({"id": id, "proof": proof}))
        .send()
        .await
        .unwrap()
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
    let verdicts: Value = matching(&locker, &alice, files.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verdicts["results"][0]["status"], "have");
    assert_eq!(verdicts["results"][1]["status"], "upload");

    // Bob has the same song: the locker asks him to prove it instead of uploading it.
    let verdicts: Value = matching(&locker, &bob, files).await.json().await.unwrap();
    assert_eq!(verdicts["results"][0]["status"], "claim");
    let challenge = verdicts["results"][0]["challenge"].clone();
    assert_eq!(challenge["ranges"].as_array().unwrap().len(), 3);
    let id = challenge["id"].as_str().unwrap();
    let accepted = claim(&locker, &bob, id, &prove(&challenge, &song)).await;
    assert_eq!(accepted.status(), 200);
    let body: Value = accepted.json().await.unwrap();
    assert_eq!(body["file_hash"], hash(&song));
    let me: Value = locker
        .http
        .get(locker.url("/api/v1/me"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["used_bytes"], 300_000);
    let again: Value = matching(
        &locker,
        &bob,
        json!([{"file_hash": hash(&song), "size": song.len()}]),
    )
    .await
    .json()
    .await
    .unwrap();
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
    let verdicts: Value = matching(
        &locker,
        &bob,
        json!([{"file_hash": hash(&song), "size": song.len()}]),
    )
    .await
    .json()
    .await
    .unwrap();
    let challenge = verdicts["results"][0]["challenge"].clone();
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
    let verdicts: Value = matching(
        &locker,
        &bob,
        json!([{"file_hash": hash(&song), "size": song.len()}]),
    )
    .await
    .json()
    .await
    .unwrap();
    let challenge = verdicts["results"][0]["challenge"].clone();
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
    let verdicts: Value = matching(
        &locker,
        &bob,
        json!([{"file_hash": hash(&song), "size": 5}]),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(verdicts["results"][0]["status"], "upload");
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
    locker
        .http
        .post(locker.url("/api/v1/ops"))
        .bearer_auth(&alice)
        .json(&ops)
        .send()
        .await
        .unwrap();
    let retagged = hash(b"the same audio with new tags");
    let verdicts: Value = matching(
        &locker,
        &alice,
        json!([{"audio_id": audio_id, "file_hash": retagged, "size": 50_100}]),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(verdicts["results"][0]["status"], "have");
    locker.stop().await;
}

#[tokio::test]
async fn malformed_match_requests() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    assert_error(
        matching(&locker, &alice, json!([{"file_hash": "nope", "size": 1}])).await,
        400,
        "bad_request",
    )
    .await;
    let too_many: Vec<Value> = (0..10_001)
        .map(|_| json!({"file_hash": "ab".repeat(32), "size": 1}))
        .collect();
    assert_error(
        matching(&locker, &alice, Value::Array(too_many)).await,
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
