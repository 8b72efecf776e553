//! A TCP proxy that can be cut: a network partition between one client and the API
//! server. While cut, open connections are dropped and new ones are accepted but
//! never forwarded (packets vanish, as in a real partition, rather than being
//! refused). Runs on 127.0.0.1 until dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct TcpProxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Forwards 127.0.0.1:<port> to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let cut = Arc::new(AtomicBool::new(false));
        let (generation, _) = watch::channel(0u64);
        let (upstream, flag, cuts) = (upstream.to_string(), cut.clone(), generation.subscribe());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, flag, mut cuts) = (upstream.clone(), flag.clone(), cuts.clone());
                // Only cuts after this connection arrived concern it.
                cuts.borrow_and_update();
                tokio::spawn(async move {
                    if flag.load(Ordering::SeqCst) {
                        // Black hole: hold the connection open and say nothing.
                        let _ = cuts.changed().await;
                        return;
                    }
                    let Ok(server) = TcpStream::connect(&upstream).await else { return };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self { port, cut, generation, task }
    }

    /// Drops every open connection and black-holes new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Forwards again (connections held in the black hole are dropped).
    pub fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
