//! Playback commands and the player's events: the app turns catalog tracks into player sources
//! (a local file, with its ReplayGain values and its track id as the key), forwards what the
//! player reports to the UI, keeps the latest state for a window that opens later, counts plays,
//! and remembers the queue for the next start.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use skylark_catalog::{Track, TrackId};
use skylark_player::{
    DeviceOutput, GainInfo, GainMode, ItemId, PlaybackState, Player, PlayerCmd, PlayerEvent,
    QueueSnapshot, Repeat, ReplayGain, Source,
};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::error::{AppError, CmdResult, ErrorKind};
use crate::media_keys::MediaKeys;
use crate::settings::{GainModeSetting, RepeatMode, ReplayGainSetting, Settings};
use crate::state::AppState;

/// One queue entry as the UI sees it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueueRow {
    /// The player's id for this entry (stable across queue edits).
    pub item: u64,
    /// The catalog track.
    pub track: Option<i64>,
}

/// What the player is doing, as the UI shows it; sent whole in `player-state` events.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NowPlaying {
    /// "stopped", "playing" or "paused".
    pub state: &'static str,
    /// The queue in play order.
    pub queue: Vec<QueueRow>,
    /// The index of the current entry in `queue`.
    pub current: Option<usize>,
    /// Position in the current track.
    pub position_ms: u64,
    /// Shuffle on.
    pub shuffle: bool,
    /// Repeat mode.
    pub repeat: RepeatMode,
    /// Volume 0–1.
    pub volume: f32,
    /// Muted.
    pub muted: bool,
    /// The source is stalled and playback waits for data.
    pub buffering: bool,
    /// The output device in use, or `None` when none could be opened.
    pub device: Option<String>,
}

impl NowPlaying {
    fn from_settings(settings: &Settings) -> Self {
        Self {
            state: "stopped",
            queue: Vec::new(),
            current: None,
            position_ms: 0,
            shuffle: settings.shuffle,
            repeat: settings.repeat,
            volume: settings.volume,
            muted: settings.muted,
            buffering: false,
            device: None,
        }
    }
}

/// A playback failure the UI shows next to the track it concerns (`player-error` events).
#[derive(Debug, Clone, Serialize)]
pub struct PlaybackError {
    /// The catalog track, when the error concerns one.
    pub track: Option<i64>,
    /// What went wrong, naming the file.
    pub message: String,
}

/// The player and what it last said.
pub struct PlayerHost {
    player: Mutex<Option<Player>>,
    now: Arc<Mutex<NowPlaying>>,
}

impl PlayerHost {
    /// A host with no player yet; [`PlayerHost::start`] opens the device.
    pub fn new(settings: &Settings) -> Self {
        Self {
            player: Mutex::new(None),
            now: Arc::new(Mutex::new(NowPlaying::from_settings(settings))),
        }
    }

    /// Opens the output device the settings name (or the default) and starts the player on it,
    /// forwarding its events to the UI. Without a device the app still runs: playback commands
    /// say why they cannot play, and choosing a device in Settings tries again.
    pub fn start(&self, app: &AppHandle, settings: &Settings) -> CmdResult<()> {
        let output = open_device(settings.output_device.as_deref())?;
        let device_name = output.name().to_owned();
        let mut slot = self.player.lock().map_err(|_| poisoned())?;
        if let Some(player) = slot.as_ref() {
            player.set_output(output)?;
        } else {
            let player = Player::spawn(output)?;
            let events = player.subscribe()?;
            apply_settings(&player, settings)?;
            let handle = app.clone();
            let now = Arc::clone(&self.now);
            std::thread::Builder::new()
                .name("skylark-player-events".to_owned())
                .spawn(move || forward_events(&handle, &now, events))
                .map_err(|e| AppError::new(ErrorKind::Internal, format!("cannot start: {e}")))?;
            *slot = Some(player);
        }
        self.update(app, |now| now.device = Some(device_name));
        Ok(())
    }

    pub(crate) fn send(&self, command: PlayerCmd) -> CmdResult<()> {
        let slot = self.player.lock().map_err(|_| poisoned())?;
        let player = slot.as_ref().ok_or_else(|| {
            AppError::new(
                ErrorKind::Playback,
                "no audio output is open; choose an output device in Settings",
            )
        })?;
        Ok(player.send(command)?)
    }

