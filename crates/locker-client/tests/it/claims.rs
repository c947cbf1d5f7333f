//! A second account with the same music proves possession and uploads no audio.

use skylark_locker::config::Config;
use skylark_locker_client::api::{ErrorCode, MatchVerdict};
use skylark_locker_client::{LocalFile, StreamOptions};

use crate::proxy::Proxy;
use crate::{Locker, read_all, via, wav};

#[test]
fn a_second_account_claims_with_zero_audio_bytes_uploaded() {
    let locker = Locker::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let path = wav(dir.path(), "song", 6.0, 440.0);
    let file = LocalFile::hash(&path).unwrap();
    crate::upload(&locker.alice(), &file);
    let uploaded = locker.upload_bytes();

    // Bob has the same file on his own disk.
    let bobs_dir = tempfile::tempdir().unwrap();
    let bobs_path = bobs_dir.path().join("copy.wav");
    std::fs::copy(&path, &bobs_path).unwrap();
    let bobs_file = LocalFile::hash(&bobs_path).unwrap();
    assert_eq!(bobs_file.file_hash, file.file_hash);

    let proxy = Proxy::start(locker.addr);
    let bob = via(&locker.bob(), &proxy);
    let verdicts = bob.match_files(std::slice::from_ref(&bobs_file)).unwrap();
    let [MatchVerdict::Claim { challenge }] = verdicts.as_slice() else {
        panic!("expected a claim: {verdicts:?}");
    };
    assert_eq!(
        bob.prove_claim(challenge, &bobs_path).unwrap(),
        file.file_hash
    );
    assert_eq!(
        bob.match_files(std::slice::from_ref(&bobs_file)).unwrap(),
        [MatchVerdict::Have]
    );

    // Everything bob sent (headers, JSON, the proof) is a sliver of the file.
    assert!(
        proxy.up_bytes() < 8 * 1024 && file.size > 1_000_000,
        "bob sent {} bytes for a {}-byte file",
        proxy.up_bytes(),
        file.size
    );
    assert_eq!(
        locker.upload_bytes(),
        uploaded,
        "no upload bytes reached the locker"
    );
    assert_eq!(locker.partial_uploads(), 0);
    assert_eq!(bob.me().unwrap().used_bytes, file.size);
    let blob = bob
        .open_blob(&file.file_hash, StreamOptions::default())
        .unwrap();
    assert_eq!(read_all(blob).unwrap(), std::fs::read(&path).unwrap());
}

/// Knowing a file's hash is not enough: the proof is computed from the bytes.
#[test]
fn a_claim_for_a_file_not_on_disk_is_refused() {
    let locker = Locker::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let path = wav(dir.path(), "song", 2.0, 440.0);
    let file = LocalFile::hash(&path).unwrap();
    crate::upload(&locker.alice(), &file);

    // Bob has only the hash, and a file of the same size with other bytes.
    let fake = dir.path().join("fake.wav");
    std::fs::write(&fake, vec![0u8; usize::try_from(file.size).unwrap()]).unwrap();
    let bob = locker.bob();
    let claimed = LocalFile {
        path: fake.clone(),
        ..file.clone()
    };
    let verdicts = bob.match_files(&[claimed]).unwrap();
    let [MatchVerdict::Claim { challenge }] = verdicts.as_slice() else {
        panic!("expected a claim: {verdicts:?}");
    };
    let err = bob.prove_claim(challenge, &fake).unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden), "{err}");
    // The challenge is used up either way.
    let err = bob.prove_claim(challenge, &path).unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound), "{err}");
    assert_eq!(bob.me().unwrap().used_bytes, 0);
    let err = bob
        .open_blob(&file.file_hash, StreamOptions::default())
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound), "{err}");
}
