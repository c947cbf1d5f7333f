//! Playlists: editing, order, duplicates, M3U import and export.

use skylark_catalog::m3u::PathStyle;
use skylark_catalog::{PlaylistItemId, TrackId};

use crate::library::{Lib, at, standard};

fn order(lib: &Lib, list: skylark_catalog::PlaylistId) -> Vec<String> {
    lib.catalog
        .playlist_items(list)
        .unwrap()
        .into_iter()
        .map(|i| i.track.title)
        .collect()
}

#[test]
fn create_add_move_remove_rename_delete() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let [a, b, c] = ["Hunter", "Pluto", "Something"].map(|t| lib.track(t).id);
    let list = lib.catalog.create_playlist("  Road trip ", at(1)).unwrap();
    assert_eq!(lib.catalog.playlist(list).unwrap().name, "Road trip");

    let items = lib
        .catalog
        .add_to_playlist(list, &[a, b, a], None, at(2))
        .unwrap();
    assert_eq!(
        order(&lib, list),
        ["Hunter", "Pluto", "Hunter"],
        "duplicates allowed"
    );
    lib.catalog
        .add_to_playlist(list, &[c], Some(0), at(3))
        .unwrap();
    lib.catalog
        .add_to_playlist(list, &[c], Some(2), at(3))
        .unwrap();
    assert_eq!(
        order(&lib, list),
        ["Something", "Hunter", "Something", "Pluto", "Hunter"]
    );

    lib.catalog
        .move_playlist_item(list, items[2], 0, at(4))
        .unwrap();
    assert_eq!(
        order(&lib, list),
        ["Hunter", "Something", "Hunter", "Something", "Pluto"]
    );
    lib.catalog
        .move_playlist_item(list, items[2], 99, at(4))
        .unwrap();
    assert_eq!(
        order(&lib, list),
        ["Something", "Hunter", "Something", "Pluto", "Hunter"]
    );
    let ids_after: Vec<PlaylistItemId> = lib
        .catalog
        .playlist_items(list)
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert!(
        items.iter().all(|i| ids_after.contains(i)),
        "entry ids survive moves"
    );

    lib.catalog
        .remove_from_playlist(list, &[items[0]], at(5))
        .unwrap();
    assert_eq!(
        order(&lib, list),
        ["Something", "Something", "Pluto", "Hunter"]
    );
    let summary = lib.catalog.playlist(list).unwrap();
    assert_eq!(summary.item_count, 4);

    lib.catalog.rename_playlist(list, "Trip", at(6)).unwrap();
    assert_eq!(
        lib.catalog.playlist_by_name("trip").unwrap().unwrap().id,
        list
    );
    assert!(lib.catalog.rename_playlist(list, "   ", at(6)).is_err());
    lib.catalog.delete_playlist(list, at(9)).unwrap();
    assert!(lib.catalog.playlists().unwrap().is_empty());
    assert_eq!(lib.tracks().len(), 13, "tracks stay in the library");
}

#[test]
fn many_moves_keep_a_consistent_order() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let ids: Vec<TrackId> = lib.tracks().into_iter().map(|t| t.id).collect();
    let list = lib.catalog.create_playlist("Shuffle", at(0)).unwrap();
    let items = lib
        .catalog
        .add_to_playlist(list, &ids, None, at(0))
        .unwrap();
    let mut expected: Vec<PlaylistItemId> = items.clone();
    let mut state = 12345u64;
    for step in 0..300 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let from = (state >> 33) as usize % expected.len();
        let to = (state >> 17) as usize % expected.len();
        let item = expected.remove(from);
        expected.insert(to, item);
        lib.catalog
            .move_playlist_item(list, item, to, at(step))
            .unwrap();
    }
    let actual: Vec<PlaylistItemId> = lib
        .catalog
        .playlist_items(list)
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn errors_name_what_is_missing() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let list = lib.catalog.create_playlist("X", at(0)).unwrap();
    assert!(
        lib.catalog
            .add_to_playlist(list, &[TrackId(77_777)], None, at(0))
            .is_err()
    );
    assert!(
        lib.catalog.playlist_items(list).unwrap().is_empty(),
        "a failed add adds nothing"
    );
    let other = lib.catalog.create_playlist("Y", at(0)).unwrap();
    let item = lib
        .catalog
        .add_to_playlist(other, &[lib.track("Hunter").id], None, at(0))
        .unwrap()[0];
    let err = lib
        .catalog
        .remove_from_playlist(list, &[item], at(0))
        .unwrap_err();
    assert!(err.to_string().contains("playlist entry"), "{err}");
    assert!(lib.catalog.create_playlist("", at(0)).is_err());
    assert!(
        lib.catalog
            .delete_playlist(skylark_catalog::PlaylistId(999), at(0))
            .is_err()
    );
}

