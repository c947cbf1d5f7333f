//! Scan and match from the device's side: hash local files ([`LocalFile`]), ask the locker which
//! it needs ([`Client::match_files`]), and answer `claim` challenges with proof that the file is
//! here ([`Client::prove_claim`]) so the locker links its copy without an upload.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use skylark_locker_api::{
    ClaimChallenge, ClaimRequest, ClaimResponse, MatchFile, MatchRequest, MatchResponse,
    MatchVerdict,
};
use skylark_tags::{AudioId, FileHash};

use crate::client::Client;
use crate::error::{Error, Result};

pub use skylark_locker_api::MAX_MATCH_FILES;

/// A local file with the hashes matching needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LocalFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// BLAKE3 of its bytes.
    pub file_hash: FileHash,
    /// BLAKE3 of its audio packets; `None` for formats that have none (WavPack, Monkey's Audio),
    /// which are then matched by `file_hash` alone.
    pub audio_id: Option<AudioId>,
}

impl LocalFile {
    /// Hashes the file at `path` (one streaming read gives both ids: see
    /// [`skylark_tags::file_ids_path`]).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read, [`Error::Tags`] if it is not readable audio.
    pub fn hash(path: &Path) -> Result<LocalFile> {
        let size = std::fs::metadata(path)
            .map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })?
            .len();
        let skylark_tags::FileIds {
            file_hash,
            audio_id,
        } = skylark_tags::file_ids_path(path)?;
        Ok(LocalFile {
            path: path.to_owned(),
            size,
            file_hash,
            audio_id,
        })
    }

    fn wire(&self) -> MatchFile {
        MatchFile {
            audio_id: self.audio_id.map(|id| id.to_hex()).unwrap_or_default(),
            file_hash: self.file_hash.to_hex(),
            size: self.size,
        }
    }
}

/// The proof of possession for `challenge`: BLAKE3, hex, of the nonce's bytes followed by the
/// bytes of each range of the file `reader` holds, in the challenge's order.
///
/// # Errors
///
/// The nonce is not hex ([`std::io::ErrorKind::InvalidData`]), a range runs past the end of the
/// file ([`std::io::ErrorKind::UnexpectedEof`]), or reading fails.
pub fn possession_proof<R: Read + Seek>(
    mut reader: R,
    challenge: &ClaimChallenge,
) -> std::io::Result<String> {
    let invalid = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the claim's nonce is not hex",
        )
    };
    let nonce = challenge.nonce.as_bytes();
    if !nonce.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let mut hasher = blake3::Hasher::new();
    for pair in nonce.chunks_exact(2) {
        let text = std::str::from_utf8(pair).map_err(|_| invalid())?;
        hasher.update(&[u8::from_str_radix(text, 16).map_err(|_| invalid())?]);
    }
    for &(offset, len) in &challenge.ranges {
        reader.seek(SeekFrom::Start(offset))?;
        let copied = std::io::copy(&mut reader.by_ref().take(len), &mut hasher)?;
        if copied != len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the file ends before byte {}", offset + len),
            ));
        }
    }
    Ok(hasher.finalize().to_hex().to_string())
}

impl Client {
    /// Asks the locker what it needs for each of `files`: one verdict per file, in order.
    /// Requests carry at most [`MAX_MATCH_FILES`] files each.
    ///
    /// A `claim` verdict carries a challenge to answer with [`Client::prove_claim`] before it
    /// expires; only an `upload` verdict needs the file's bytes sent.
    ///
    /// # Errors
    ///
    /// [`Error::Network`], [`Error::Api`], or [`Error::Protocol`] if the locker answers with
    /// the wrong number of verdicts.
    pub fn match_files(&self, files: &[LocalFile]) -> Result<Vec<MatchVerdict>> {
        let mut verdicts = Vec::with_capacity(files.len());
        for batch in files.chunks(MAX_MATCH_FILES) {
            let request = MatchRequest {
                files: batch.iter().map(LocalFile::wire).collect(),
            };
            let answer: MatchResponse = self.post_json("/api/v1/match", &request)?;
            if answer.results.len() != batch.len() {
                return Err(Error::Protocol {
                    request: "POST /api/v1/match".to_owned(),
                    message: format!(
                        "{} verdicts for {} files",
                        answer.results.len(),
                        batch.len()
                    ),
                });
            }
            verdicts.extend(answer.results);
        }
        Ok(verdicts)
    }

    /// Proves that the file at `path` is here, answering `challenge` (from a `claim` verdict);
    /// the locker then links its copy to this account. No audio is sent: only the proof.
    /// Returns the file hash now in the account.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read (or is shorter than the challenge's ranges),
    /// [`Error::Api`] with [`ErrorCode::Forbidden`](skylark_locker_api::ErrorCode::Forbidden)
    /// when the proof is wrong (the file is not the one matched) and
    /// [`ErrorCode::NotFound`](skylark_locker_api::ErrorCode::NotFound) when the challenge
    /// expired or was answered already (match again), or [`Error::Network`].
    pub fn prove_claim(&self, challenge: &ClaimChallenge, path: &Path) -> Result<FileHash> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let proof = possession_proof(BufReader::new(file), challenge).map_err(io)?;
        let answer: ClaimResponse = self.post_json(
            "/api/v1/claims",
            &ClaimRequest {
                id: challenge.id.clone(),
                proof,
            },
        )?;
        answer.file_hash.parse().map_err(|e| Error::Protocol {
            request: "POST /api/v1/claims".to_owned(),
            message: format!("{e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(nonce: &str, ranges: Vec<(u64, u64)>) -> ClaimChallenge {
        ClaimChallenge {
            id: "c".to_owned(),
            nonce: nonce.to_owned(),
            ranges,
            expires_at: 0,
        }
    }

    #[test]
    fn proofs_hash_the_nonce_then_each_range() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let c = challenge("00ff10", vec![(9000, 100), (5, 20)]);
        let mut expected = blake3::Hasher::new();
        expected.update(&[0x00, 0xff, 0x10]);
        expected.update(&data[9000..9100]);
        expected.update(&data[5..25]);
        assert_eq!(
            possession_proof(std::io::Cursor::new(&data), &c).unwrap(),
            expected.finalize().to_hex().as_str()
        );
    }

    #[test]
    fn bad_challenges_are_errors() {
        let data = vec![0u8; 100];
        for c in [
            challenge("0", vec![]),
            challenge("zz", vec![]),
            challenge("00", vec![(90, 20)]),
            challenge("00", vec![(1000, 1)]),
        ] {
            assert!(
                possession_proof(std::io::Cursor::new(&data), &c).is_err(),
                "{c:?}"
            );
        }
    }
}
