//! A buffered file reader that reads at positions (`pread`), so a seek is a number kept in memory
//! rather than a system call, and that can hash the file's bytes in order while a demuxer reads
//! it: one pass over a file gives both its audio id and its file hash.
//!
//! Demuxers read mostly front to back but not only: they jump to an index at the end, re-read a
//! header, skip a picture. The hash takes bytes only in file order: whatever a read returns from
//! the first byte not yet hashed onwards is hashed, and the rest is not. [`PositionedFile::finish_hash`]
//! then reads and hashes whatever the demuxer never reached in order (an MP4 index it read early,
//! a tail it skipped), so the file hash is BLAKE3 of every byte whatever the reads were.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// Bytes read from the file at a time when hashing (wide inputs let BLAKE3 hash many chunks side
/// by side in SIMD lanes).
pub(crate) const HASHING_BUFFER: usize = 64 * 1024;

/// Bytes read from the file at a time when reading tags: headers and frames are small, and
/// reading more than they need costs copies.
pub(crate) const TAG_BUFFER: usize = 8 * 1024;

/// A file read at positions through one buffer; see the module's documentation.
pub(crate) struct PositionedFile {
    file: File,
    len: u64,
    /// The position the next read starts at.
    pos: u64,
    buffer: Box<[u8]>,
    /// Where `buffer[..filled]` came from in the file.
    buffer_start: u64,
    filled: usize,
    /// The running hash of the file's bytes `..hashed`, when hashing.
    hasher: Option<blake3::Hasher>,
    hashed: u64,
}

impl PositionedFile {
    /// Reads `file`, `len` bytes long, `buffer` bytes at a time; with `hash`, hashes its bytes
    /// as they are read in order.
    pub(crate) fn new(file: File, len: u64, buffer: usize, hash: bool) -> PositionedFile {
        PositionedFile {
            file,
            len,
            pos: 0,
            buffer: vec![0; buffer.max(1)].into_boxed_slice(),
            buffer_start: 0,
            filled: 0,
            hasher: hash.then(blake3::Hasher::new),
            hashed: 0,
        }
    }

    /// The file's length in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Returns BLAKE3 of the whole file, reading now what no read reached in order (all of it
    /// for a reader made without hashing).
    ///
    /// # Errors
    ///
    /// Reading fails, or the file is shorter than it was when opened.
    pub(crate) fn finish_hash(mut self) -> io::Result<[u8; 32]> {
        let (mut hasher, mut at) = match self.hasher.take() {
            Some(hasher) => (hasher, self.hashed),
            None => (blake3::Hasher::new(), 0),
        };
        while at < self.len {
            let size = self.buffer.len();
            let want = usize::try_from(self.len - at).map_or(size, |rest| rest.min(size));
            let got = read_at(&self.file, &mut self.buffer[..want], at)?;
            if got == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file became shorter while it was read",
                ));
            }
            hasher.update(&self.buffer[..got]);
            at += got as u64;
        }
        Ok(*hasher.finalize().as_bytes())
    }

    /// Hashes what `bytes`, read from `start`, adds to the bytes hashed so far in order.
    fn hash_in_order(
        hasher: &mut Option<blake3::Hasher>,
        hashed: &mut u64,
        start: u64,
        bytes: &[u8],
    ) {
        let Some(hasher) = hasher else {
            return;
        };
        let end = start + bytes.len() as u64;
        if start <= *hashed && *hashed < end {
            let skip = usize::try_from(*hashed - start).unwrap_or(bytes.len());
            hasher.update(&bytes[skip..]);
            *hashed = end;
        }
    }
}

impl Read for PositionedFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let buffer_end = self.buffer_start + self.filled as u64;
        if !(self.buffer_start..buffer_end).contains(&self.pos) {
            if out.len() >= self.buffer.len() {
                // A large read goes straight into the caller's memory.
                let got = read_at(&self.file, out, self.pos)?;
                Self::hash_in_order(&mut self.hasher, &mut self.hashed, self.pos, &out[..got]);
                self.pos += got as u64;
                return Ok(got);
            }
            self.filled = 0;
            self.buffer_start = self.pos;
            let got = read_at(&self.file, &mut self.buffer, self.pos)?;
            if got == 0 {
                return Ok(0);
            }
            self.filled = got;
            Self::hash_in_order(
                &mut self.hasher,
                &mut self.hashed,
                self.buffer_start,
                &self.buffer[..got],
            );
        }
        let offset = usize::try_from(self.pos - self.buffer_start).unwrap_or(usize::MAX);
        let available = &self.buffer[offset.min(self.filled)..self.filled];
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for PositionedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a position before the start of the file",
            )
        })?;
        self.pos = target;
        Ok(target)
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.pos)
    }
}

