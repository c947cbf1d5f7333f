//! Keeping the sign-in: the keychain, and the private file where there is none.

use skylark_locker::config::Config;
use skylark_locker_client::{Client, CredentialStore, TokenLocation};

use crate::Locker;

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_file_store_is_private_and_round_trips() {
    let locker = Locker::start(Config::default());
    let client = locker.alice();
    let data = tempfile::tempdir().unwrap();
    let store = CredentialStore::file_only(&data.path().join("skylark"));
    assert_eq!(store.load().unwrap(), None);

    let location = store.save(client.credentials()).unwrap();
    assert_eq!(location, TokenLocation::File(store.path()));
    #[cfg(unix)]
    assert_eq!(mode(&store.path()), 0o600);
    let loaded = store.load().unwrap().unwrap();
    assert_eq!(&loaded, client.credentials());

    // A restarted app signs in from the stored credentials alone.
    let restarted = Client::with_credentials(loaded).unwrap();
    assert_eq!(restarted.me().unwrap().name, "alice");

    store.clear().unwrap();
    assert_eq!(store.load().unwrap(), None);
    assert!(!store.path().exists());
    store.clear().unwrap();
}

/// Without a keychain (CI has no D-Bus session, so no Secret Service) the token falls back to
/// the private file; with one, the file holds no token.
#[test]
fn without_a_keychain_the_token_falls_back_to_the_private_file() {
    let locker = Locker::start(Config::default());
    let client = locker.alice();
    let data = tempfile::tempdir().unwrap();
    let store = CredentialStore::new(data.path());
    let location = store.save(client.credentials()).unwrap();
    let text = std::fs::read_to_string(store.path()).unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&store.path()), 0o600);
    match &location {
        TokenLocation::File(path) => {
            assert_eq!(path, &store.path());
            assert!(text.contains(&client.credentials().token));
        }
        TokenLocation::Keychain => {
            assert!(
                std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
                "a keychain answered with no session bus"
            );
            assert!(!text.contains(&client.credentials().token));
        }
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() && cfg!(target_os = "linux") {
        assert_eq!(location, TokenLocation::File(store.path()));
    }
    assert_eq!(&store.load().unwrap().unwrap(), client.credentials());
    store.clear().unwrap();
    assert_eq!(store.load().unwrap(), None);
}

#[test]
fn a_damaged_file_is_an_error_not_a_panic() {
    let data = tempfile::tempdir().unwrap();
    let store = CredentialStore::file_only(data.path());
    std::fs::write(store.path(), b"{not json").unwrap();
    let err = store.load().unwrap_err();
    assert!(err.to_string().contains("locker.json"), "{err}");
}
