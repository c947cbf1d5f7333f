//! The two identities of a file that matching relies on: its [`AudioId`] (BLAKE3 over the
//! demuxed audio packets, unchanged by tag edits) and its [`FileHash`] (BLAKE3 of every byte).
//!
//! **The audio id, precisely.** The file is opened with symphonia's format readers (demuxers
//! only; nothing is decoded), the default audio track is chosen (the track flagged default, else
//! the first audio track with a known codec), and the `data` of every packet of that track is fed
//! to one BLAKE3 hasher in demux order, with no framing between packets. Headers, codec setup
//! packets (the Vorbis and Opus comment headers among them), tags and cover pictures are not
//! packets, so retagging a file keeps its audio id; re-encoding it does not. Packets are hashed
//! without their boundaries on purpose: how a demuxer slices raw PCM into packets is its own
//! choice, and the id must not change when that choice does. A chained Ogg file is identified by
//! its first logical stream, as the player plays only that one.
//!
//! Both ids read the file as a stream through a fixed-size buffer; neither holds a whole file in
//! memory. The hex form of either (64 lowercase digits) is what `skylark-locker-api`'s
//! `MatchFile` carries.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use lofty::file::FileType;
use lofty::probe::Probe;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

use crate::integrity;
use crate::positioned::{HASHING_BUFFER, PositionedFile};
use crate::{Error, Result};

macro_rules! blake3_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 32]);

        impl $name {
            /// The id made of these 32 bytes.
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The id's 32 bytes.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// The id as 64 lowercase hex digits, the form the locker's API carries.
            pub fn to_hex(&self) -> String {
                self.to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            /// Parses 64 hex digits, either case.
            fn from_str(s: &str) -> std::result::Result<Self, ParseIdError> {
                parse_hex(s).map(Self)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

blake3_id!(
    /// BLAKE3 over a file's demuxed audio packets: the same for every copy of a recording however
    /// it is tagged (see [`audio_id_path`] for exactly what is hashed).
    AudioId
);

blake3_id!(
    /// BLAKE3 of a file's bytes, tags included: the key of the locker's content-addressed blobs.
    FileHash
);

/// Text that is not 64 hex digits, given where an [`AudioId`] or [`FileHash`] was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a BLAKE3 hash (64 hex digits)")]
pub struct ParseIdError {
    text: String,
}

fn parse_hex(s: &str) -> std::result::Result<[u8; 32], ParseIdError> {
    let bad = || ParseIdError {
        text: s.chars().take(80).collect(),
    };
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |c: u8| char::from(c).to_digit(16).ok_or_else(bad);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).map_err(|_| bad())?;
    }
    Ok(out)
}

/// Hashes every byte of the file at `path`, streaming.
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be opened or read.
pub fn file_hash_path(path: &Path) -> Result<FileHash> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    file_hash_reader(file).map_err(io)
}

/// Hashes every byte `reader` yields, streaming.
///
/// # Errors
///
/// The reader fails.
pub fn file_hash_reader<R: Read>(reader: R) -> io::Result<FileHash> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(reader)?;
    Ok(FileHash(*hasher.finalize().as_bytes()))
}

/// The [`AudioId`] of the file at `path`.
///
/// The file is opened with symphonia's format readers (demuxers only; nothing is decoded), the
/// default audio track is chosen (the track flagged default, else the first audio track with a
/// known codec), and the `data` of every packet of that track is fed to one BLAKE3 hasher in
/// demux order, with no framing between packets. Headers, codec setup packets, tags and pictures
/// are not packets, so retagging keeps the id. A file shorter than its header declares (by more
/// than 1%) is corrupt, not a shorter recording. The file is streamed, never read whole.
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be read, [`Error::Empty`], [`Error::NotAudio`] for bytes
/// that are no audio format, [`Error::Unsupported`] for audio in a container symphonia cannot
/// demux (WavPack, Monkey's Audio: match those by their [`FileHash`] alone),
/// [`Error::Corrupt`] for a truncated or broken file, [`Error::Panicked`] if the demuxer fails.
pub fn audio_id_path(path: &Path) -> Result<AudioId> {
    let mut reader = open_positioned(path, false)?;
    let len = reader.len();
    audio_id_guarded(&mut reader, len, path)
}

/// Both identities of the file at `path`, from one read of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIds {
    /// BLAKE3 of every byte.
    pub file_hash: FileHash,
    /// The audio id; `None` for audio that cannot be demuxed (WavPack, Monkey's Audio), which is
    /// matched by its file hash alone.
    pub audio_id: Option<AudioId>,
}

