//! A decode thread per queued track: opens the source, decodes ahead into a short channel of
//! blocks, and seeks on request.
//!
//! Opening and reading a source may block (a locker stream waiting on the network). Doing it
//! here keeps the engine thread free to answer commands and to notice the stall and report
//! buffering; the engine only ever polls the channel. The channel is short (a few blocks), so a
//! worker decodes at most a few hundred milliseconds ahead.
//!
//! **Architecture Invariant:** a worker never blocks on the engine: it waits either to hand over
//! a block or for a request, and leaves as soon as the engine drops its handle.

use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TryRecvError, select};
use symphonia::core::audio::Channels;
use tracing::debug;

use crate::decode::Decoder;
use crate::error::{Error, Result};
use crate::queue::{ItemId, Opening};
use crate::replaygain::GainInfo;

/// Decoded blocks a worker may hold ahead of the engine. FLAC blocks are 4096 frames, so this
/// is up to ~370 ms at 44.1 kHz; MP3's 1152-frame blocks make it ~100 ms.
const BLOCKS_AHEAD: usize = 4;

/// What a worker sends the engine.
pub(crate) enum WorkerOutput {
    /// The source is open; sent once, first.
    Opened {
        /// The ReplayGain values in the file's tags.
        gain: GainInfo,
    },
    /// Decoded audio.
    Block {
        generation: u64,
        rate: u32,
        channels: Channels,
        samples: Vec<f32>,
    },
    /// The end of the track.
    End { generation: u64 },
    /// Opening, seeking or decoding failed; nothing more follows until a seek.
    Failed { generation: u64, error: Error },
}

/// What a poll of the worker found.
pub(crate) enum Polled {
    /// Output of the current generation.
    Output(WorkerOutput),
    /// Nothing yet.
    Empty,
    /// The worker's thread is gone without saying why (it panicked outside the decoder's
    /// isolation, which should not happen).
    Gone,
}

enum Request {
    Seek { position: Duration, generation: u64 },
}

/// The engine's handle on one worker. Dropping it ends the worker.
pub(crate) struct DecodeWorker {
    requests: Sender<Request>,
    output: Receiver<WorkerOutput>,
    /// Output from before the latest seek carries an older generation and is dropped.
    generation: u64,
}

impl DecodeWorker {
    /// Starts a worker decoding `opening` from `start`. A reused decoder always seeks (it has
    /// played to wherever it stopped); a fresh one only when `start` is not zero. When the
    /// handle is dropped, a worker given `returns` sends its decoder back there, so a one-time
    /// stream can play again.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the thread cannot be started.
    pub(crate) fn spawn(
        id: ItemId,
        name: &str,
        opening: Opening,
        start: Duration,
        returns: Option<Sender<(ItemId, Box<Decoder>)>>,
    ) -> Result<Self> {
        let (requests, inbox) = crossbeam_channel::unbounded();
        let (outbox, output) = crossbeam_channel::bounded(BLOCKS_AHEAD);
        thread::Builder::new()
            .name("skylark-decode".to_owned())
            .spawn(move || {
                if let Some(decoder) = work(opening, start, &inbox, &outbox)
                    && let Some(returns) = returns
                {
                    // The engine may be gone too; then nobody needs the decoder.
                    let _ = returns.send((id, decoder));
                }
            })
            .map_err(|source| Error::Io {
                source_name: name.to_owned(),
                source,
            })?;
        Ok(DecodeWorker {
            requests,
            output,
            generation: 0,
        })
    }

    /// Asks the worker to go to `position`; what it sends from then on starts there.
    pub(crate) fn seek(&mut self, position: Duration) {
        self.generation += 1;
        // A worker that has gone away shows up as `Polled::Gone` on the next poll.
        let _ = self.requests.send(Request::Seek {
            position,
            generation: self.generation,
        });
    }

