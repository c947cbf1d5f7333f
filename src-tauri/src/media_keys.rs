//! The platform's media controls, through souvlaki: MPRIS on Linux (desktop shells, `playerctl`
//! and the keyboard's media keys see what plays and drive it), the Now Playing centre on macOS,
//! the system media transport controls on Windows.
//!
//! The player's events update what the platform shows (track, album, artist, cover, length,
//! playing or paused and where); the platform's requests (play, pause, next, seek, volume, raise,
//! quit) become the same player commands the UI sends. Without a session bus (a server, a
//! container) the controls are simply absent: a warning is logged and the app runs on.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use skylark_catalog::{CoverSize, TrackId};
use skylark_player::PlayerCmd;
use souvlaki::{
    MediaControlEvent, MediaControls, MediaMetadata, MediaPlayback, MediaPosition, PlatformConfig,
    SeekDirection,
};
use tauri::{AppHandle, Manager};

use crate::state::AppState;

/// How far the platform's plain "seek forward/backward" moves.
const SEEK_STEP: Duration = Duration::from_secs(10);

/// How often the position the platform shows is refreshed while playing. (MPRIS clients
/// extrapolate between updates from the playback rate.)
const POSITION_REFRESH: Duration = Duration::from_secs(1);

/// The media controls, when the platform has them.
pub struct MediaKeys {
    inner: Mutex<Inner>,
}

struct Inner {
    controls: Option<MediaControls>,
    playing: bool,
    position_sent: Instant,
}

impl MediaKeys {
    /// Registers with the platform and routes its requests to the player. Never fails: without
    /// media controls the app works as before.
    pub fn start(app: &AppHandle) -> Self {
        let controls = match open(app) {
            Ok(controls) => Some(controls),
            Err(reason) => {
                tracing::warn!(%reason, "no media controls (media keys and MPRIS are off)");
                None
            }
        };
        Self {
            inner: Mutex::new(Inner {
                controls,
                playing: false,
                position_sent: Instant::now(),
            }),
        }
    }

    /// Shows track `key` (or nothing) as the one playing.
    pub fn show_track(&self, app: &AppHandle, key: Option<i64>) {
        let state = app.state::<AppState>();
        let track = key.and_then(|key| {
            let catalog = state.catalog().ok()?;
            let track = catalog.track(TrackId(key)).ok()?;
            let cover = track
                .cover_hash
                .as_deref()
                .map(|hash| catalog.covers().path(hash, CoverSize::Large, "image/jpeg"));
            Some((track, cover))
        });
        let cover_url = track
            .as_ref()
            .and_then(|(_, cover)| cover.as_ref())
            .filter(|path| path.is_file())
            .and_then(|path| tauri::Url::from_file_path(path).ok())
            .map(String::from);
        let metadata = match &track {
            Some((track, _)) => MediaMetadata {
                title: Some(&track.title),
                album: Some(&track.album),
                artist: Some(&track.artist),
                cover_url: cover_url.as_deref(),
                duration: Some(track.duration),
            },
            None => MediaMetadata::default(),
        };
        self.with_controls(|controls| controls.set_metadata(metadata));
    }

    /// Shows the playback state ("playing", "paused" or "stopped") and position.
    pub fn show_playback(&self, state: &str, position: Duration) {
        let progress = Some(MediaPosition(position));
        let playback = match state {
            "playing" => MediaPlayback::Playing { progress },
            "paused" => MediaPlayback::Paused { progress },
            _ => MediaPlayback::Stopped,
        };
        if let Ok(mut inner) = self.inner.lock() {
            inner.playing = state == "playing";
            inner.position_sent = Instant::now();
        }
        self.with_controls(|controls| controls.set_playback(playback));
    }

    /// Refreshes the position shown while playing, at most once a [`POSITION_REFRESH`].
    pub fn show_position(&self, position: Duration) {
        let due = self
            .inner
            .lock()
            .is_ok_and(|inner| inner.playing && inner.position_sent.elapsed() >= POSITION_REFRESH);
        if due {
            self.show_playback("playing", position);
        }
    }

    /// Shows the volume (0–1).
    pub fn show_volume(&self, volume: f32) {
        self.with_controls(|controls| controls.set_volume(f64::from(volume)));
    }

