//! A locker serving on a free loopback port, from a runtime of its own: what the desktop side's
//! tests and benchmarks run against. Its clients block (the locker client runs its own runtime),
//! so the server must not share their thread.

use std::net::SocketAddr;
use std::path::Path;

use rusqlite::Connection;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{AppState, serve};

/// A running locker; it stops when dropped.
pub struct Loopback {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its address as a URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// Its state, for its metrics.
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Loopback {
    /// Serves the locker whose database is `conn` (accounts added already) and whose data
    /// folder is `data`, with `config`, on a free port of 127.0.0.1.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the runtime cannot start or no port can be bound, and whatever
    /// [`AppState::new`] refuses.
    pub fn start(conn: Connection, config: Config, data: &Path) -> Result<Self> {
        let io = |source| Error::Io {
            context: "starting a loopback locker".to_owned(),
            source,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(io)?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .map_err(io)?;
        let addr = listener.local_addr().map_err(io)?;
        let state = AppState::new(conn, config, data)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(serve(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            url: format!("http://{addr}"),
            state,
            stop: Some(stop),
            runtime: Some(runtime),
        })
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }
}