/// The [`FileHash`] and the [`AudioId`] of the file at `path`, reading it once: the bytes the
/// demuxer reads in file order are hashed as they pass, and only what it did not reach in order
/// (an index it read early, a tail it skipped) is read again. The same values as
/// [`file_hash_path`] and [`audio_id_path`], in about the time of the second alone.
///
/// # Errors
///
/// As [`audio_id_path`], except [`Error::Unsupported`], which gives `audio_id: None`.
pub fn file_ids_path(path: &Path) -> Result<FileIds> {
    let mut reader = open_positioned(path, true)?;
    let len = reader.len();
    let audio_id = match audio_id_guarded(&mut reader, len, path) {
        Ok(id) => Some(id),
        Err(Error::Unsupported { .. }) => None,
        Err(e) => return Err(e),
    };
    let file_hash = reader.finish_hash().map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(FileIds {
        file_hash: FileHash(file_hash),
        audio_id,
    })
}

fn open_positioned(path: &Path, hash: bool) -> Result<PositionedFile> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    Ok(PositionedFile::new(file, len, HASHING_BUFFER, hash))
}

/// The [`AudioId`] of the file `reader` holds, read from its start. `name_hint` is a file name
/// whose extension helps detection when the content is ambiguous, and names the file in errors.
///
/// # Errors
///
/// As [`audio_id_path`].
pub fn audio_id_reader<R: Read + Seek + Send>(
    mut reader: R,
    name_hint: Option<&str>,
) -> Result<AudioId> {
    let path = PathBuf::from(name_hint.unwrap_or_default());
    let len = reader
        .seek(SeekFrom::End(0))
        .and_then(|len| reader.rewind().map(|()| len))
        .map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    audio_id_guarded(&mut reader, len, &path)
}

fn audio_id_guarded<R: Read + Seek + Send>(
    reader: &mut R,
    len: u64,
    path: &Path,
) -> Result<AudioId> {
    if len == 0 {
        return Err(Error::Empty {
            path: path.to_owned(),
        });
    }
    // symphonia's rule is never to panic on input, but a library holds files written by every
    // tool ever made: a panic in a demuxer must not take a background scan down with it.
    catch_unwind(AssertUnwindSafe(|| audio_id_inner(reader, len, path))).unwrap_or_else(|_| {
        Err(Error::Panicked {
            path: path.to_owned(),
        })
    })
}

fn audio_id_inner<R: Read + Seek + Send>(reader: &mut R, len: u64, path: &Path) -> Result<AudioId> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let corrupt = |message: String| Error::Corrupt {
        path: path.to_owned(),
        message,
    };

    // lofty detects the format (by content, falling back to the extension) and the integrity
    // checks catch a file cut short cleanly at a packet boundary, which demuxing alone would take
    // for a shorter recording.
    let detected = {
        let mut probe = Probe::new(&mut *reader);
        if let Some(hint) = FileType::from_path(path) {
            probe = probe.set_file_type(hint);
        }
        probe.guess_file_type().map_err(io)?.file_type()
    };
    let Some(file_type) = detected else {
        return Err(Error::NotAudio {
            path: path.to_owned(),
        });
    };
    // symphonia has format readers for these; for any other (WavPack, Monkey's Audio, Musepack,
    // Speex) its MP3 reader's hunt for a frame sync could "find" audio in foreign bytes.
    if !matches!(
        file_type,
        FileType::Mpeg
            | FileType::Flac
            | FileType::Vorbis
            | FileType::Opus
            | FileType::Mp4
            | FileType::Wav
            | FileType::Aiff
    ) {
        return Err(Error::Unsupported {
            path: path.to_owned(),
            message: format!("{file_type:?} files cannot be demuxed, so they have no audio id"),
        });
    }
    reader.rewind().map_err(io)?;
    integrity::check(reader, file_type, len).map_err(|problem| match problem {
        integrity::Problem::Io(source) => io(source),
        integrity::Problem::NotAudio => Error::NotAudio {
            path: path.to_owned(),
        },
        integrity::Problem::Truncated(message) => corrupt(message),
    })?;
    reader.rewind().map_err(io)?;

    let mut hint = Hint::new();
    if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(extension);
    }
    let source = SyncSource {
        inner: Mutex::new(reader),
        len,
    };
    let stream = MediaSourceStream::new(Box::new(source), MediaSourceStreamOptions::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::IoError(source) if source.kind() != io::ErrorKind::UnexpectedEof => {
                io(source)
            }
            SymphoniaError::Unsupported(what) => Error::Unsupported {
                path: path.to_owned(),
                message: format!("cannot demux this {file_type:?} file: {what}"),
            },
            other => corrupt(format!("cannot demux: {other}")),
        })?;
    let (track, declared) = format
        .default_track(TrackType::Audio)
        .map(|t| (t.id, t.duration.map(|d| d.get())))
        .ok_or_else(|| corrupt("no audio track".to_owned()))?;
    let mut demuxed = 0u64;

    let mut hasher = GatheringHasher::default();
    let mut packets = 0u64;
    loop {
        match format.next_packet() {
            Ok(Some(packet)) => {
                if packet.track_id == track {
                    hasher.update(&packet.data);
                    packets += 1;
                    demuxed = demuxed.saturating_add(packet.dur.get());
                }
            }
            // The end of the media, or of the first logical stream of a chained Ogg file.
            Ok(None) | Err(SymphoniaError::ResetRequired) => break,
            Err(SymphoniaError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(corrupt("the file ends inside an audio packet".to_owned()));
            }
            Err(SymphoniaError::IoError(e)) => return Err(io(e)),
            Err(other) => return Err(corrupt(format!("cannot demux: {other}"))),
        }
    }
    if packets == 0 {
        return Err(corrupt("the audio track has no packets".to_owned()));
    }
    // A file cut short at a packet boundary demuxes cleanly; the duration its header declares
    // tells. Packet durations may include encoder padding (MP3), so only a shortfall counts, and
    // a 1% slack absorbs headers that round.
    if let Some(declared) = declared
        && demuxed < declared - declared / 100
    {
        return Err(corrupt(format!(
            "the audio track holds {demuxed} of the {declared} time units its header declares"
        )));
    }
    Ok(AudioId(hasher.finalize()))
}