    fn with_controls(
        &self,
        change: impl FnOnce(&mut MediaControls) -> Result<(), souvlaki::Error>,
    ) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if let Some(controls) = inner.controls.as_mut()
            && let Err(e) = change(controls)
        {
            tracing::warn!(error = ?e, "the media controls stopped; media keys are off");
            inner.controls = None;
        }
    }
}

/// The D-Bus name (`org.mpris.MediaPlayer2.NAME`): `skylark`, or for a side-by-side profile
/// (`SKYLARK_DATA_DIR` set), `skylark.instancePID` as MPRIS asks of a second instance.
fn dbus_name() -> String {
    match std::env::var_os("SKYLARK_DATA_DIR").filter(|d| !d.is_empty()) {
        Some(_) => format!("skylark.instance{}", std::process::id()),
        None => "skylark".to_owned(),
    }
}

fn open(app: &AppHandle) -> Result<MediaControls, String> {
    let name = dbus_name();
    #[cfg(target_os = "windows")]
    let hwnd = {
        let window = app
            .get_webview_window("main")
            .ok_or("the main window is not open")?;
        Some(window.hwnd().map_err(|e| e.to_string())?.0)
    };
    #[cfg(not(target_os = "windows"))]
    let hwnd = None;
    let mut controls = MediaControls::new(PlatformConfig {
        display_name: "Skylark",
        dbus_name: &name,
        hwnd,
    })
    .map_err(|e| format!("{e:?}"))?;
    let handle = app.clone();
    controls
        .attach(move |event| handle_event(&handle, event))
        .map_err(|e| format!("{e:?}"))?;
    Ok(controls)
}

/// Carries out a request from the platform.
fn handle_event(app: &AppHandle, event: MediaControlEvent) {
    let state = app.state::<AppState>();
    let player = &state.player;
    let now = player.snapshot();
    let position = Duration::from_millis(now.position_ms);
    let command = match event {
        MediaControlEvent::Play => match now.state {
            "paused" => Some(PlayerCmd::Resume),
            "stopped" => Some(PlayerCmd::Play),
            _ => None,
        },
        MediaControlEvent::Pause => (now.state == "playing").then_some(PlayerCmd::Pause),
        MediaControlEvent::Toggle => Some(match now.state {
            "playing" => PlayerCmd::Pause,
            "paused" => PlayerCmd::Resume,
            _ => PlayerCmd::Play,
        }),
        MediaControlEvent::Next => Some(PlayerCmd::Next),
        MediaControlEvent::Previous => Some(PlayerCmd::Previous),
        MediaControlEvent::Stop => Some(PlayerCmd::Stop),
        MediaControlEvent::Seek(direction) => {
            Some(PlayerCmd::Seek(step(position, direction, SEEK_STEP)))
        }
        MediaControlEvent::SeekBy(direction, by) => {
            Some(PlayerCmd::Seek(step(position, direction, by)))
        }
        MediaControlEvent::SetPosition(MediaPosition(to)) => Some(PlayerCmd::Seek(to)),
        MediaControlEvent::SetVolume(volume) => {
            // Through the same path as the UI's slider, so the UI and the settings follow.
            let volume = if volume.is_finite() {
                volume.clamp(0.0, 1.0) as f32
            } else {
                return;
            };
            if let Err(e) = crate::playback::apply_volume(app, &state, volume) {
                tracing::warn!(error = %e, "cannot set the volume asked by the media controls");
            }
            None
        }
        MediaControlEvent::Raise => {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
            None
        }
        MediaControlEvent::Quit => {
            app.exit(0);
            None
        }
        _ => None,
    };
    if let Some(command) = command
        && let Err(e) = player.send(command)
    {
        tracing::warn!(error = %e, "cannot carry out a media key");
    }
}

fn step(position: Duration, direction: SeekDirection, by: Duration) -> Duration {
    match direction {
        SeekDirection::Forward => position + by,
        SeekDirection::Backward => position.saturating_sub(by),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeking_back_stops_at_the_start() {
        let at = Duration::from_secs(4);
        assert_eq!(step(at, SeekDirection::Backward, SEEK_STEP), Duration::ZERO);
        assert_eq!(
            step(at, SeekDirection::Forward, SEEK_STEP),
            Duration::from_secs(14)
        );
    }
}
