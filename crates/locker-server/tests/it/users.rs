//! Managing accounts with the `skylark-locker user` commands.

use std::io::Write;
use std::process::{Command, Stdio};

fn locker(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_skylark-locker"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn add_list_passwd_quota_remove() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (ok, out, err) = locker(
        &["user", "add", "lena", "--data", data, "--quota", "5000"],
        "a fine password\n",
    );
    assert!(ok, "{err}");
    assert!(out.contains("added lena"));
    let (ok, _, err) = locker(
        &["user", "add", "lena", "--data", data],
        "another password\n",
    );
    assert!(!ok);
    assert!(
        err.starts_with("skylark-locker: ") && err.contains("already exists"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let (ok, _, err) = locker(&["user", "add", "short", "--data", data], "short\n");
    assert!(!ok && err.contains("at least 8"), "{err}");

    let (_, list, _) = locker(&["user", "list", "--data", data], "");
    assert_eq!(list.lines().count(), 1);
    assert!(list.starts_with("lena\t0 bytes used\tquota 5000"), "{list}");

    let conn = skylark_locker::open_database(dir.path()).unwrap();
    assert!(
        skylark_locker::accounts::verify(&conn, "lena", "a fine password")
            .unwrap()
            .is_some()
    );
    let (ok, _, err) = locker(
        &["user", "passwd", "lena", "--data", data],
        "a new password\n",
    );
    assert!(ok, "{err}");
    assert!(
        skylark_locker::accounts::verify(&conn, "lena", "a fine password")
            .unwrap()
            .is_none()
    );
    assert!(
        skylark_locker::accounts::verify(&conn, "lena", "a new password")
            .unwrap()
            .is_some()
    );

    let (ok, _, _) = locker(&["user", "quota", "lena", "9000", "--data", data], "");
    assert!(ok);
    let (ok, _, _) = locker(&["user", "remove", "lena", "--data", data], "");
    assert!(ok);
    let (_, list, _) = locker(&["user", "list", "--data", data], "");
    assert!(list.is_empty());
    let (ok, _, err) = locker(&["user", "remove", "lena", "--data", data], "");
    assert!(!ok && err.contains("no account named lena"), "{err}");
}

#[test]
fn subsonic_app_passwords_and_api_keys() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (ok, _, err) = locker(
        &["user", "add", "lena", "--data", data],
        "a fine password\n",
    );
    assert!(ok, "{err}");
    let (ok, first, err) = locker(&["user", "subsonic-password", "lena", "--data", data], "");
    assert!(ok, "{err}");
    let first = first.trim().to_owned();
    assert_eq!(first.len(), 29, "{first}");
    let (ok, second, _) = locker(&["user", "subsonic-password", "lena", "--data", data], "");
    assert!(ok);
    assert_ne!(second.trim(), first, "a new password each time");

    // The printed password is the one the server checks (the key file is shared).
    let conn = skylark_locker::open_database(dir.path()).unwrap();
    let key = skylark_locker::subsonic::credentials::AppPasswordKey::load(dir.path()).unwrap();
    let check = |password: &str| {
        skylark_locker::subsonic::credentials::verify(
            &conn,
            &key,
            &skylark_locker::subsonic::credentials::Credentials::Password {
                user: "lena".to_owned(),
                password: password.to_owned(),
            },
            1,
        )
        .unwrap()
        .is_ok()
    };
    assert!(!check(&first));
    assert!(check(second.trim()));

    let (ok, api_key, err) = locker(
        &[
            "user", "api-key", "add", "lena", "--label", "car", "--data", data,
        ],
        "",
    );
    assert!(ok, "{err}");
    assert_eq!(api_key.trim().len(), 64);
    let (_, list, _) = locker(&["user", "api-key", "list", "lena", "--data", data], "");
    assert_eq!(list.lines().count(), 1);
    let mut columns = list.split('\t');
    let id = columns.next().unwrap().to_owned();
    assert_eq!(columns.next(), Some("car"));
    assert!(list.trim_end().ends_with("last used never"), "{list}");
    let (ok, _, err) = locker(
        &["user", "api-key", "revoke", "lena", "nope", "--data", data],
        "",
    );
    assert!(!ok && err.contains("no API key nope"), "{err}");
    let (ok, out, _) = locker(
        &["user", "api-key", "revoke", "lena", &id, "--data", data],
        "",
    );
    assert!(ok && out.contains("revoked"));
    let (_, list, _) = locker(&["user", "api-key", "list", "lena", "--data", data], "");
    assert!(list.is_empty());

    // Changing the account password signs Subsonic apps out too.
    let (ok, _, _) = locker(
        &["user", "passwd", "lena", "--data", data],
        "another password\n",
    );
    assert!(ok);
    assert!(!check(second.trim()));
    let (ok, _, err) = locker(
        &[
            "user",
            "subsonic-password",
            "lena",
            "--remove",
            "--data",
            data,
        ],
        "",
    );
    assert!(!ok && err.contains("no app password"), "{err}");
    let (ok, _, err) = locker(&["user", "subsonic-password", "nobody", "--data", data], "");
    assert!(!ok && err.contains("no account named nobody"), "{err}");
}
