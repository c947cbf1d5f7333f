//! The sound card: cpal output devices, listed, opened and played through an [`OutputFeed`].

use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use crossbeam_channel::{Receiver, Sender};
use tracing::{debug, warn};

use crate::error::{Error, Result};
use crate::output::{Output, OutputFeed};
use crate::sink::OutputSpec;

/// The names of the default host's output devices, as [`DeviceOutput::open`] takes them.
///
/// # Errors
///
/// [`Error::Device`] if the host cannot enumerate its devices.
pub fn output_devices() -> Result<Vec<String>> {
    let host = cpal::default_host();
    let devices = host.output_devices().map_err(|source| Error::Device {
        device: host.id().name().to_owned(),
        source,
    })?;
    Ok(devices.filter_map(|device| device_name(&device)).collect())
}

/// An output device as [`list_devices`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The name [`DeviceOutput::open`] takes.
    pub name: String,
    /// Whether it is the system's default output device.
    pub is_default: bool,
}

/// The default host's output devices, with which one is the default.
///
/// # Errors
///
/// [`Error::Device`] if the host cannot enumerate its devices.
pub fn list_devices() -> Result<Vec<DeviceInfo>> {
    let host = cpal::default_host();
    let default = host
        .default_output_device()
        .and_then(|device| device_name(&device));
    let devices = host.output_devices().map_err(|source| Error::Device {
        device: host.id().name().to_owned(),
        source,
    })?;
    let mut listed: Vec<DeviceInfo> = devices
        .filter_map(|device| device_name(&device))
        .map(|name| DeviceInfo {
            is_default: default.as_deref() == Some(name.as_str()),
            name,
        })
        .collect();
    // Some hosts (ALSA among them) do not list the default device among the others.
    if let Some(default) = default
        && !listed.iter().any(|device| device.name == default)
    {
        listed.insert(
            0,
            DeviceInfo {
                name: default,
                is_default: true,
            },
        );
    }
    Ok(listed)
}

fn device_name(device: &cpal::Device) -> Option<String> {
    device.description().ok().map(|d| d.name().to_owned())
}

/// A cpal output device, played at its default rate and channel count in f32.
///
/// The engine conforms its audio to [`spec`](Output::spec) (resampling with the same
/// [`StreamResampler`](crate::StreamResampler) the render uses, and mapping channels to the
/// device's count), so the device never converts. The stream runs from
/// [`start`](Output::start) until this value is dropped; its callback only calls
/// [`OutputFeed::fill`]. While the engine has nothing to play it
/// [suspends](Output::set_running) the output: the stream is paused, or, on a device that
/// cannot pause, closed and opened again on resume with the same feed. A device error (a device unplugged) is reported to the engine, which
/// pauses and sends an error naming the device and the reason; [`Player::set_output`] then
/// plays on another device (or this one, opened again) from the held position.
///
/// [`Player::set_output`]: crate::Player::set_output
pub struct DeviceOutput {
    device: cpal::Device,
    name: String,
    config: cpal::StreamConfig,
    stream: Option<cpal::Stream>,
    /// The stream is paused (rather than closed) while suspended.
    paused: bool,
    /// Where a closed stream's callback hands the feed back.
    returned: Option<Receiver<OutputFeed>>,
    /// The feed of a stream closed while suspended, for the stream opened on resume.
    parked: Option<OutputFeed>,
}

/// Owns the feed inside the stream's callback and hands it back when the callback is dropped
/// (the stream closed), so a new stream can carry on from the same feed.
struct FeedHome {
    feed: Option<OutputFeed>,
    back: Sender<OutputFeed>,
}

impl Drop for FeedHome {
    fn drop(&mut self) {
        if let Some(feed) = self.feed.take() {
            // The receiver is gone only if the output itself is being dropped.
            let _ = self.back.send(feed);
        }
    }
}

/// How long to wait for a closed stream's callback to hand its feed back.
const FEED_RETURN_WAIT: Duration = Duration::from_secs(2);

