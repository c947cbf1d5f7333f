//! A loopback TCP proxy in front of the locker that counts bytes and injects faults: it cuts a
//! connection after so many bytes, stalls (holds bytes back), or refuses connections.
//!
//! It also follows the HTTP/1.1 requests on each connection (heads and `Content-Length` bodies),
//! so that it can count the bytes of upload PATCH bodies apart from everything else, and cut a
//! PATCH in the middle of its body, whichever upload and connection it belongs to.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// No fault configured.
const OFF: u64 = u64::MAX;

#[derive(Default)]
struct Faults {
    /// Client-to-locker bytes forwarded, over every connection.
    up: AtomicU64,
    /// Locker-to-client bytes forwarded, over every connection.
    down: AtomicU64,
    /// Client-to-locker bytes still let through before one cut (then the fault disarms).
    cut_up_after: AtomicU64,
    /// Every connection is cut after this many locker-to-client bytes.
    cut_down_every: AtomicU64,
    /// Bytes are held back while set.
    stalled: AtomicBool,
    /// New connections are closed at once, and open ones are cut, while set.
    refuse: AtomicBool,
    /// Connections cut so far.
    cuts: AtomicU64,
    stop: AtomicBool,
    /// How far into their bodies the next PATCH requests are cut, as a fraction of the body
    /// (`None`: not cut), one entry per request, taken as each request's head goes by.
    patch_cuts: Mutex<VecDeque<Option<f64>>>,
    /// Every PATCH whose `Upload-Offset` is at least the first is cut after the second (a
    /// fraction of its body), before the schedule is looked at.
    patch_cuts_from: Mutex<Option<(u64, f64)>>,
    /// PATCH requests whose head went by.
    patches: AtomicU64,
    /// PATCH body bytes forwarded, cut bodies' included.
    patch_body_bytes: AtomicU64,
    /// PATCH requests cut in their body.
    patches_cut: AtomicU64,
    /// Body bytes of the cut PATCH requests forwarded before their cut.
    cut_body_bytes: AtomicU64,
    /// The `Content-Length` of the cut PATCH requests, summed.
    cut_body_lengths: AtomicU64,
    /// Connections whose requests the proxy stopped following (a chunked body, a huge head).
    unfollowed: AtomicU64,
}

/// The proxy; it stops when dropped.
pub struct Proxy {
    addr: SocketAddr,
    faults: Arc<Faults>,
}

