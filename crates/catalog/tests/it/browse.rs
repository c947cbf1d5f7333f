//! Browsing: albums, artists, genres, and tracks in every sort order with keyset paging.

use std::collections::HashSet;

use skylark_catalog::{LyricsSource, TrackId, TrackQuery, TrackSort, read_lyrics};
use skylark_testsupport::{Format, TagSpec};

use crate::library::{Lib, standard, tags};

fn titles(tracks: &[skylark_catalog::Track]) -> Vec<&str> {
    tracks.iter().map(|t| t.title.as_str()).collect()
}

#[test]
fn album_artists_sort_without_articles_case_or_accents() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let names: Vec<String> = lib
        .catalog
        .album_artists()
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(
        names,
        [
            "The Beatles",
            "Björk",
            "Sigur Rós",
            "Unknown Artist",
            "Various Artists"
        ]
    );
    let all: Vec<String> = lib
        .catalog
        .artists()
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert!(all.contains(&"Squarepusher".to_owned()) && all.contains(&"Kevin Shields".to_owned()));
}

#[test]
fn albums_carry_year_counts_duration_and_cover() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let albums = lib.catalog.albums().unwrap();
    let titles: Vec<&str> = albums.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Abbey Road",
            "Homogenic",
            "Lost in Translation",
            "Takk...",
            "Unsorted Tapes"
        ]
    );
    let homogenic = &albums[1];
    assert_eq!(
        (
            homogenic.album_artist.as_str(),
            homogenic.year,
            homogenic.track_count
        ),
        ("Björk", Some(1997), 4)
    );
    assert!(
        (3_900..=4_200).contains(&homogenic.duration.as_millis()),
        "{:?}",
        homogenic.duration
    );
    assert_eq!(homogenic.cover_hash, None);
    assert!(albums[0].cover_hash.is_some());
    assert!(albums[4].cover_hash.is_some(), "folder image");
}

#[test]
fn album_tracks_in_disc_and_track_order() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let album = lib.track("Jóga").album_id;
    let tracks = lib.catalog.album_tracks(album).unwrap();
    assert_eq!(titles(&tracks), ["Bachelorette", "Hunter", "Jóga", "Pluto"]);
}

#[test]
fn artist_albums_and_tracks() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let artists = lib.catalog.album_artists().unwrap();
    let beatles = artists.iter().find(|a| a.name == "The Beatles").unwrap();
    assert_eq!((beatles.album_count, beatles.track_count), (1, 3));
    let albums = lib.catalog.artist_albums(beatles.id).unwrap();
    assert_eq!(albums.len(), 1);
    assert_eq!(albums[0].title, "Abbey Road");
    let tracks = lib.catalog.artist_tracks(beatles.id).unwrap();
    assert_eq!(
        titles(&tracks),
        ["Come Together", "Something", "Maxwell's Silver Hammer"]
    );
}

#[test]
fn genres_with_counts() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let genres: Vec<(String, u32)> = lib
        .catalog
        .genres()
        .unwrap()
        .into_iter()
        .map(|g| (g.name, g.track_count))
        .collect();
    assert_eq!(
        genres,
        [
            ("Art Pop".to_owned(), 4),
            ("Electronic".to_owned(), 4),
            ("Post-Rock".to_owned(), 1),
            ("Rock".to_owned(), 3)
        ]
    );
    let rock = lib
        .catalog
        .genres()
        .unwrap()
        .into_iter()
        .find(|g| g.name == "Rock")
        .unwrap();
    assert_eq!(lib.catalog.genre_tracks(rock.id).unwrap().len(), 3);
}

#[test]
fn every_sort_pages_through_every_track_once() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let all: HashSet<TrackId> = lib.tracks().into_iter().map(|t| t.id).collect();
    for sort in TrackSort::ALL {
        for descending in [false, true] {
            let whole = lib
                .catalog
                .tracks(&TrackQuery {
                    sort,
                    descending,
                    after: None,
                    limit: 1000,
                    playable_offline: false,
                })
                .unwrap();
            assert!(whole.next.is_none());
            let mut paged = Vec::new();
            let mut query = TrackQuery {
                sort,
                descending,
                after: None,
                limit: 3,
                playable_offline: false,
            };
            loop {
                let page = lib.catalog.tracks(&query).unwrap();
                paged.extend(page.tracks.iter().map(|t| t.id));
                match page.next {
                    Some(next) => query.after = Some(next),
                    None => break,
                }
            }
            let ids: Vec<TrackId> = whole.tracks.iter().map(|t| t.id).collect();
            assert_eq!(paged, ids, "{sort:?} desc={descending}");
            let by_position = lib.catalog.track_ids(sort, descending).unwrap();
            assert_eq!(by_position, ids, "track_ids {sort:?} desc={descending}");
            assert_eq!(ids.iter().copied().collect::<HashSet<_>>(), all, "{sort:?}");
        }
    }
}

