//! The player as the app uses it: real files from real encoders, decoded and rendered.
//!
//! One binary, a module per area. Fixtures are made here with the Debian encoders (through
//! `skylark-testsupport` or directly with `sox`, `flac`, `lame`, `ffmpeg`).

// Test helpers unwrap: a panic is a test failure with a location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod buffering;
mod device;
mod engine;
mod fixtures;
mod formats;
mod gapless;
mod opus;
mod queue;
mod replaygain;
mod resample;
mod seek;