impl Proxy {
    /// A proxy to `target` on a free loopback port.
    pub fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let faults = Arc::new(Faults::default());
        faults.cut_up_after.store(OFF, Ordering::SeqCst);
        faults.cut_down_every.store(OFF, Ordering::SeqCst);
        let shared = Arc::clone(&faults);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                if shared.refuse.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let up = Arc::clone(&shared);
                std::thread::spawn(move || pump(client, server, &up, Direction::Up));
                let down = Arc::clone(&shared);
                std::thread::spawn(move || pump(s2, c2, &down, Direction::Down));
            }
        });
        Proxy { addr, faults }
    }

    /// The proxy's address as a locker URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Client-to-locker bytes forwarded so far.
    pub fn up_bytes(&self) -> u64 {
        self.faults.up.load(Ordering::SeqCst)
    }

    /// Connections cut so far.
    pub fn cuts(&self) -> u64 {
        self.faults.cuts.load(Ordering::SeqCst)
    }

    /// Cuts the connection carrying the client's next `n` bytes right after them, once.
    pub fn cut_up_after(&self, n: u64) {
        self.faults.cut_up_after.store(n, Ordering::SeqCst);
    }

    /// Cuts every connection after it has carried `n` bytes to the client.
    pub fn cut_down_every(&self, n: u64) {
        self.faults.cut_down_every.store(n, Ordering::SeqCst);
    }

    /// Holds every byte back while `on`.
    pub fn stall(&self, on: bool) {
        self.faults.stalled.store(on, Ordering::SeqCst);
    }

    /// Refuses new connections and cuts open ones while `on`.
    pub fn refuse(&self, on: bool) {
        self.faults.refuse.store(on, Ordering::SeqCst);
    }

    /// Cuts the next PATCH requests in their body, whatever connection carries them: the n-th
    /// PATCH from now is cut after `schedule[n]` of its `Content-Length` (at least one byte in,
    /// and at least one byte short of the end), or let through for `None`. Replaces any earlier
    /// schedule; `&[]` cuts no more.
    pub fn cut_patches(&self, schedule: &[Option<f64>]) {
        *self.faults.patch_cuts.lock().unwrap() = schedule.iter().copied().collect();
    }

    /// Cuts every PATCH from now on whose `Upload-Offset` is at least `offset`, after `fraction`
    /// of its body, until [`Proxy::stop_cutting_patches`].
    pub fn cut_patches_from(&self, offset: u64, fraction: f64) {
        *self.faults.patch_cuts_from.lock().unwrap() = Some((offset, fraction));
    }

    /// Cuts no more PATCH requests: forgets the schedule and the offset rule.
    pub fn stop_cutting_patches(&self) {
        *self.faults.patch_cuts_from.lock().unwrap() = None;
        self.faults.patch_cuts.lock().unwrap().clear();
    }

    /// PATCH requests seen so far.
    pub fn patches(&self) -> u64 {
        self.faults.patches.load(Ordering::SeqCst)
    }

    /// PATCH body bytes forwarded to the locker so far, those of cut bodies included.
    pub fn patch_body_bytes(&self) -> u64 {
        self.faults.patch_body_bytes.load(Ordering::SeqCst)
    }

    /// PATCH requests cut in their body so far.
    pub fn patches_cut(&self) -> u64 {
        self.faults.patches_cut.load(Ordering::SeqCst)
    }

    /// Body bytes the cut PATCH requests carried to the locker before their cut.
    pub fn cut_body_bytes(&self) -> u64 {
        self.faults.cut_body_bytes.load(Ordering::SeqCst)
    }

    /// The cut PATCH requests' `Content-Length`s, summed: what their senders meant to send.
    pub fn cut_body_lengths(&self) -> u64 {
        self.faults.cut_body_lengths.load(Ordering::SeqCst)
    }

    /// Connections whose requests the proxy could not follow, so that its PATCH counts would
    /// be short (a test that relies on them checks this is 0).
    pub fn unfollowed(&self) -> u64 {
        self.faults.unfollowed.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.faults.stop.store(true, Ordering::SeqCst);
        self.faults.refuse.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the stop.
        let _ = TcpStream::connect(self.addr);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// Copies `from` to `to` until either ends or a fault cuts both.
fn pump(mut from: TcpStream, mut to: TcpStream, faults: &Faults, direction: Direction) {
    let cut = |from: &TcpStream, to: &TcpStream| {
        faults.cuts.fetch_add(1, Ordering::SeqCst);
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    };
    let _ = from.set_read_timeout(Some(Duration::from_millis(50)));
    let mut carried = 0u64;
    let mut requests = Requests::Head(Vec::new());
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if faults.refuse.load(Ordering::SeqCst) {
            cut(&from, &to);
            return;
        }
        let n = match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(_) => {
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        };
        while faults.stalled.load(Ordering::SeqCst) && !faults.refuse.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut send = n;
        let mut cut_after = false;
        match direction {
            Direction::Up => {
                let budget = faults.cut_up_after.load(Ordering::SeqCst);
                if budget != OFF {
                    if (n as u64) >= budget {
                        send = budget as usize;
                        cut_after = true;
                        faults.cut_up_after.store(OFF, Ordering::SeqCst);
                    } else {
                        faults
                            .cut_up_after
                            .store(budget - n as u64, Ordering::SeqCst);
                    }
                }
            }
            Direction::Down => {
                let every = faults.cut_down_every.load(Ordering::SeqCst);
                if every != OFF && carried + n as u64 >= every {
                    send = (every - carried) as usize;
                    cut_after = true;
                }
            }
        }
        let mut followed = Followed::default();
        if direction == Direction::Up {
            followed = requests.follow(&buf[..send], faults);
            if let Some(at) = followed.cut_at {
                send = at;
                cut_after = true;
            }
        }
        if to.write_all(&buf[..send]).is_err() {
            let _ = from.shutdown(Shutdown::Both);
            return;
        }
        faults
            .patch_body_bytes
            .fetch_add(followed.patch_body_bytes, Ordering::SeqCst);
        if followed.cut_at.is_some() {
            faults.patches_cut.fetch_add(1, Ordering::SeqCst);
            faults
                .cut_body_bytes
                .fetch_add(followed.cut_body_bytes, Ordering::SeqCst);
            faults
                .cut_body_lengths
                .fetch_add(followed.cut_body_length, Ordering::SeqCst);
        }
        carried += send as u64;
        let counter = match direction {
            Direction::Up => &faults.up,
            Direction::Down => &faults.down,
        };
        counter.fetch_add(send as u64, Ordering::SeqCst);
        if cut_after {
            // Let the bytes just written reach the other side before the connection goes.
            let _ = to.flush();
            std::thread::sleep(Duration::from_millis(20));
            cut(&from, &to);
            return;
        }
    }
}

/// The longest request head followed; a longer one stops the following.
const MAX_HEAD: usize = 64 * 1024;