/// Reads into `buf` from `offset` without moving any shared cursor, retrying interruptions;
/// returns how many bytes were read (0 at the end of the file).
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Reads into `buf` from `offset`; returns how many bytes were read (0 at the end of the file).
/// (Windows moves the file's cursor here, which this reader never relies on.)
#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::windows::fs::FileExt;
    loop {
        match file.seek_read(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Reads into `buf` from `offset`; returns how many bytes were read (0 at the end of the file).
#[cfg(not(any(unix, windows)))]
fn read_at(mut file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.seek(SeekFrom::Start(offset))?;
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> (tempfile::NamedTempFile, PositionedFile) {
        let mut temp = tempfile::NamedTempFile::new().unwrap();
        temp.write_all(bytes).unwrap();
        temp.flush().unwrap();
        let file = File::open(temp.path()).unwrap();
        // A small buffer, so that reads of every size meet its edges.
        let reader = PositionedFile::new(file, bytes.len() as u64, 4096, true);
        (temp, reader)
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn reads_like_the_file_whatever_the_seeks() {
        let bytes = pattern(300_000);
        let (_temp, mut reader) = file_of(&bytes);
        let mut got = vec![0; 1000];
        reader.seek(SeekFrom::End(-1000)).unwrap();
        reader.read_exact(&mut got).unwrap();
        assert_eq!(got, bytes[299_000..]);
        reader.seek(SeekFrom::Start(10)).unwrap();
        reader.read_exact(&mut got[..7]).unwrap();
        assert_eq!(got[..7], bytes[10..17]);
        reader.seek(SeekFrom::Current(-3)).unwrap();
        let mut big = vec![0; 200_000];
        reader.read_exact(&mut big).unwrap();
        assert_eq!(big, bytes[14..200_014]);
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, bytes[200_014..]);
        assert!(reader.seek(SeekFrom::Current(-400_000)).is_err());
    }

    #[test]
    fn the_hash_is_of_every_byte_whatever_was_read() {
        let bytes = pattern(500_000);
        let expected = *blake3::hash(&bytes).as_bytes();
        // Read in order, then nothing, then jumping about (an index at the end read first, a
        // middle skipped, the start read twice).
        let reads: [&[(u64, usize)]; 4] = [
            &[(0, 500_000)],
            &[],
            &[(490_000, 10_000), (0, 100), (0, 70_000), (300_000, 5)],
            &[(0, 10), (5, 100_000), (100_005, 3), (250_000, 250_000)],
        ];
        for pattern_of_reads in reads {
            let (_temp, mut reader) = file_of(&bytes);
            for &(at, len) in pattern_of_reads {
                reader.seek(SeekFrom::Start(at)).unwrap();
                let mut buf = vec![0; len];
                reader.read_exact(&mut buf).unwrap();
                assert_eq!(buf, bytes[at as usize..at as usize + len]);
            }
            assert_eq!(reader.finish_hash().unwrap(), expected);
        }
    }

    #[test]
    fn a_reader_made_without_hashing_hashes_the_whole_file_at_the_end() {
        let bytes = pattern(200_000);
        let (temp, _) = file_of(&bytes);
        let mut reader =
            PositionedFile::new(File::open(temp.path()).unwrap(), 200_000, 4096, false);
        let mut buf = vec![0; 150_000];
        reader.read_exact(&mut buf).unwrap();
        assert_eq!(
            reader.finish_hash().unwrap(),
            *blake3::hash(&bytes).as_bytes()
        );
    }

    #[test]
    fn a_file_that_shrinks_is_an_error_not_a_wrong_hash() {
        let bytes = pattern(100_000);
        let (temp, reader) = file_of(&bytes);
        temp.as_file().set_len(50_000).unwrap();
        assert!(reader.finish_hash().is_err());
    }
}
