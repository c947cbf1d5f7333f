//! "Now playing": what each of an account's apps last said it is playing (a `scrobble` with
//! `submission=false`), kept in memory for as long as that song could still be playing.
//!
//! An account sees only its own players: the locker is personal, and what one account listens to
//! is not another's business. A player is an app (the `c` parameter) at an address, so the same
//! app on two phones shows as two players.

use std::net::IpAddr;
use std::sync::Mutex;

use crate::accounts::UserId;
use crate::library::Song;
use crate::now_millis;
use crate::subsonic::Call;
use crate::subsonic::browse::{body, child};
use crate::subsonic::envelope::{Failure, Reply};
use crate::subsonic::responses::{NowPlaying, NowPlayingEntry};

/// How long after a song's end it still shows (an app pauses, a network lags).
const GRACE_MS: i64 = 60_000;
/// How long a song of unknown length shows.
const UNKNOWN_LENGTH_MS: i64 = 10 * 60_000;
/// The most players one account has on the board; a new one pushes out the one heard from least
/// recently, so no app can grow the board without bound.
const MAX_PLAYERS: usize = 16;

/// One player's song.
#[derive(Debug, Clone)]
struct Entry {
    user: UserId,
    client: String,
    peer: Option<IpAddr>,
    player_id: u32,
    song: String,
    /// When the app said it started (milliseconds since the Unix epoch).
    at: i64,
    /// When the song would have ended, with [`GRACE_MS`].
    until: i64,
}

/// Every account's players and what they play.
#[derive(Debug, Default)]
pub struct Board {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: Vec<Entry>,
    next_player_id: u32,
}

impl Board {
    /// The board, locked. A panic while it was held cannot leave it half-changed (each change is
    /// one `retain`, `remove` or `push` on a `Vec`), so a poisoned lock is taken as it is.
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes that `client` at `peer`, signed in as `user`, started playing `song` at `at`.
    pub fn start(&self, user: UserId, client: &str, peer: Option<IpAddr>, song: &Song, at: i64) {
        self.start_at(
            user,
            client,
            peer,
            (&song.id, song.duration_ms),
            at,
            now_millis(),
        );
    }

    /// [`start`](Self::start) at `now`, for a song given by id and length in milliseconds.
    fn start_at(
        &self,
        user: UserId,
        client: &str,
        peer: Option<IpAddr>,
        (song, length): (&str, Option<i64>),
        at: i64,
        now: i64,
    ) {
        let length = length.filter(|&d| d > 0);
        let until = at.saturating_add(length.map_or(UNKNOWN_LENGTH_MS, |d| d + GRACE_MS));
        let mut inner = self.lock();
        inner.entries.retain(|e| e.until > now);
        let same = |e: &Entry| e.user == user && e.client == client && e.peer == peer;
        let player_id = match inner.entries.iter().position(same) {
            Some(i) => inner.entries.remove(i).player_id,
            None => {
                let theirs: Vec<usize> = (0..inner.entries.len())
                    .filter(|&i| inner.entries[i].user == user)
                    .collect();
                if theirs.len() >= MAX_PLAYERS
                    && let Some(&oldest) = theirs.iter().min_by_key(|&&i| inner.entries[i].at)
                {
                    inner.entries.remove(oldest);
                }
                inner.next_player_id = inner.next_player_id.wrapping_add(1);
                inner.next_player_id
            }
        };
        inner.entries.push(Entry {
            user,
            client: client.to_owned(),
            peer,
            player_id,
            song: song.to_owned(),
            at,
            until,
        });
    }

    /// `user`'s players still playing at `now`, the latest start first (of two in the same
    /// millisecond, the one heard last).
    fn of(&self, user: UserId, now: i64) -> Vec<Entry> {
        let inner = self.lock();
        // Entries are kept in the order they were heard; the sort below is stable.
        let mut entries: Vec<Entry> = inner
            .entries
            .iter()
            .rev()
            .filter(|e| e.user == user && e.until > now)
            .cloned()
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.at));
        entries
    }
}

/// `getNowPlaying`: the account's own players, each with its song, how long ago it started and
/// the app's name. Songs deleted since are left out.
pub(super) async fn get(call: &Call<'_>) -> Result<Reply, Failure> {
    let lib = call.library().await?;
    let now = now_millis();
    let entry = call
        .state
        .subsonic()
        .now_playing()
        .of(call.user(), now)
        .into_iter()
        .filter_map(|e| {
            let song = lib.song(&e.song)?;
            Some(NowPlayingEntry {
                song: child(&lib, song),
                username: call.account.name.clone(),
                minutes_ago: (now - e.at).max(0) / 60_000,
                player_id: e.player_id,
                player_name: (!e.client.is_empty()).then_some(e.client),
            })
        })
        .collect();
    body("nowPlaying", NowPlaying { entry })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: UserId = UserId(1);
    const BOB: UserId = UserId(2);

    fn songs(board: &Board, user: UserId, now: i64) -> Vec<(String, String)> {
        board
            .of(user, now)
            .into_iter()
            .map(|e| (e.client, e.song))
            .collect()
    }

    #[test]
    fn a_song_shows_until_it_would_have_ended() {
        let board = Board::default();
        board.start_at(ALICE, "phone", None, ("a", Some(180_000)), 0, 0);
        board.start_at(ALICE, "car", None, ("b", None), 0, 0);
        let at = |now| songs(&board, ALICE, now).len();
        assert_eq!(at(180_000 + GRACE_MS - 1), 2);
        assert_eq!(
            at(180_000 + GRACE_MS),
            1,
            "the song of known length is over"
        );
        assert_eq!(at(UNKNOWN_LENGTH_MS), 0, "so is the one of unknown length");
        assert!(songs(&board, BOB, 0).is_empty());
    }

    #[test]
    fn an_account_has_at_most_so_many_players() {
        let board = Board::default();
        board.start_at(BOB, "bob's", None, ("x", None), 0, 0);
        for i in 0..MAX_PLAYERS as i64 + 4 {
            board.start_at(ALICE, &format!("app {i}"), None, ("a", None), i, i);
        }
        board.start_at(BOB, "bob's other", None, ("y", None), 0, 0);
        assert_eq!(
            songs(&board, BOB, 0)[0].0,
            "bob's other",
            "the one heard last first"
        );
        let alice = songs(&board, ALICE, 100);
        assert_eq!(alice.len(), MAX_PLAYERS);
        // The least recently heard went first; another account's player stayed.
        assert_eq!(alice.last().unwrap().0, "app 4");
        assert_eq!(songs(&board, BOB, 100).len(), 2);
        // A player heard again keeps its id and its one line.
        let id = board.of(ALICE, 100)[0].player_id;
        board.start_at(ALICE, "app 19", None, ("b", None), 50, 50);
        let again = board.of(ALICE, 100);
        assert_eq!((again.len(), again[0].player_id), (MAX_PLAYERS, id));
        assert_eq!(again[0].song, "b");
    }
}