#[test]
fn m3u_export_and_import_round_trip() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let ids: Vec<TrackId> = ["Jóga", "Hoppípolla", "Something", "Jóga"]
        .map(|t| lib.track(t).id)
        .to_vec();
    let list = lib.catalog.create_playlist("Mix", at(0)).unwrap();
    lib.catalog
        .add_to_playlist(list, &ids, None, at(0))
        .unwrap();

    let lists = lib.dir.path().join("Lists");
    let relative = lists.join("mix.m3u8");
    let result = lib
        .catalog
        .export_m3u(list, &relative, PathStyle::Relative)
        .unwrap();
    assert_eq!(result.written, 4);
    let text = std::fs::read_to_string(&relative).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "#EXTM3U");
    assert_eq!(lines[1], "#EXTINF:1,Björk - Jóga");
    assert_eq!(lines[2], "../Music/Björk/Homogenic/2-01 Jóga.ogg");

    let absolute = lists.join("abs.m3u");
    lib.catalog
        .export_m3u(list, &absolute, PathStyle::Absolute)
        .unwrap();
    let abs_text = std::fs::read_to_string(&absolute).unwrap();
    assert!(
        abs_text
            .lines()
            .nth(2)
            .unwrap()
            .starts_with(lib.music.to_str().unwrap())
    );

    for file in [&relative, &absolute] {
        let imported = lib.catalog.import_m3u(file, None, at(1)).unwrap();
        assert_eq!(imported.added, 4);
        assert!(imported.unresolved.is_empty());
        assert_eq!(
            order(&lib, imported.playlist),
            ["Jóga", "Hoppípolla", "Something", "Jóga"]
        );
    }
}

#[test]
fn m3u_import_resolves_what_other_players_write() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let list = lib.dir.path().join("Lists/foobar.m3u");
    std::fs::create_dir_all(list.parent().unwrap()).unwrap();
    let music = lib.music.to_str().unwrap();
    let body = format!(
        "\u{feff}#EXTM3U\r\n#EXTINF:1,x\r\n..\\Music\\Sigur Rós\\Takk\\03 Hoppípolla.ape\r\n\
         file://{}/The%20Beatles/Abbey%20Road/02%20Something.flac\r\n\
         {music}/Björk/./Homogenic/../Homogenic/1-02 Hunter.opus\r\n\
         /nowhere/missing.mp3\r\n\r\n# a comment\r\n",
        music.replace(' ', "%20")
    );
    std::fs::write(&list, body).unwrap();
    let imported = lib
        .catalog
        .import_m3u(&list, Some("From foobar"), at(0))
        .unwrap();
    assert_eq!(
        order(&lib, imported.playlist),
        ["Hoppípolla", "Something", "Hunter"]
    );
    assert_eq!(imported.unresolved, ["/nowhere/missing.mp3"]);
    assert_eq!(
        lib.catalog.playlist(imported.playlist).unwrap().name,
        "From foobar"
    );
}

/// A list written on another computer: a path that differs only in case finds its file, and an
/// entry whose path is nowhere here finds the one track its `#EXTINF` line names, when the
/// length agrees.
#[test]
fn m3u_import_finds_songs_filed_elsewhere_by_their_extinf_line() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let list = lib.dir.path().join("Lists/laptop.m3u8");
    std::fs::create_dir_all(list.parent().unwrap()).unwrap();
    let body = "#EXTM3U\n\
                ../MUSIC/björk/HOMOGENIC/1-02 HUNTER.opus\n\
                #EXTINF:1,Björk - Jóga\n\
                C:\\Users\\bob\\Music\\Jóga.ogg\n\
                #EXTINF:1 tvg-id=\"x\",Sigur Rós - Hoppípolla\n\
                /Users/bob/Music/Takk/Hoppipolla.ape\n\
                #EXTINF:300,Björk - Jóga\n\
                /Users/bob/Music/Joga (live).ogg\n\
                #EXTINF:1,Nobody - Jóga\n\
                /Users/bob/Music/other.ogg\n";
    std::fs::write(&list, body).unwrap();
    let imported = lib.catalog.import_m3u(&list, None, at(0)).unwrap();
    assert_eq!(
        order(&lib, imported.playlist),
        ["Hunter", "Jóga", "Hoppípolla"]
    );
    assert_eq!(
        imported.unresolved,
        [
            "/Users/bob/Music/Joga (live).ogg",
            "/Users/bob/Music/other.ogg"
        ],
        "a different length or artist is not the same song"
    );
}

#[test]
fn latin1_m3u_files_resolve() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let list = lib.dir.path().join("old.m3u");
    let mut body = b"Music/Bj\xf6rk/Homogenic/2-01 J\xf3ga.ogg\n".to_vec();
    body.extend_from_slice(b"Music/Sigur R\xf3s/Takk/03 Hopp\xedpolla.ape\n");
    std::fs::write(&list, body).unwrap();
    let imported = lib.catalog.import_m3u(&list, None, at(0)).unwrap();
    assert_eq!(order(&lib, imported.playlist), ["Jóga", "Hoppípolla"]);
    assert_eq!(lib.catalog.playlist(imported.playlist).unwrap().name, "old");
}
