//! `skylark-desktop`: starts the desktop app.

// A release build on Windows opens no console window beside the app's.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    skylark_desktop::run();
}
