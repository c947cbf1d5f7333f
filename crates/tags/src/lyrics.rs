//! A song's lyrics: from an LRC file beside the audio file (`Song.lrc` for `Song.flac`), else
//! from the file's tags (ID3v2 `USLT`, Vorbis `LYRICS` or `UNSYNCEDLYRICS`, MP4 `©lyr`, APEv2
//! `Lyrics`). Either may be timed lines in the LRC format, `[mm:ss.xx]text`, which the player
//! follows line by line; other text is shown as it is.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use lofty::config::ParseOptions;
use lofty::prelude::*;
use lofty::probe::Probe;
use serde::Serialize;

use crate::{Error, Result};

/// The largest LRC file read: a song's timed lyrics are a few kilobytes.
const MAX_LRC_BYTES: u64 = 1024 * 1024;

/// A song's lyrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lyrics {
    /// Where they were found.
    pub source: LyricsSource,
    /// Whether every line has the time it is sung at (the lines are then in time order).
    pub timed: bool,
    /// The lines, in order.
    pub lines: Vec<LyricLine>,
}

/// Where lyrics were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LyricsSource {
    /// An LRC file beside the audio file.
    LrcFile,
    /// The audio file's tags.
    Tags,
}

/// One line of lyrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LyricLine {
    /// When the line is sung, in milliseconds from the start, for timed lyrics.
    pub start_ms: Option<u64>,
    /// The words (empty for an instrumental pause in timed lyrics).
    pub text: String,
}

/// The lyrics of the audio file at `path`: its LRC file if it has one with lines in it, else
/// those in its tags; `None` when neither has any.
///
/// # Errors
///
/// The LRC file or the audio file exists but cannot be read, or the audio file is not one lofty
/// reads tags from.
pub fn read_lyrics(path: &Path) -> Result<Option<Lyrics>> {
    if let Some(lyrics) = read_lrc_file(path)?.as_deref().and_then(lrc_lyrics) {
        return Ok(Some(lyrics));
    }
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    read_tag_lyrics(BufReader::new(file), path)
}

/// The text of the LRC file beside the audio file at `audio` (same name, extension `lrc` in any
/// case), if it has one: what the desktop sends the locker, whose copy of the song has no folder.
///
/// # Errors
///
/// The LRC file exists but cannot be read.
pub fn read_lrc_file(audio: &Path) -> Result<Option<String>> {
    lrc_path(audio).map(|lrc| read_text(&lrc)).transpose()
}

/// Reads the text of an LRC file (timed or not) as lyrics from an LRC file; `None` when it has
/// no lines.
pub fn lrc_lyrics(text: &str) -> Option<Lyrics> {
    let lyrics = parse(text);
    (!lyrics.lines.is_empty()).then_some(Lyrics {
        source: LyricsSource::LrcFile,
        ..lyrics
    })
}

/// The lyrics in the tags of the audio file `reader` reads (a stored upload, say), the primary
/// tag first; `name` names the file in errors. Unlike [`read_lyrics`] it has no folder to look
/// for an LRC file in.
///
/// # Errors
///
/// The file cannot be read, or is not one lofty reads tags from.
pub fn read_tag_lyrics<R: Read + Seek>(reader: R, name: &Path) -> Result<Option<Lyrics>> {
    let text = catch_unwind(AssertUnwindSafe(|| embedded(reader, name))).unwrap_or_else(|_| {
        Err(Error::Panicked {
            path: name.to_owned(),
        })
    })?;
    Ok(text.map(|t| parse(&t)).filter(|l| !l.lines.is_empty()))
}

/// The LRC file beside `audio` (same name, extension `lrc` in any case), if there is one.
fn lrc_path(audio: &Path) -> Option<PathBuf> {
    let stem = audio.file_stem()?;
    let dir = audio.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    ["lrc", "LRC", "Lrc"].iter().find_map(|ext| {
        let mut name = stem.to_owned();
        name.push(".");
        name.push(ext);
        let candidate = dir.join(name);
        candidate.is_file().then_some(candidate)
    })
}