    pub(crate) fn snapshot(&self) -> NowPlaying {
        self.now.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn update(&self, app: &AppHandle, change: impl FnOnce(&mut NowPlaying)) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut now);
        let _ = app.emit("player-state", now.clone());
    }
}

fn poisoned() -> AppError {
    AppError::new(
        ErrorKind::Internal,
        "the player failed earlier; restart Skylark",
    )
}

fn open_device(name: Option<&str>) -> CmdResult<DeviceOutput> {
    let opened = match name {
        Some(name) => DeviceOutput::open(name).or_else(|e| {
            tracing::warn!(device = name, error = %e, "the chosen device is unavailable; using the default");
            DeviceOutput::open_default()
        }),
        None => DeviceOutput::open_default(),
    };
    opened.map_err(|e| {
        AppError::new(
            ErrorKind::Playback,
            format!("cannot open an audio output: {}", crate::error::chain(&e)),
        )
    })
}

fn replay_gain(setting: &ReplayGainSetting) -> ReplayGain {
    ReplayGain {
        mode: match setting.mode {
            GainModeSetting::Off => GainMode::Off,
            GainModeSetting::Track => GainMode::Track,
            GainModeSetting::Album => GainMode::Album,
        },
        preamp_db: setting.preamp_db,
        prevent_clipping: setting.prevent_clipping,
    }
}

fn repeat(mode: RepeatMode) -> Repeat {
    match mode {
        RepeatMode::Off => Repeat::Off,
        RepeatMode::One => Repeat::One,
        RepeatMode::All => Repeat::All,
    }
}

fn apply_settings(player: &Player, settings: &Settings) -> CmdResult<()> {
    player.send(PlayerCmd::SetVolume(settings.volume))?;
    player.send(PlayerCmd::SetMute(settings.muted))?;
    player.send(PlayerCmd::SetShuffle(settings.shuffle))?;
    player.send(PlayerCmd::SetRepeat(repeat(settings.repeat)))?;
    player.send(PlayerCmd::SetReplayGain(replay_gain(&settings.replay_gain)))?;
    Ok(())
}

/// `source` carrying what the player needs of `track`: its id as the key, its gain values.
fn with_track(source: Source, track: &Track) -> Source {
    source.with_key(track.id.0).with_gain(GainInfo {
        track_gain_db: track.rg_track_gain,
        track_peak: track.rg_track_peak,
        album_gain_db: track.rg_album_gain,
        album_peak: track.rg_album_peak,
    })
}

/// The sources of `ids`, in order, each with its track id: a track's file here, else its offline
/// copy, else its locker copy streamed. Tracks with none of these are left out, and named in
/// the error when none is left.
fn sources(state: &AppState, ids: &[i64]) -> CmdResult<Vec<(i64, Source)>> {
    let ids: Vec<TrackId> = ids.iter().copied().map(TrackId).collect();
    let catalog = state.catalog()?;
    let tracks = catalog.tracks_by_id(&ids)?;
    let mut sources: Vec<(i64, Source)> = Vec::with_capacity(tracks.len());
    for track in &tracks {
        let found = match track.path.as_ref().filter(|p| p.exists()) {
            Some(path) => Some(Source::path(path.clone())),
            None => state.cloud.source(&catalog, track)?,
        };
        if let Some(found) = found {
            sources.push((track.id.0, with_track(found, track)));
        }
    }
    drop(catalog);
    if sources.is_empty() && !ids.is_empty() {
        let what = tracks
            .first()
            .map(|t| format!("“{}”", t.title))
            .unwrap_or_else(|| "this track".to_owned());
        return Err(AppError::new(
            ErrorKind::Playback,
            format!("{what} has no file on this computer, and is not in a locker signed in to"),
        ));
    }
    Ok(sources)
}

/// Loads `tracks` into the queue starting at the one at `start` (or the first playable one when
/// that one has no file).
fn load(state: &AppState, tracks: &[i64], start: usize, play: bool) -> CmdResult<()> {
    let wanted = tracks.get(start).copied();
    let sources = sources(state, tracks)?;
    let start = wanted
        .and_then(|id| sources.iter().position(|(key, _)| *key == id))
        .unwrap_or(0);
    state.player.send(PlayerCmd::LoadAt {
        sources: sources.into_iter().map(|(_, s)| s).collect(),
        start,
        play,
    })
}

