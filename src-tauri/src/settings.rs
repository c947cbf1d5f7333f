//! The app's own state between runs (`settings.json` in the data folder): the user's choices and
//! where playback was. Window size and position are kept by the window-state plugin.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How tracks repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepeatMode {
    /// Stop after the queue.
    #[default]
    Off,
    /// Play the current track again and again.
    One,
    /// Start the queue again after its last track.
    All,
}

/// Which ReplayGain values are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GainModeSetting {
    /// None: every file plays at its own level.
    Off,
    /// Each track at the same loudness.
    #[default]
    Track,
    /// Each album at the same loudness, keeping the differences within it.
    Album,
}

/// ReplayGain as the user set it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplayGainSetting {
    /// Which values apply.
    pub mode: GainModeSetting,
    /// Added to every gain, in dB (-15 to 15).
    pub preamp_db: f32,
    /// Lower the gain where the peaks say the track would clip.
    pub prevent_clipping: bool,
}

impl Default for ReplayGainSetting {
    fn default() -> Self {
        Self {
            mode: GainModeSetting::Track,
            preamp_db: 0.0,
            prevent_clipping: true,
        }
    }
}

/// Everything the app remembers between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Volume, 0 to 1 (perceptual).
    pub volume: f32,
    /// Muted.
    pub muted: bool,
    /// Shuffle on.
    pub shuffle: bool,
    /// Repeat mode.
    pub repeat: RepeatMode,
    /// ReplayGain.
    pub replay_gain: ReplayGainSetting,
    /// The output device's name; `None` follows the system default.
    pub output_device: Option<String>,
    /// The queue as catalog track ids, in play order.
    pub queue: Vec<i64>,
    /// The index in `queue` of the current track.
    pub queue_current: Option<usize>,
    /// Where the current track was.
    pub position_ms: u64,
    /// The import wizard ran to its end (or was skipped).
    pub wizard_done: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            volume: 0.8,
            muted: false,
            shuffle: false,
            repeat: RepeatMode::Off,
            replay_gain: ReplayGainSetting::default(),
            output_device: None,
            queue: Vec::new(),
            queue_current: None,
            position_ms: 0,
            wizard_done: false,
        }
    }
}

impl Settings {
    /// Keeps every value in its range, whatever the file said.
    fn sanitized(mut self) -> Self {
        if !self.volume.is_finite() {
            self.volume = Settings::default().volume;
        }
        self.volume = self.volume.clamp(0.0, 1.0);
        if !self.replay_gain.preamp_db.is_finite() {
            self.replay_gain.preamp_db = 0.0;
        }
        self.replay_gain.preamp_db = self.replay_gain.preamp_db.clamp(-15.0, 15.0);
        if self.queue_current.is_some_and(|i| i >= self.queue.len()) {
            self.queue_current = None;
        }
        self
    }
}

/// Where settings live and how they are read and written.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    /// `settings.json` in `data_dir`.
    pub fn in_dir(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join("settings.json"),
        }
    }

    /// The saved settings; defaults when there are none. A file that cannot be parsed is kept
    /// beside as `settings.json.bad` (so nothing the user set is silently destroyed) and the
    /// defaults are used.
    pub fn load(&self) -> Settings {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Settings::default(),
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot read settings");
                return Settings::default();
            }
        };
        match serde_json::from_str::<Settings>(&text) {
            Ok(settings) => settings.sanitized(),
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "settings unreadable; using defaults");
                let _ = std::fs::rename(&self.path, self.path.with_extension("json.bad"));
                Settings::default()
            }
        }
    }

    /// Writes `settings` atomically: a crash mid-write leaves the previous file whole.
    pub fn save(&self, settings: &Settings) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(settings).map_err(std::io::Error::other)?;
        {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_dir(dir.path());
        assert_eq!(file.load(), Settings::default());
        let settings = Settings {
            volume: 0.25,
            shuffle: true,
            repeat: RepeatMode::All,
            queue: vec![3, 1, 2],
            queue_current: Some(1),
            position_ms: 61_000,
            wizard_done: true,
            ..Settings::default()
        };
        file.save(&settings).unwrap();
        assert_eq!(file.load(), settings);
    }

    #[test]
    fn a_corrupt_file_is_kept_aside_and_defaults_are_used() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_dir(dir.path());
        std::fs::write(dir.path().join("settings.json"), b"{\"volume\": 0.3, oops").unwrap();
        assert_eq!(file.load(), Settings::default());
        assert!(dir.path().join("settings.json.bad").exists());
    }

    #[test]
    fn out_of_range_values_are_clamped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("settings.json"),
            br#"{"volume": 7, "queue": [1], "queue_current": 4, "replay_gain": {"preamp_db": -99}}"#,
        )
        .unwrap();
        let settings = SettingsFile::in_dir(dir.path()).load();
        assert_eq!(settings.volume, 1.0);
        assert_eq!(settings.queue_current, None);
        assert_eq!(settings.replay_gain.preamp_db, -15.0);
        assert_eq!(settings.replay_gain.mode, GainModeSetting::Track);
    }
}
