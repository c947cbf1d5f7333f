//! Scan and match: a device lists the files it has (`POST /api/v1/match`) and the locker answers
//! for each whether the account already holds it (`have`), whether the locker holds the bytes for
//! another account (`claim`), or whether it must be uploaded (`upload`). Only uploads cost
//! bandwidth.
//!
//! A claim must be proven: the server picks a random nonce and byte ranges of the file, and the
//! client answers with BLAKE3(nonce ‖ bytes of each range). Knowing a file's hash is not enough to
//! get its bytes linked to an account; having the file is. A challenge is answered once, right or
//! wrong, and expires after [`CLAIM_TTL_MS`].

use rusqlite::{Connection, OptionalExtension, params};
use skylark_locker_api::{ClaimChallenge, ErrorCode, MatchFile, MatchVerdict};

use crate::UnixMillis;
use crate::accounts::UserId;
use crate::error::{DbContext, Error, Result};
use crate::storage::BlobStore;

pub use skylark_locker_api::MAX_MATCH_FILES;
/// How long a claim challenge may be answered.
pub const CLAIM_TTL_MS: i64 = 10 * 60 * 1000;
/// Ranges per challenge, and the most bytes each covers.
const CHALLENGE_RANGES: usize = 3;
const RANGE_BYTES: u64 = 4096;

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| Error::Io {
        context: "reading the system's random source".to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn valid_hash(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Random ranges within a file of `size` bytes (the whole file when it is small).
fn challenge_ranges(size: u64) -> Result<Vec<(u64, u64)>> {
    if size <= RANGE_BYTES * CHALLENGE_RANGES as u64 {
        return Ok(vec![(0, size)]);
    }
    let mut ranges = Vec::with_capacity(CHALLENGE_RANGES);
    for _ in 0..CHALLENGE_RANGES {
        let r = u64::from_le_bytes(random_bytes::<8>()?);
        ranges.push((r % (size - RANGE_BYTES), RANGE_BYTES));
    }
    Ok(ranges)
}

/// Answers a match request for `user`.
pub fn verdicts(
    conn: &Connection,
    user: UserId,
    files: &[MatchFile],
    now: UnixMillis,
) -> Result<Vec<MatchVerdict>> {
    if files.len() > MAX_MATCH_FILES {
        return Err(Error::api(
            ErrorCode::BadRequest,
            format!("at most {MAX_MATCH_FILES} files per match request"),
        ));
    }
    if let Some((i, _)) = files.iter().enumerate().find(|(_, f)| {
        !valid_hash(&f.file_hash) || (!f.audio_id.is_empty() && !valid_hash(&f.audio_id))
    }) {
        return Err(Error::api(
            ErrorCode::BadRequest,
            format!("file {i}: hashes are BLAKE3 in hex"),
        ));
    }
    let tx = conn.unchecked_transaction().ctx("matching")?;
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let have_file: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM user_blobs WHERE user_id = ?1 AND hash = ?2)",
            )
            .and_then(|mut s| s.query_row(params![user.0, file.file_hash], |r| r.get(0)))
            .ctx("matching")?;
        let have_audio = !file.audio_id.is_empty()
            && {
                let audio = serde_json::Value::String(file.audio_id.clone()).to_string();
                tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM track_fields f JOIN tracks t ON t.user_id = f.user_id AND t.uid = f.uid
                 WHERE f.user_id = ?1 AND f.field = 'audio_id' AND f.value = ?2 AND t.blob IS NOT NULL)",
            )
            .and_then(|mut s| s.query_row(params![user.0, audio], |r| r.get(0)))
            .ctx("matching")?
            };
        if have_file || have_audio {
            out.push(MatchVerdict::Have);
            continue;
        }
        let stored: Option<u64> = tx
            .prepare_cached("SELECT size FROM blobs WHERE hash = ?1")
            .and_then(|mut s| s.query_row([&file.file_hash], |r| r.get(0)).optional())
            .ctx("matching")?;
        match stored {
            Some(size) if size == file.size => {
                let challenge = ClaimChallenge {
                    id: hex(&random_bytes::<16>()?),
                    nonce: hex(&random_bytes::<16>()?),
                    ranges: challenge_ranges(size)?,
                    expires_at: now + CLAIM_TTL_MS,
                };
                let ranges = serde_json::to_string(&challenge.ranges)
                    .map_err(|e| Error::api(ErrorCode::Internal, e.to_string()))?;
                tx.execute(
                    "INSERT INTO claims(id, user_id, hash, nonce, ranges, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![challenge.id, user.0, file.file_hash, challenge.nonce, ranges, challenge.expires_at],
                )
                .ctx("recording a claim")?;
                out.push(MatchVerdict::Claim { challenge });
            }
            _ => out.push(MatchVerdict::Upload),
        }
    }
    tx.execute("DELETE FROM claims WHERE expires_at < ?1", [now])
        .ctx("forgetting expired claims")?;
    tx.commit().ctx("matching")?;
    Ok(out)
}