fn only_sources(sources: Vec<(i64, Source)>) -> Vec<Source> {
    sources.into_iter().map(|(_, s)| s).collect()
}

/// Keeps the locker songs that finished streaming as offline copies (a song still streaming is
/// kept at a later call: the next track's end, or the next sync).
fn keep_streamed(app: &AppHandle) {
    let state = app.state::<AppState>();
    let kept = state
        .catalog()
        .and_then(|mut catalog| state.cloud.keep_streamed(&mut catalog));
    match kept {
        Ok(0) => {}
        Ok(_) => {
            let _ = app.emit("library-changed", ());
        }
        Err(e) => tracing::warn!(error = %e.message, "cannot keep a streamed song"),
    }
}

/// Whether a listen counts as a play: half the track, or four minutes (as scrobblers count).
pub fn counts_as_play(position: Duration, duration: Duration) -> bool {
    position >= Duration::from_secs(240) || (!duration.is_zero() && position * 2 >= duration)
}

fn forward_events(
    app: &AppHandle,
    now: &Mutex<NowPlaying>,
    events: impl IntoIterator<Item = PlayerEvent>,
) {
    let mut last_position = Duration::ZERO;
    let mut position_saved = std::time::Instant::now();
    for event in events {
        match event {
            PlayerEvent::StateChanged(state) => {
                let mut now = now.lock().unwrap_or_else(|p| p.into_inner());
                now.state = match state {
                    PlaybackState::Stopped => "stopped",
                    PlaybackState::Playing => "playing",
                    PlaybackState::Paused => "paused",
                };
                let _ = app.emit("player-state", now.clone());
                let position = Duration::from_millis(now.position_ms);
                let shown = now.state;
                drop(now);
                if let Some(keys) = app.try_state::<MediaKeys>() {
                    keys.show_playback(shown, position);
                }
            }
            PlayerEvent::QueueChanged(snapshot) => {
                let mut now = now.lock().unwrap_or_else(|p| p.into_inner());
                apply_queue(&mut now, &snapshot);
                let _ = app.emit("player-state", now.clone());
                drop(now);
                save_queue(app, &snapshot);
            }
            PlayerEvent::Position { position, .. } => {
                last_position = position;
                let millis = u64::try_from(position.as_millis()).unwrap_or(u64::MAX);
                now.lock().unwrap_or_else(|p| p.into_inner()).position_ms = millis;
                let _ = app.emit("player-position", millis);
                if let Some(keys) = app.try_state::<MediaKeys>() {
                    keys.show_position(position);
                }
                if position_saved.elapsed() > Duration::from_secs(5) {
                    position_saved = std::time::Instant::now();
                    let state = app.state::<AppState>();
                    let _ = state.update_settings(|s| s.position_ms = millis);
                }
            }
            PlayerEvent::TrackStarted { key, name, .. } => {
                last_position = Duration::ZERO;
                set_title(app, key, &name);
                if let Some(keys) = app.try_state::<MediaKeys>() {
                    keys.show_track(app, key);
                }
            }
            PlayerEvent::TrackEnded { key, .. } => {
                if let Some(key) = key {
                    record_play(app, TrackId(key), last_position);
                }
                last_position = Duration::ZERO;
                keep_streamed(app);
            }
            PlayerEvent::Buffering { buffering, .. } => {
                let mut now = now.lock().unwrap_or_else(|p| p.into_inner());
                now.buffering = buffering;
                let _ = app.emit("player-state", now.clone());
            }
            PlayerEvent::Error { key, error, .. } => {
                let _ = app.emit(
                    "player-error",
                    PlaybackError {
                        track: key,
                        message: crate::error::chain(error.as_ref()),
                    },
                );
            }
            PlayerEvent::QueueEnded => {
                set_title(app, None, "");
                if let Some(keys) = app.try_state::<MediaKeys>() {
                    keys.show_track(app, None);
                }
            }
            _ => {}
        }
    }
}

fn apply_queue(now: &mut NowPlaying, snapshot: &QueueSnapshot) {
    now.queue = snapshot
        .items
        .iter()
        .map(|entry| QueueRow {
            item: entry.id.0,
            track: entry.key,
        })
        .collect();
    now.current = snapshot.current;
    now.shuffle = snapshot.shuffle;
    now.repeat = match snapshot.repeat {
        Repeat::Off => RepeatMode::Off,
        Repeat::One => RepeatMode::One,
        Repeat::All => RepeatMode::All,
    };
}