#[test]
fn sort_orders_are_what_people_expect() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let page = |sort, descending| {
        lib.catalog
            .tracks(&TrackQuery {
                sort,
                descending,
                after: None,
                limit: 100,
                playable_offline: false,
            })
            .unwrap()
            .tracks
    };
    let by_album_artist = page(TrackSort::AlbumArtist, false);
    assert_eq!(
        titles(&by_album_artist)[..7],
        [
            "Come Together",
            "Something",
            "Maxwell's Silver Hammer",
            "Bachelorette",
            "Hunter",
            "Jóga",
            "Pluto"
        ]
    );
    let by_year = page(TrackSort::Year, true);
    assert_eq!(by_year[0].year, Some(2003));
    let by_title = page(TrackSort::Title, false);
    assert_eq!(titles(&by_title)[0], "Bachelorette");
    assert!(
        titles(&by_title)
            .windows(2)
            .all(|w| w[0].to_lowercase() <= w[1].to_lowercase()
                || w[1] == "Jóga"
                || w[0] == "Jóga")
    );
}

#[test]
fn bad_queries_are_errors() {
    let lib = Lib::new();
    assert!(
        lib.catalog
            .tracks(&TrackQuery {
                limit: 0,
                ..TrackQuery::default()
            })
            .is_err()
    );
    let mut lib = lib;
    standard(&lib);
    lib.scan();
    let first = lib
        .catalog
        .tracks(&TrackQuery {
            sort: TrackSort::Title,
            limit: 2,
            ..TrackQuery::default()
        })
        .unwrap();
    let wrong = TrackQuery {
        sort: TrackSort::Artist,
        after: first.next,
        limit: 2,
        ..TrackQuery::default()
    };
    assert!(
        lib.catalog
            .tracks(&wrong)
            .unwrap_err()
            .to_string()
            .contains("cursor")
    );
    assert!(
        lib.catalog
            .track(TrackId(999_999))
            .unwrap_err()
            .to_string()
            .contains("no track")
    );
}

#[test]
fn lyrics_come_from_the_file_here() {
    let lyrics_of = |lib: &Lib, id| {
        let file = lib.catalog.file_here(id).unwrap()?;
        read_lyrics(&file).unwrap()
    };
    let mut lib = Lib::new();
    let song = lib.add(
        "Sigur Rós/Takk/01.mp3",
        Format::Mp3,
        TagSpec {
            lyrics: Some("Brosandi\nhendumst í hring".to_owned()),
            ..tags("Hoppípolla", "Sigur Rós", "Takk", 1)
        },
    );
    lib.add(
        "Sigur Rós/Takk/02.flac",
        Format::Flac,
        tags("Með blóðnasir", "Sigur Rós", "Takk", 2),
    );
    lib.scan();
    let with = lib.track("Hoppípolla").id;
    let without = lib.track("Með blóðnasir").id;
    let lyrics = lyrics_of(&lib, with).unwrap();
    assert_eq!(lyrics.source, LyricsSource::Tags);
    assert_eq!(
        lyrics
            .lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>(),
        ["Brosandi", "hendumst í hring"]
    );
    assert_eq!(lyrics_of(&lib, without), None);

    // Timed lyrics beside the file come first.
    std::fs::write(song.with_extension("lrc"), "[00:01.00]Brosandi\n").unwrap();
    let lyrics = lyrics_of(&lib, with).unwrap();
    assert_eq!(
        (lyrics.source, lyrics.timed, lyrics.lines[0].start_ms),
        (LyricsSource::LrcFile, true, Some(1_000))
    );

    // With no file here (an unplugged drive, a song only in the locker) there are none to read.
    std::fs::remove_file(&song).unwrap();
    assert_eq!(lib.catalog.file_here(with).unwrap(), None);
    assert!(matches!(
        lib.catalog.file_here(TrackId(999_999)),
        Err(skylark_catalog::Error::NotFound { .. })
    ));
}