impl std::fmt::Debug for DeviceOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceOutput")
            .field("name", &self.name)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl DeviceOutput {
    /// The system's default output device.
    ///
    /// # Errors
    ///
    /// [`Error::NoOutputDevice`] if there is none, [`Error::Device`] if its configuration
    /// cannot be read.
    pub fn open_default() -> Result<Self> {
        let device = cpal::default_host()
            .default_output_device()
            .ok_or(Error::NoOutputDevice)?;
        Self::with_device(device)
    }

    /// The output device called `name` (one of [`list_devices`]).
    ///
    /// # Errors
    ///
    /// [`Error::DeviceNotFound`] if no output device has that name, [`Error::Device`] if the
    /// devices cannot be listed or its configuration cannot be read.
    pub fn open(name: &str) -> Result<Self> {
        let host = cpal::default_host();
        let mut devices = host.output_devices().map_err(|source| Error::Device {
            device: name.to_owned(),
            source,
        })?;
        let device = devices
            .find(|device| device_name(device).as_deref() == Some(name))
            .ok_or_else(|| Error::DeviceNotFound {
                name: name.to_owned(),
            })?;
        Self::with_device(device)
    }

    fn with_device(device: cpal::Device) -> Result<Self> {
        let name = device_name(&device).unwrap_or_else(|| "output device".to_owned());
        let config = device
            .default_output_config()
            .map_err(|source| Error::Device {
                device: name.clone(),
                source,
            })?
            .config();
        Ok(DeviceOutput {
            device,
            name,
            config,
            stream: None,
            paused: false,
            returned: None,
            parked: None,
        })
    }

    fn device_error(&self, source: impl Into<cpal::Error>) -> Error {
        Error::Device {
            device: self.name.clone(),
            source: source.into(),
        }
    }

    /// Builds and plays a stream whose callback drains `feed`.
    fn open_stream(&mut self, feed: OutputFeed) -> Result<()> {
        let reporter = feed.failure_reporter();
        let device = self.name.clone();
        let (back, returned) = crossbeam_channel::bounded(1);
        let mut home = FeedHome {
            feed: Some(feed),
            back,
        };
        let stream = self
            .device
            .build_output_stream::<f32, _, _>(
                self.config,
                move |buffer: &mut [f32], _| {
                    if let Some(feed) = home.feed.as_mut() {
                        feed.fill(buffer);
                    }
                },
                // Not the real-time callback (it may run on the audio thread, but only when the
                // stream has had an error), so it may allocate the message it hands the engine.
                move |error: cpal::Error| match error.kind() {
                    // The stream goes on: rerouted, or without real-time priority.
                    cpal::ErrorKind::DeviceChanged | cpal::ErrorKind::RealtimeDenied => {
                        debug!(device = %device, %error, "the audio device reported");
                    }
                    // The stream goes on after these, or may: cpal recovers an underrun, and a
                    // backend error can be a sound server not ready yet.
                    cpal::ErrorKind::Xrun
                    | cpal::ErrorKind::BackendError
                    | cpal::ErrorKind::DeviceBusy
                    | cpal::ErrorKind::ResourceExhausted => reporter.report_glitch(&device, &error),
                    _ => reporter.report(&device, &error),
                },
                None,
            )
            .map_err(|source| self.device_error(source))?;
        stream.play().map_err(|source| self.device_error(source))?;
        self.stream = Some(stream);
        self.returned = Some(returned);
        self.paused = false;
        Ok(())
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Output for DeviceOutput {
    fn spec(&self) -> OutputSpec {
        OutputSpec {
            sample_rate: self.config.sample_rate,
            channels: self.config.channels,
        }
    }

    fn start(&mut self, feed: OutputFeed) -> Result<()> {
        self.open_stream(feed)
    }

    fn set_running(&mut self, running: bool) -> Result<()> {
        if running {
            if let Some(feed) = self.parked.take() {
                return self.open_stream(feed);
            }
            if self.stream.is_none() {
                return Err(Error::DeviceFailed {
                    device: self.name.clone(),
                    reason: "its stream was closed and could not be opened again".to_owned(),
                });
            }
            if self.paused
                && let Some(stream) = &self.stream
            {
                stream.play().map_err(|source| self.device_error(source))?;
                self.paused = false;
            }
            return Ok(());
        }
        let Some(stream) = &self.stream else {
            return Ok(());
        };
        if self.paused {
            return Ok(());
        }
        if stream.pause().is_ok() {
            self.paused = true;
            return Ok(());
        }
        // The device cannot pause (ALSA's null and file plugins, some USB DACs): close the
        // stream, keeping its feed for the one opened on resume.
        drop(self.stream.take());
        self.parked = self
            .returned
            .take()
            .and_then(|returned| returned.recv_timeout(FEED_RETURN_WAIT).ok());
        if self.parked.is_none() {
            warn!(device = %self.name, "the closed stream did not hand back its feed");
        }
        Ok(())
    }
}
