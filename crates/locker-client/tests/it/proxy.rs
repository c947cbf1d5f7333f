//! A loopback TCP proxy in front of the locker that counts bytes and injects faults: it cuts a
//! connection after so many bytes, stalls (holds bytes back), or refuses connections.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
        if to.write_all(&buf[..send]).is_err() {
            let _ = from.shutdown(Shutdown::Both);
            return;
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