fn save_queue(app: &AppHandle, snapshot: &QueueSnapshot) {
    let state = app.state::<AppState>();
    let queue: Vec<i64> = snapshot.items.iter().filter_map(|e| e.key).collect();
    let _ = state.update_settings(|s| {
        s.queue = queue;
        s.queue_current = snapshot.current;
    });
}

fn record_play(app: &AppHandle, track: TrackId, listened: Duration) {
    let state = app.state::<AppState>();
    let Ok(mut catalog) = state.catalog() else {
        return;
    };
    let Ok(found) = catalog.track(track) else {
        return;
    };
    if counts_as_play(listened, found.duration) {
        if let Err(e) = catalog.record_play(track, SystemTime::now()) {
            tracing::warn!(error = %e, "cannot record a play");
        }
        let _ = app.emit("stats-changed", track.0);
    }
}

fn set_title(app: &AppHandle, key: Option<i64>, fallback: &str) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let title = key
        .and_then(|key| {
            let state = app.state::<AppState>();
            let catalog = state.catalog().ok()?;
            catalog.track(TrackId(key)).ok()
        })
        .map(|t| format!("{} — {} · Skylark", t.title, t.artist))
        .unwrap_or_else(|| {
            if fallback.is_empty() {
                "Skylark".to_owned()
            } else {
                format!("{fallback} · Skylark")
            }
        });
    let _ = window.set_title(&title);
}

/// What the player is doing now (the UI asks once at start, then follows events).
#[tauri::command]
pub async fn now_playing(state: State<'_, AppState>) -> CmdResult<NowPlaying> {
    Ok(state.player.snapshot())
}

/// Replaces the queue with `tracks` and plays from `start`.
#[tauri::command]
pub async fn play_tracks(
    state: State<'_, AppState>,
    tracks: Vec<i64>,
    start: usize,
) -> CmdResult<()> {
    load(&state, &tracks, start, true)
}

/// Plays `tracks` after the current one.
#[tauri::command]
pub async fn play_next(state: State<'_, AppState>, tracks: Vec<i64>) -> CmdResult<()> {
    let sources = sources(&state, &tracks)?;
    state
        .player
        .send(PlayerCmd::PlayNext(only_sources(sources)))
}

/// Adds `tracks` to the end of the queue.
#[tauri::command]
pub async fn enqueue(state: State<'_, AppState>, tracks: Vec<i64>) -> CmdResult<()> {
    let sources = sources(&state, &tracks)?;
    state.player.send(PlayerCmd::Append(only_sources(sources)))
}

/// Removes entries from the queue.
#[tauri::command]
pub async fn queue_remove(state: State<'_, AppState>, items: Vec<u64>) -> CmdResult<()> {
    state
        .player
        .send(PlayerCmd::Remove(items.into_iter().map(ItemId).collect()))
}

/// Moves a queue entry to position `to` in play order.
#[tauri::command]
pub async fn queue_move(state: State<'_, AppState>, item: u64, to: usize) -> CmdResult<()> {
    state.player.send(PlayerCmd::Move {
        item: ItemId(item),
        to,
    })
}

/// Clears everything after the current track.
#[tauri::command]
pub async fn queue_clear(state: State<'_, AppState>) -> CmdResult<()> {
    state.player.send(PlayerCmd::ClearUpcoming)
}

/// Plays a queue entry now.
#[tauri::command]
pub async fn queue_jump(state: State<'_, AppState>, item: u64) -> CmdResult<()> {
    state.player.send(PlayerCmd::JumpTo(ItemId(item)))
}

/// Play, pause or resume, whichever the player's state calls for.
#[tauri::command]
pub async fn toggle_play(state: State<'_, AppState>) -> CmdResult<()> {
    let command = match state.player.snapshot().state {
        "playing" => PlayerCmd::Pause,
        "paused" => PlayerCmd::Resume,
        _ => PlayerCmd::Play,
    };
    state.player.send(command)
}

/// Stops playback.
#[tauri::command]
pub async fn stop(state: State<'_, AppState>) -> CmdResult<()> {
    state.player.send(PlayerCmd::Stop)
}

/// Skips to the next track.
#[tauri::command]
pub async fn next(state: State<'_, AppState>) -> CmdResult<()> {
    state.player.send(PlayerCmd::Next)
}