/// Where a connection's client-to-locker bytes stand, request by request.
enum Requests {
    /// In a request head: its bytes so far.
    Head(Vec<u8>),
    /// In a `Content-Length` body.
    Body {
        /// Body bytes still to come.
        left: u64,
        /// Set for a PATCH body.
        patch: Option<PatchBody>,
    },
    /// Not followed any more (a chunked body, an oversized or unreadable head).
    Unfollowed,
}

/// A PATCH body going by.
struct PatchBody {
    /// Its `Content-Length`.
    length: u64,
    /// Bytes of it forwarded.
    forwarded: u64,
    /// Where it is to be cut, in body bytes.
    cut_at: Option<u64>,
}

/// What following some bytes found.
#[derive(Default)]
struct Followed {
    /// Forward only this many of the bytes, then cut the connection.
    cut_at: Option<usize>,
    /// PATCH body bytes among the bytes forwarded.
    patch_body_bytes: u64,
    /// For a cut: the cut body's bytes forwarded in all, and its `Content-Length`.
    cut_body_bytes: u64,
    cut_body_length: u64,
}

impl Requests {
    /// Follows `bytes`, the next ones the client sent, through request heads and bodies.
    fn follow(&mut self, bytes: &[u8], faults: &Faults) -> Followed {
        let mut followed = Followed::default();
        let mut pos = 0;
        while pos < bytes.len() {
            match self {
                Requests::Unfollowed => break,
                Requests::Head(head) => {
                    let before = head.len();
                    head.extend_from_slice(&bytes[pos..]);
                    let Some(end) = head[before.saturating_sub(3)..]
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .map(|at| before.saturating_sub(3) + at + 4)
                    else {
                        if head.len() > MAX_HEAD {
                            self.stop_following(faults);
                        }
                        break;
                    };
                    pos += end - before;
                    let next = match parse_head(&head[..end]) {
                        Some(head) => Requests::body(&head, faults),
                        None => Requests::Unfollowed,
                    };
                    if matches!(next, Requests::Unfollowed) {
                        self.stop_following(faults);
                    } else {
                        *self = next;
                    }
                }
                Requests::Body { left, patch } => {
                    let take = (*left).min((bytes.len() - pos) as u64);
                    if let Some(body) = patch {
                        if let Some(cut) = body.cut_at.filter(|at| body.forwarded + take >= *at) {
                            let k = cut - body.forwarded;
                            followed.patch_body_bytes += k;
                            followed.cut_body_bytes = cut;
                            followed.cut_body_length = body.length;
                            followed.cut_at = Some(pos + k as usize);
                            // The connection ends here; nothing more is followed on it.
                            *self = Requests::Unfollowed;
                            return followed;
                        }
                        body.forwarded += take;
                        followed.patch_body_bytes += take;
                    }
                    *left -= take;
                    pos += take as usize;
                    if *left == 0 {
                        *self = Requests::Head(Vec::new());
                    }
                }
            }
        }
        followed
    }

    /// The state after `head`.
    fn body(head: &Head, faults: &Faults) -> Requests {
        let Some(length) = head.length else {
            return Requests::Unfollowed;
        };
        let patch = (head.method == "PATCH").then(|| {
            faults.patches.fetch_add(1, Ordering::SeqCst);
            // A body of one byte cannot be cut in its middle: it takes no place in the schedule.
            let fraction = if length < 2 {
                None
            } else if let Some((_, f)) = faults
                .patch_cuts_from
                .lock()
                .unwrap()
                .filter(|(from, _)| head.upload_offset.is_some_and(|at| at >= *from))
            {
                Some(f)
            } else {
                faults.patch_cuts.lock().unwrap().pop_front().flatten()
            };
            PatchBody {
                length,
                forwarded: 0,
                cut_at: fraction.map(|f| ((length as f64 * f) as u64).clamp(1, length - 1)),
            }
        });
        if length == 0 {
            Requests::Head(Vec::new())
        } else {
            Requests::Body {
                left: length,
                patch,
            }
        }
    }

    fn stop_following(&mut self, faults: &Faults) {
        faults.unfollowed.fetch_add(1, Ordering::SeqCst);
        *self = Requests::Unfollowed;
    }
}

/// What the proxy reads of a request head.
struct Head {
    method: String,
    /// The body's length (0 without one; `None` when chunked).
    length: Option<u64>,
    /// A tus request's `Upload-Offset`.
    upload_offset: Option<u64>,
}

fn parse_head(head: &[u8]) -> Option<Head> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let method = lines.next()?.split(' ').next()?.to_owned();
    let mut parsed = Head {
        method,
        length: Some(0),
        upload_offset: None,
    };
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => parsed.length = Some(value.trim().parse().ok()?),
            "transfer-encoding" => chunked = true,
            "upload-offset" => parsed.upload_offset = value.trim().parse().ok(),
            _ => {}
        }
    }
    if chunked {
        parsed.length = None;
    }
    Some(parsed)
}
