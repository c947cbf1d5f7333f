//! Signing in and out, and sessions.

use skylark_locker::config::Config;
use skylark_locker_client::api::ErrorCode;
use skylark_locker_client::{Client, Error};

use crate::{ALICE_PASSWORD, Locker};

#[test]
fn sign_in_then_sign_out_revokes_the_token() {
    let locker = Locker::start(Config::default());
    let (client, answer) = Client::sign_in(
        &format!("{}/", locker.url()),
        "alice",
        ALICE_PASSWORD,
        "laptop",
    )
    .unwrap();
    assert_eq!(answer.user.name, "alice");
    assert_eq!(answer.session.device, "laptop");
    let credentials = client.credentials().clone();
    assert_eq!(
        credentials.server,
        locker.url(),
        "the trailing slash is dropped"
    );
    assert_eq!(credentials.token, answer.token);
    assert_eq!(credentials.session_id, answer.session.id);
    assert_eq!(client.me().unwrap().name, "alice");

    // The same token from stored credentials works too, until sign-out.
    let again = Client::with_credentials(credentials.clone()).unwrap();
    assert_eq!(again.me().unwrap().name, "alice");
    client.sign_out().unwrap();
    for c in [&client, &again] {
        let err = c.me().unwrap_err();
        assert!(err.is_unauthorized(), "{err}");
        assert_eq!(err.code(), Some(ErrorCode::Unauthorized));
        assert!(matches!(err, Error::Api { status: 401, .. }), "{err:?}");
    }
}

#[test]
fn sessions_are_listed_and_revoked() {
    let locker = Locker::start(Config::default());
    let laptop = locker.alice();
    let (phone, _) = Client::sign_in(&locker.url(), "alice", ALICE_PASSWORD, "phone").unwrap();
    let sessions = laptop.sessions().unwrap();
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].id, laptop.credentials().session_id);
    let other = sessions.iter().find(|s| !s.current).unwrap();
    assert_eq!(other.device, "phone");

    laptop.revoke_session(&other.id).unwrap();
    assert!(phone.me().unwrap_err().is_unauthorized());
    assert_eq!(laptop.sessions().unwrap().len(), 1);
    let err = laptop.revoke_session("no-such-session").unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound), "{err}");
}

#[test]
fn wrong_passwords_and_bad_addresses_are_clear_errors() {
    let locker = Locker::start(Config::default());
    let err = Client::sign_in(&locker.url(), "alice", "wrong", "x").unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert!(
        err.to_string().contains("wrong account name or password"),
        "{err}"
    );

    let err = Client::sign_in("locker.example.org", "alice", "x", "x").unwrap_err();
    assert!(matches!(err, Error::BadUrl { .. }), "{err:?}");

    // Nothing listens on the port of a stopped locker.
    let url = locker.url();
    drop(locker);
    let err = Client::sign_in(&url, "alice", ALICE_PASSWORD, "x").unwrap_err();
    assert!(matches!(err, Error::Network { .. }), "{err:?}");
}

#[test]
fn calls_from_inside_an_async_runtime_are_refused_not_deadlocked() {
    let locker = Locker::start(Config::default());
    let client = locker.alice();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = runtime.block_on(async { client.me() }).unwrap_err();
    assert!(matches!(err, Error::InsideAsyncRuntime), "{err:?}");
    // Dropping a client inside a runtime does not panic either.
    runtime.block_on(async move { drop(client) });
}