/// The text of the LRC file at `path`: UTF-8 (a byte order mark dropped), or, failing that,
/// Latin-1, which older LRC files were often saved in.
fn read_text(path: &Path) -> Result<String> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(MAX_LRC_BYTES).read_to_end(&mut bytes))
        .map_err(io)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    Ok(match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    })
}

/// The lyrics text in the tags of the audio file `reader` reads, the primary tag first.
fn embedded<R: Read + Seek>(reader: R, path: &Path) -> Result<Option<String>> {
    let options = ParseOptions::new()
        .read_properties(false)
        .read_cover_art(false);
    let tagged = Probe::new(reader)
        .options(options)
        .guess_file_type()
        .map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?
        .read()
        .map_err(|e| crate::read::lofty_error(path, e))?;
    let primary = tagged.primary_tag_type();
    let mut tags: Vec<_> = tagged.tags().iter().collect();
    tags.sort_by_key(|t| t.tag_type() != primary);
    Ok(tags.iter().find_map(|tag| {
        [ItemKey::Lyrics, ItemKey::UnsyncLyrics]
            .into_iter()
            .flat_map(|key| tag.get_strings(key))
            .find(|text| !text.trim().is_empty())
            .map(str::to_owned)
    }))
}

/// Reads `text` as lyrics: timed if it has LRC time tags (lines without one are then left out),
/// else plain lines (leading and trailing blank lines dropped). The source is left for the caller
/// to set.
fn parse(text: &str) -> Lyrics {
    let mut offset_ms: i64 = 0;
    let mut timed: Vec<(i64, String)> = Vec::new();
    let mut plain: Vec<String> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        let (times, rest) = time_tags(line);
        if times.is_empty() {
            if let Some(value) = id_tag(line, "offset") {
                offset_ms = value.trim().parse().unwrap_or(0);
            } else if !is_id_tag(line) {
                plain.push(line.trim().to_owned());
            }
            continue;
        }
        let words = strip_word_times(rest).trim().to_owned();
        timed.extend(times.into_iter().map(|at| (at, words.clone())));
    }
    if timed.is_empty() {
        while plain.last().is_some_and(String::is_empty) {
            plain.pop();
        }
        let first = plain
            .iter()
            .position(|l| !l.is_empty())
            .unwrap_or(plain.len());
        return Lyrics {
            source: LyricsSource::Tags,
            timed: false,
            lines: plain
                .drain(first..)
                .map(|text| LyricLine {
                    start_ms: None,
                    text,
                })
                .collect(),
        };
    }
    // A positive offset shows the lyrics sooner (LRC's `[offset:+/-ms]`).
    timed.sort_by_key(|(at, _)| *at);
    Lyrics {
        source: LyricsSource::Tags,
        timed: true,
        lines: timed
            .into_iter()
            .map(|(at, text)| LyricLine {
                start_ms: Some(u64::try_from(at - offset_ms).unwrap_or(0)),
                text,
            })
            .collect(),
    }
}

/// The times of the `[mm:ss.xx]` tags at the start of `line`, in milliseconds, and the rest.
fn time_tags(line: &str) -> (Vec<i64>, &str) {
    let mut times = Vec::new();
    let mut rest = line.trim_start();
    while let Some(inner) = rest.strip_prefix('[') {
        let Some((tag, after)) = inner.split_once(']') else {
            break;
        };
        let Some(ms) = timestamp(tag) else { break };
        times.push(ms);
        rest = after.trim_start();
    }
    (times, rest)
}

/// `mm:ss`, `mm:ss.x`, `mm:ss.xx`, `mm:ss.xxx` or `mm:ss:xx`, in milliseconds.
fn timestamp(tag: &str) -> Option<i64> {
    let (minutes, seconds) = tag.split_once(':')?;
    let minutes: i64 = digits(minutes)?;
    let (whole, fraction) = match seconds.split_once(['.', ':']) {
        Some((whole, fraction)) => (whole, fraction),
        None => (seconds, ""),
    };
    let whole: i64 = digits(whole)?;
    if whole >= 60 || fraction.len() > 3 {
        return None;
    }
    let fraction_ms = if fraction.is_empty() {
        0
    } else {
        digits(fraction)? * 10_i64.pow(3 - fraction.len() as u32)
    };
    Some((minutes * 60 + whole) * 1000 + fraction_ms)
}