/// A claim taken from the table (it can be answered only once).
pub struct PendingClaim {
    hash: String,
    nonce: String,
    ranges: Vec<(u64, u64)>,
    size: u64,
}

/// Takes claim `id` of `user` if it is live.
pub fn take_claim(
    conn: &Connection,
    user: UserId,
    id: &str,
    now: UnixMillis,
) -> Result<PendingClaim> {
    let row: Option<(String, String, String, i64, u64)> = conn
        .query_row(
            "SELECT c.hash, c.nonce, c.ranges, c.expires_at, b.size FROM claims c JOIN blobs b ON b.hash = c.hash
             WHERE c.id = ?1 AND c.user_id = ?2",
            params![id, user.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .ctx("looking up a claim")?;
    conn.execute(
        "DELETE FROM claims WHERE id = ?1 AND user_id = ?2",
        params![id, user.0],
    )
    .ctx("using up a claim")?;
    let (hash, nonce, ranges, expires_at, size) = row
        .ok_or_else(|| Error::api(ErrorCode::NotFound, "no such claim (each is answered once)"))?;
    if expires_at < now {
        return Err(Error::api(
            ErrorCode::NotFound,
            "the claim expired; match again",
        ));
    }
    let ranges = serde_json::from_str(&ranges)
        .map_err(|e| Error::api(ErrorCode::Internal, e.to_string()))?;
    Ok(PendingClaim {
        hash,
        nonce,
        ranges,
        size,
    })
}

impl PendingClaim {
    /// The file hash claimed.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The file's size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether `proof` is BLAKE3 of the nonce and the ranges of the stored blob.
    pub async fn verify(&self, blobs: &BlobStore, proof: &str) -> Result<bool> {
        let mut hasher = blake3::Hasher::new();
        let nonce: Vec<u8> = (0..self.nonce.len() / 2)
            .filter_map(|i| u8::from_str_radix(&self.nonce[2 * i..2 * i + 2], 16).ok())
            .collect();
        hasher.update(&nonce);
        for &(offset, len) in &self.ranges {
            hasher.update(
                &blobs
                    .read_range_bytes(&self.hash, offset..offset.saturating_add(len))
                    .await?,
            );
        }
        Ok(hasher.finalize().to_hex().as_str() == proof.trim().to_ascii_lowercase())
    }
}

/// Links blob `hash` of `size` bytes to `user`, within the account's quota.
pub fn link_blob(
    conn: &Connection,
    user: UserId,
    hash: &str,
    size: u64,
    now: UnixMillis,
) -> Result<()> {
    let tx = conn.unchecked_transaction().ctx("linking a blob")?;
    let (quota, used): (u64, u64) = tx
        .query_row(
            "SELECT quota_bytes, used_bytes FROM users WHERE id = ?1",
            [user.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ctx("checking the quota")?;
    let linked = tx
        .execute(
            "INSERT OR IGNORE INTO user_blobs(user_id, hash, added_at) VALUES (?1, ?2, ?3)",
            params![user.0, hash, now],
        )
        .ctx("linking a blob")?;
    if linked > 0 {
        if quota > 0 && used.saturating_add(size) > quota {
            return Err(Error::api(
                ErrorCode::QuotaExceeded,
                "the file does not fit in the account's quota",
            ));
        }
        tx.execute(
            "UPDATE users SET used_bytes = used_bytes + ?2 WHERE id = ?1",
            params![user.0, size],
        )
        .ctx("counting storage")?;
    }
    tx.commit().ctx("linking a blob")
}