    /// The next output of the current generation, without waiting.
    pub(crate) fn poll(&mut self) -> Polled {
        loop {
            let output = match self.output.try_recv() {
                Ok(output) => output,
                Err(TryRecvError::Empty) => return Polled::Empty,
                Err(TryRecvError::Disconnected) => return Polled::Gone,
            };
            let generation = match &output {
                WorkerOutput::Opened { .. } => self.generation,
                WorkerOutput::Block { generation, .. }
                | WorkerOutput::End { generation }
                | WorkerOutput::Failed { generation, .. } => *generation,
            };
            if generation == self.generation {
                return Polled::Output(output);
            }
        }
    }

    /// The channel the worker's output arrives on, for waiting on it.
    pub(crate) fn receiver(&self) -> &Receiver<WorkerOutput> {
        &self.output
    }
}

/// The worker's thread: returns its decoder when the engine lets go, if it opened one.
fn work(
    opening: Opening,
    start: Duration,
    inbox: &Receiver<Request>,
    outbox: &Sender<WorkerOutput>,
) -> Option<Box<Decoder>> {
    let (mut decoder, reused) = match opening {
        Opening::Fresh(source) => match Decoder::open(source) {
            Ok(decoder) => (Box::new(decoder), false),
            Err(error) => {
                let _ = outbox.send(WorkerOutput::Failed {
                    generation: 0,
                    error,
                });
                return None;
            }
        },
        Opening::Reused(decoder) => (decoder, true),
    };
    let mut generation = 0;
    let mut ended = false;
    if (reused || !start.is_zero())
        && let Err(error) = decoder.seek(start)
    {
        ended = true;
        if outbox
            .send(WorkerOutput::Failed {
                generation: 0,
                error,
            })
            .is_err()
        {
            return Some(decoder);
        }
    }
    if outbox
        .send(WorkerOutput::Opened {
            gain: decoder.gain_info(),
        })
        .is_err()
    {
        return Some(decoder);
    }
    loop {
        // A seek asked for while decoding takes effect before the next block.
        match inbox.try_recv() {
            Ok(request) => {
                ended = handle(&mut decoder, request, &mut generation, outbox);
                continue;
            }
            Err(TryRecvError::Disconnected) => return Some(decoder),
            Err(TryRecvError::Empty) => {}
        }
        if ended {
            // At the end (or after an error) there is nothing to do until a seek.
            match inbox.recv() {
                Ok(request) => ended = handle(&mut decoder, request, &mut generation, outbox),
                Err(_) => return Some(decoder),
            }
            continue;
        }
        let message = match decoder.next_block() {
            Ok(Some(block)) => WorkerOutput::Block {
                generation,
                rate: block.sample_rate,
                channels: block.channels.clone(),
                samples: block.samples.to_vec(),
            },
            Ok(None) => {
                ended = true;
                WorkerOutput::End { generation }
            }
            Err(error) => {
                ended = true;
                WorkerOutput::Failed { generation, error }
            }
        };
        // Wait for room, but answer a seek meanwhile (the block waiting is then stale).
        select! {
            send(outbox, message) -> sent => if sent.is_err() {
                return Some(decoder);
            },
            recv(inbox) -> request => match request {
                Ok(request) => ended = handle(&mut decoder, request, &mut generation, outbox),
                Err(_) => return Some(decoder),
            },
        }
    }
}

/// Carries out a request; returns whether the decoder is now at an end (the seek failed).
fn handle(
    decoder: &mut Decoder,
    request: Request,
    generation: &mut u64,
    outbox: &Sender<WorkerOutput>,
) -> bool {
    match request {
        Request::Seek {
            position,
            generation: asked,
        } => {
            *generation = asked;
            match decoder.seek(position) {
                Ok(_) => false,
                Err(error) => {
                    debug!(%error, "seek failed");
                    let _ = outbox.send(WorkerOutput::Failed {
                        generation: asked,
                        error,
                    });
                    true
                }
            }
        }
    }
}
