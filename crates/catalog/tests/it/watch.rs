//! Following folder changes.

use std::sync::mpsc;
use std::time::Duration;

use skylark_catalog::Catalog;
use skylark_catalog::watch::Watcher;
use skylark_testsupport::Format;

use crate::library::{Lib, tags};

#[test]
fn added_and_deleted_files_are_picked_up() {
    let mut lib = Lib::new();
    lib.add("a/one.flac", Format::Flac, tags("One", "X", "Y", 1));
    lib.scan();
    let db = lib.dir.path().join("data/catalog.db");
    let watching = Catalog::open(&db, &lib.dir.path().join("data/covers")).unwrap();
    let (tx, rx) = mpsc::channel();
    let watcher = Watcher::start(
        watching,
        std::slice::from_ref(&lib.music),
        Duration::from_millis(200),
        move |r| {
            let _ = tx.send(r.map_err(|e| e.to_string()));
        },
    )
    .unwrap();

    lib.add("b/two.mp3", Format::Mp3, tags("Two", "X", "Y", 2));
    let mut added = 0;
    while added == 0 {
        let report = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a rescan after adding a file")
            .unwrap();
        added += report.added;
    }
    assert_eq!(lib.tracks().len(), 2);

    std::fs::remove_file(lib.music.join("a/one.flac")).unwrap();
    let mut removed = 0;
    while removed == 0 {
        let report = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a rescan after deleting a file")
            .unwrap();
        removed += report.removed;
    }
    let titles: Vec<String> = lib.tracks().into_iter().map(|t| t.title).collect();
    assert_eq!(titles, ["Two"]);
    drop(watcher);
}