/// A number of ASCII digits only (no sign, no spaces).
fn digits(s: &str) -> Option<i64> {
    (!s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// The value of the ID tag `[name:value]` that `line` is, if it is that one.
fn id_tag<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let inner = line.trim().strip_prefix('[')?.strip_suffix(']')?;
    let (key, value) = inner.split_once(':')?;
    key.trim().eq_ignore_ascii_case(name).then_some(value)
}

/// Whether `line` is an LRC ID tag (`[ar:Artist]`, `[length: 3:20]`...): a bracketed
/// `letters:value` and nothing else.
fn is_id_tag(line: &str) -> bool {
    let Some(inner) = line
        .trim()
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
    else {
        return false;
    };
    inner.split_once(':').is_some_and(|(key, _)| {
        !key.is_empty() && key.chars().all(|c| c.is_ascii_alphabetic() || c == '#')
    })
}

/// `text` without the word times of enhanced LRC (`<mm:ss.xx>` before each word).
fn strip_word_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        match rest[open + 1..].find('>') {
            Some(close) if timestamp(&rest[open + 1..open + 1 + close]).is_some() => {
                out.push_str(&rest[..open]);
                rest = &rest[open + close + 2..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    // Word times leave doubled spaces where they stood between words.
    out.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(start_ms: Option<u64>, text: &str) -> LyricLine {
        LyricLine {
            start_ms,
            text: text.to_owned(),
        }
    }

    #[test]
    fn timed_lines_in_every_time_format() {
        let lyrics = parse(
            "[ar:Sigur Rós]\n[ti:Hoppípolla]\n[length: 4:28]\n\
             [00:12.34]Brosandi\r\n[00:15]hendumst í\n[00:17.5]hring\n[01:02:50]Hoppípolla\n\
             [00:20.123]í engum stígvélum\n[00:25.00]\n",
        );
        assert!(lyrics.timed);
        assert_eq!(
            lyrics.lines,
            [
                line(Some(12_340), "Brosandi"),
                line(Some(15_000), "hendumst í"),
                line(Some(17_500), "hring"),
                line(Some(20_123), "í engum stígvélum"),
                line(Some(25_000), ""),
                line(Some(62_500), "Hoppípolla"),
            ]
        );
    }

    #[test]
    fn repeated_lines_offsets_and_word_times() {
        let lyrics = parse(
            "[offset:+500]\n[00:10.00][00:30.00]Chorus <00:10.50>line\n\
             [00:20.00]<00:20.00>Verse <00:20.40> with <tag> kept\nstray untimed text\n",
        );
        assert_eq!(
            lyrics.lines,
            [
                line(Some(9_500), "Chorus line"),
                line(Some(19_500), "Verse with <tag> kept"),
                line(Some(29_500), "Chorus line"),
            ]
        );
        // A negative offset shows them later; none goes before the start.
        let late = parse("[offset:-250]\n[00:00.10]a\n[00:01.00]b");
        assert_eq!(late.lines[0].start_ms, Some(350));
        let early = parse("[offset:1000]\n[00:00.10]a");
        assert_eq!(early.lines[0].start_ms, Some(0));
    }

    #[test]
    fn plain_text_stays_as_written() {
        let lyrics = parse("\n\nFirst line\r\n\n[Chorus]\nSecond line  \n\n\n");
        assert!(!lyrics.timed);
        assert_eq!(
            lyrics.lines,
            [
                line(None, "First line"),
                line(None, ""),
                line(None, "[Chorus]"),
                line(None, "Second line"),
            ]
        );
        assert!(parse("").lines.is_empty());
        assert!(parse("[ar:Nobody]\n\n").lines.is_empty());
    }

    #[test]
    fn malformed_time_tags_are_text() {
        for text in [
            "[1:75.00]x",
            "[aa:10]x",
            "[00:10.1234]x",
            "[-1:10]x",
            "[00:10",
        ] {
            let lyrics = parse(text);
            assert!(!lyrics.timed, "{text}");
            assert_eq!(lyrics.lines, [line(None, text)], "{text}");
        }
    }
}
