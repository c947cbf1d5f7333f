//! Playing a locker track: the time from `play` to the first sample of sound at the output, for a
//! track this device has no file of, streamed from a locker on loopback; then again through a
//! proxy that adds 100 ms to every round trip (50 ms each way), and, side by side in the same run,
//! the same file played from the local disk. The figures are in docs/benchmarks.md.
//!
//! Run with `make bench`, or `cargo bench -p skylark-locker-client --bench locker_play`. Each run
//! opens the stream ([`Client::open_blob`]: a request for the file with a range, the read-ahead
//! thread), hands it to the player ([`Source::from_reader`]: probe, decoder, decode thread) and
//! waits for the first non-silent sample a 48 kHz output with a 1 ms period pulls.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use skylark_locker::config::Config;
use skylark_locker::loopback::Loopback;
use skylark_locker::{accounts, now_millis, open_database};
use skylark_locker_client::{
    Client, LocalFile, StreamOptions, TransferControl, Upload, UploadOptions,
};
use skylark_player::{
    ClockedOutput, OutputSpec, PlaybackState, Player, PlayerCmd, PlayerEvent, SoundProbe, Source,
};
use skylark_testsupport::{Format, TagSpec, Tone, write_audio};

/// Runs per figure, after [`WARM_UP`] unmeasured ones.
const RUNS: usize = 200;
const WARM_UP: usize = 5;
/// The delay the proxy adds each way.
const ONE_WAY: Duration = Duration::from_millis(50);
const PASSWORD: &str = "a long enough password";

/// A TCP proxy on loopback that delivers every chunk `ONE_WAY` after it arrived, in order, in
/// both directions: latency without a bandwidth limit.
fn start_delaying_proxy(target: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(target) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (client2, server2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            delay_pipe(client, server);
            delay_pipe(server2, client2);
        }
    });
    addr
}

/// Forwards `from` to `to`, each chunk held until `ONE_WAY` after it was read.
fn delay_pipe(mut from: TcpStream, mut to: TcpStream) {
    let (send, receive) = crossbeam_channel::unbounded::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if send
                        .send((Instant::now() + ONE_WAY, buf[..n].to_vec()))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    std::thread::spawn(move || {
        for (due, bytes) in receive {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            if to.write_all(&bytes).is_err() {
                return;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

/// Plays what `open` makes, `RUNS` times, and returns the sorted times from asking to hearing.
fn time_to_sound(
    player: &Player,
    probe: &SoundProbe,
    mut open: impl FnMut() -> Source,
) -> Vec<Duration> {
    let events = player.subscribe().unwrap();
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..WARM_UP + RUNS {
        probe.arm();
        let asked = Instant::now();
        let source = open();
        player
            .send(PlayerCmd::LoadAt {
                sources: vec![source],
                start: 0,
                play: true,
            })
            .unwrap();
        let heard = loop {
            if let Some(heard) = probe.heard() {
                break heard;
            }
            assert!(asked.elapsed() < Duration::from_secs(10), "no sound");
            std::thread::sleep(Duration::from_micros(200));
        };
        if run >= WARM_UP {
            times.push(heard - asked);
        }
        player.send(PlayerCmd::Stop).unwrap();
        loop {
            match events.recv_timeout(Duration::from_secs(10)).unwrap() {
                PlayerEvent::StateChanged(PlaybackState::Stopped) => break,
                _ => continue,
            }
        }
    }
    times.sort();
    times
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("locker");
    std::fs::create_dir_all(&data).unwrap();
    let conn = open_database(&data).unwrap();
    accounts::add_user(&conn, "alice", PASSWORD, 0, now_millis()).unwrap();
    let locker = Loopback::start(conn, Config::default(), &data).unwrap();
    let locker_addr = locker.addr;

    // A four-minute FLAC, as a song is: the stream must not need the whole file to start.
    let song = dir.path().join("song.flac");
    let tone = Tone {
        seconds: 240.0,
        frequency: 440.0,
        ..Tone::default()
    };
    write_audio(&song, Format::Flac, &tone, &TagSpec::default()).unwrap();
    let client = Client::sign_in(&locker.url, "alice", PASSWORD, "bench")
        .unwrap()
        .0;
    let file = LocalFile::hash(&song).unwrap();
    client
        .upload(
            &mut Upload::new(&file),
            &UploadOptions::default(),
            &TransferControl::new(),
            &mut |_, _| {},
        )
        .unwrap();
    let proxy = start_delaying_proxy(locker_addr);
    let mut far = client.credentials().clone();
    far.server = format!("http://{proxy}");
    let far = Client::with_credentials(far).unwrap();

    let output = ClockedOutput::new(
        OutputSpec {
            sample_rate: 48_000,
            channels: 2,
        },
        Duration::from_millis(1),
    );
    let probe = output.sound_probe();
    let player = Player::spawn(output).unwrap();
    let stream_from = |client: &Client| {
        let stream = client
            .open_blob(&file.file_hash, StreamOptions::default())
            .unwrap();
        let extension = stream.extension();
        Source::from_reader("song (locker)", stream, extension)
    };
    let local = time_to_sound(&player, &probe, || Source::path(Path::new(&song)));
    let near = time_to_sound(&player, &probe, || stream_from(&client));
    let delayed = time_to_sound(&player, &probe, || stream_from(&far));

    println!("## Time from play to the first sample: a locker track ({RUNS} runs)\n");
    println!("| source | p50 | p99 | max |");
    println!("|---|---:|---:|---:|");
    for (name, times) in [
        ("the file on the local disk", &local),
        ("streamed from the locker on loopback", &near),
        (
            "streamed through a proxy adding 100 ms per round trip",
            &delayed,
        ),
    ] {
        println!(
            "| {name} | {} | {} | {} |",
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.99)),
            ms(*times.last().unwrap())
        );
    }
    println!();
}