/// Restarts the track, or goes to the previous one in its first 3 seconds.
#[tauri::command]
pub async fn previous(state: State<'_, AppState>) -> CmdResult<()> {
    state.player.send(PlayerCmd::Previous)
}

/// Moves to `position_ms` in the current track.
#[tauri::command]
pub async fn seek(state: State<'_, AppState>, position_ms: u64) -> CmdResult<()> {
    state
        .player
        .send(PlayerCmd::Seek(Duration::from_millis(position_ms)))
}

/// Sets the volume (0–1, perceptual) and remembers it.
#[tauri::command]
pub async fn set_volume(app: AppHandle, state: State<'_, AppState>, volume: f32) -> CmdResult<()> {
    if !volume.is_finite() {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "the volume must be a number",
        ));
    }
    apply_volume(&app, &state, volume.clamp(0.0, 1.0))
}

/// Sets the volume, shows it in the UI and the media controls, and remembers it.
pub(crate) fn apply_volume(app: &AppHandle, state: &AppState, volume: f32) -> CmdResult<()> {
    state.player.send(PlayerCmd::SetVolume(volume))?;
    state.player.update(app, |now| now.volume = volume);
    if let Some(keys) = app.try_state::<MediaKeys>() {
        keys.show_volume(volume);
    }
    state.update_settings(|s| s.volume = volume)
}

/// Mutes or unmutes.
#[tauri::command]
pub async fn set_muted(app: AppHandle, state: State<'_, AppState>, muted: bool) -> CmdResult<()> {
    state.player.send(PlayerCmd::SetMute(muted))?;
    state.player.update(&app, |now| now.muted = muted);
    state.update_settings(|s| s.muted = muted)
}

/// Turns shuffle on or off.
#[tauri::command]
pub async fn set_shuffle(state: State<'_, AppState>, shuffle: bool) -> CmdResult<()> {
    state.player.send(PlayerCmd::SetShuffle(shuffle))?;
    state.update_settings(|s| s.shuffle = shuffle)
}

/// Sets the repeat mode.
#[tauri::command]
pub async fn set_repeat(state: State<'_, AppState>, mode: RepeatMode) -> CmdResult<()> {
    state.player.send(PlayerCmd::SetRepeat(repeat(mode)))?;
    state.update_settings(|s| s.repeat = mode)
}

/// Sets the ReplayGain mode, pre-amp and clipping prevention.
#[tauri::command]
pub async fn set_replay_gain(
    state: State<'_, AppState>,
    setting: ReplayGainSetting,
) -> CmdResult<()> {
    if !setting.preamp_db.is_finite() || !(-15.0..=15.0).contains(&setting.preamp_db) {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "the pre-amp is between -15 and 15 dB",
        ));
    }
    state
        .player
        .send(PlayerCmd::SetReplayGain(replay_gain(&setting)))?;
    state.update_settings(|s| s.replay_gain = setting)
}

/// The output devices, by name.
#[tauri::command]
pub async fn output_devices() -> CmdResult<Vec<String>> {
    Ok(skylark_player::output_devices()?)
}

/// Plays through the device `name` (the system default with `None`) and remembers the choice.
#[tauri::command]
pub async fn set_output_device(
    app: AppHandle,
    state: State<'_, AppState>,
    name: Option<String>,
) -> CmdResult<()> {
    state.update_settings(|s| s.output_device = name.clone())?;
    let settings = state.settings()?;
    state.player.start(&app, &settings)
}

/// Loads the queue saved by the last run, paused where it was.
pub fn restore_queue(state: &AppState, settings: &Settings) -> CmdResult<()> {
    if settings.queue.is_empty() {
        return Ok(());
    }
    load(
        state,
        &settings.queue,
        settings.queue_current.unwrap_or(0),
        false,
    )?;
    if settings.position_ms > 0 {
        state
            .player
            .send(PlayerCmd::Seek(Duration::from_millis(settings.position_ms)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_play_counts_after_half_the_track_or_four_minutes() {
        let min = |m: u64| Duration::from_secs(60 * m);
        assert!(!counts_as_play(Duration::from_secs(20), min(3)));
        assert!(counts_as_play(Duration::from_secs(90), min(3)));
        assert!(counts_as_play(min(4), min(20)));
        assert!(!counts_as_play(min(3), min(20)));
        assert!(!counts_as_play(Duration::ZERO, Duration::ZERO));
    }
}
