//! Lyrics from every format's tags, and from an LRC file beside the audio file.

// Test helpers unwrap: a panic is a test failure with a location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use skylark_tags::{Error, LyricLine, LyricsSource, read_lyrics, read_tag_lyrics};
use skylark_testsupport::{Format, TagSpec, Tone, write_audio};

const WORDS: &str = "Brosandi\nhendumst í hring\n\nHoppípolla";

fn line(start_ms: Option<u64>, text: &str) -> LyricLine {
    LyricLine {
        start_ms,
        text: text.to_owned(),
    }
}

#[test]
fn embedded_lyrics_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let spec = TagSpec {
        title: Some("Hoppípolla".to_owned()),
        lyrics: Some(WORDS.to_owned()),
        ..TagSpec::default()
    };
    for format in Format::ALL {
        let path = dir.path().join(format!("song.{}", format.extension()));
        write_audio(&path, format, &Tone::default(), &spec).unwrap();
        let lyrics = read_lyrics(&path)
            .unwrap_or_else(|e| panic!("{format:?}: {e}"))
            .unwrap_or_else(|| panic!("{format:?}: no lyrics"));
        assert_eq!(lyrics.source, LyricsSource::Tags, "{format:?}");
        assert!(!lyrics.timed);
        assert_eq!(
            lyrics.lines,
            [
                line(None, "Brosandi"),
                line(None, "hendumst í hring"),
                line(None, ""),
                line(None, "Hoppípolla"),
            ],
            "{format:?}"
        );
        // The same from the bytes alone (a stored upload).
        let bytes = std::io::Cursor::new(std::fs::read(&path).unwrap());
        assert_eq!(
            read_tag_lyrics(bytes, &path).unwrap(),
            Some(lyrics),
            "{format:?}"
        );
    }
}

#[test]
fn timed_lyrics_in_tags_and_lrc_files() {
    let dir = tempfile::tempdir().unwrap();
    // Timed lines in the tag itself.
    let tagged = dir.path().join("tagged.flac");
    let spec = TagSpec {
        lyrics: Some("[00:01.50]Brosandi\n[00:03.00]hendumst í hring".to_owned()),
        ..TagSpec::default()
    };
    write_audio(&tagged, Format::Flac, &Tone::default(), &spec).unwrap();
    let lyrics = read_lyrics(&tagged).unwrap().unwrap();
    assert!(lyrics.timed);
    assert_eq!(lyrics.lines[1], line(Some(3_000), "hendumst í hring"));

    // An LRC file beside the audio file comes before the tag; a UTF-8 byte order mark is dropped.
    std::fs::write(
        dir.path().join("tagged.lrc"),
        "\u{feff}[ti:Hoppípolla]\n[00:00.75]Glósóli\n",
    )
    .unwrap();
    let lyrics = read_lyrics(&tagged).unwrap().unwrap();
    assert_eq!(lyrics.source, LyricsSource::LrcFile);
    assert_eq!(lyrics.lines, [line(Some(750), "Glósóli")]);

    // An LRC file in Latin-1, with an upper-case extension, beside an untagged file.
    let plain = dir.path().join("plain.mp3");
    write_audio(&plain, Format::Mp3, &Tone::default(), &TagSpec::default()).unwrap();
    assert_eq!(read_lyrics(&plain).unwrap(), None);
    std::fs::write(dir.path().join("plain.LRC"), b"[00:02.00]Caf\xe9 au lait\n").unwrap();
    let lyrics = read_lyrics(&plain).unwrap().unwrap();
    assert_eq!(lyrics.lines, [line(Some(2_000), "Café au lait")]);

    // An LRC file with no lines in it does not hide the tag's lyrics.
    std::fs::write(dir.path().join("tagged.lrc"), "[ar:Sigur Rós]\n\n").unwrap();
    let lyrics = read_lyrics(&tagged).unwrap().unwrap();
    assert_eq!(lyrics.source, LyricsSource::Tags);
}

#[test]
fn unreadable_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone.flac");
    assert!(matches!(read_lyrics(&missing), Err(Error::Io { .. })));
    let noise = dir.path().join("noise.mp3");
    std::fs::write(&noise, vec![0x5a; 4096]).unwrap();
    assert!(read_lyrics(&noise).is_err());
}