/// Bytes gathered before they are handed to BLAKE3.
const GATHER: usize = 64 * 1024;

/// A BLAKE3 hasher fed in large pieces. Compressed packets are a few hundred bytes, and BLAKE3
/// given one at a time compresses them block by block; given 64 KiB at once it hashes many 1 KiB
/// chunks side by side in SIMD lanes, several times faster. How the input is split does not
/// change the hash.
struct GatheringHasher {
    hasher: blake3::Hasher,
    gathered: Vec<u8>,
}

impl Default for GatheringHasher {
    fn default() -> Self {
        GatheringHasher {
            hasher: blake3::Hasher::new(),
            gathered: Vec::with_capacity(GATHER),
        }
    }
}

impl GatheringHasher {
    fn update(&mut self, bytes: &[u8]) {
        if self.gathered.len() + bytes.len() > GATHER {
            self.hasher.update(&self.gathered);
            self.gathered.clear();
        }
        if bytes.len() >= GATHER {
            self.hasher.update(bytes);
        } else {
            self.gathered.extend_from_slice(bytes);
        }
    }

    fn finalize(mut self) -> [u8; 32] {
        self.hasher.update(&self.gathered);
        *self.hasher.finalize().as_bytes()
    }
}

/// Adapts a `Read + Seek + Send` reader to symphonia's [`MediaSource`], which also asks for
/// `Sync`. The reader is only reached through `&mut self`, so the mutex is never contended; it
/// exists to make the type `Sync`.
struct SyncSource<'r, R> {
    inner: Mutex<&'r mut R>,
    len: u64,
}

impl<R> SyncSource<'_, R> {
    fn reader(&mut self) -> &mut R {
        self.inner.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<R: Read> Read for SyncSource<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader().read(buf)
    }
}

impl<R: Seek> Seek for SyncSource<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.reader().seek(pos)
    }
}

impl<R: Read + Seek + Send> MediaSource for SyncSource<'_, R> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        let id = FileHash::from_bytes([0xab; 32]);
        let hex = id.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(hex, "ab".repeat(32));
        assert_eq!(hex.parse::<FileHash>().unwrap(), id);
        assert_eq!(hex.to_uppercase().parse::<FileHash>().unwrap(), id);
        assert!("ab".repeat(31).parse::<FileHash>().is_err());
        assert!("zz".repeat(32).parse::<AudioId>().is_err());
        assert!("é".repeat(32).parse::<AudioId>().is_err());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<FileHash>(&json).unwrap(), id);
    }

    #[test]
    fn file_hash_is_blake3_of_the_bytes() {
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let hash = file_hash_reader(&bytes[..]).unwrap();
        assert_eq!(hash.as_bytes(), blake3::hash(&bytes).as_bytes());
    }

    #[test]
    fn an_empty_buffer_has_no_audio_id() {
        let result = audio_id_reader(io::Cursor::new(Vec::new()), Some("x.flac"));
        assert!(matches!(result, Err(Error::Empty { .. })), "{result:?}");
    }
}
