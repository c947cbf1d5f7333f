//! Skylark's desktop app: a Tauri v2 shell over the catalog and the player.
//!
//! **Architecture Invariant:** the shell is thin. Each command calls one crate function and maps
//! its error to an [`error::AppError`] the UI can show; events from the scanner and the player are
//! forwarded to the UI as they come. What a music player *does* lives in the crates.
//!
//! - [`library`]: folders, scans, browsing, search, playlists, ratings.
//! - [`playback`]: the queue and transport, and the player's events.
//! - [`media_keys`]: MPRIS and the platform's media keys.
//! - [`cloud`]: the locker: sign-in, background sync, streams of tracks with no file here.
//! - [`history`]: importing play history and playlists (iTunes, M3U, stats), and exporting it all.
//! - [`settings`]: what the app remembers between runs.

pub mod cloud;
pub mod error;
pub mod history;
pub mod library;
pub mod media_keys;
pub mod playback;
pub mod settings;
pub mod state;

use tauri::Manager;

use crate::playback::PlayerHost;
use crate::settings::SettingsFile;
use crate::state::{AppState, Paths};

/// Starts the app; returns when its window closes.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SKYLARK_LOG")
                // lofty and symphonia warn of harmless oddities of the files they read (an ID3v2
                // tag in a FLAC file); what matters of them is in the scan report or the error.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("warn,lofty=error,symphonia=error")
                }),
        )
        .with_writer(std::io::stderr)
        .init();

    let result = tauri::Builder::default()
        // First, so a second launch hands over to the running app before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(|app| {
            let paths = Paths::resolve()?;
            let settings = SettingsFile::in_dir(&paths.data_dir).load();
            let state = AppState::open(paths, PlayerHost::new(&settings))?;
            // The UI may load covers (and nothing else) from the cover cache.
            app.asset_protocol_scope()
                .allow_directory(&state.paths.covers, true)?;
            app.manage(state);
            app.manage(history::PendingImport::default());
            // Before the player starts, whose events it shows.
            app.manage(media_keys::MediaKeys::start(app.handle()));
            let state = app.state::<AppState>();
            state.restart_watcher(app.handle());
            state.cloud.start(app.handle(), &state.paths);
            match state.player.start(app.handle(), &settings) {
                Ok(()) => {
                    if let Err(e) = playback::restore_queue(&state, &settings) {
                        tracing::warn!(error = %e, "cannot restore the last queue");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "starting without audio output"),
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            library::app_info,
            cloud::cloud_status,
            cloud::cloud_sign_in,
            cloud::cloud_sign_out,
            cloud::cloud_sync,
            cloud::cloud_download,
            cloud::cloud_remove,
            cloud::offline_pinned,
            cloud::offline_unpin,
            cloud::cloud_upload,
            cloud::cloud_upload_pause,
            cloud::cloud_upload_limit,
            library::get_settings,
            library::set_wizard_done,
            library::roots,
            library::remove_root,
            library::scan,
            library::cancel_scan,
            library::track_ids,
            library::tracks,
            library::track_lyrics,
            library::albums,
            library::album,
            library::artists,
            library::artist,
            library::genres,
            library::genre_tracks,
            library::recently_added,
            library::search,
            library::library_stats,
            library::set_rating,
            library::playlists,
            library::playlist,
            library::create_playlist,
            library::rename_playlist,
            library::delete_playlist,
            library::add_to_playlist,
            library::remove_from_playlist,
            library::move_playlist_item,
            library::import_m3u,
            library::export_m3u,
            history::itunes_libraries,
            history::plan_import,
            history::apply_import,
            history::discard_import,
            history::imports,
            history::undo_import,
            history::export_library,
            playback::now_playing,
            playback::play_tracks,
            playback::play_next,
            playback::enqueue,
            playback::queue_remove,
            playback::queue_move,
            playback::queue_clear,
            playback::queue_jump,
            playback::toggle_play,
            playback::stop,
            playback::next,
            playback::previous,
            playback::seek,
            playback::set_volume,
            playback::set_muted,
            playback::set_shuffle,
            playback::set_repeat,
            playback::set_replay_gain,
            playback::output_devices,
            playback::set_output_device,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "Skylark stopped with an error");
        eprintln!("Skylark could not run: {e}");
        std::process::exit(1);
    }
}
