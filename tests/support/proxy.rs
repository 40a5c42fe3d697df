//! A TCP proxy of the test's own, in front of server processes: it sends each new connection
//! to the server it currently points at, as a load balancer would, and can be pointed elsewhere
//! when a server goes away, or lose its clients' side of every connection while the servers'
//! side stays open and silent, as a network that drops a client without telling the server.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One proxied connection: both sides, and whether its server's side is to be left open.
struct Link {
    client: TcpStream,
    /// Kept open here while `abandoned`, so the server sees no close.
    _server: TcpStream,
    abandoned: Arc<AtomicBool>,
}

/// A proxy on a free loopback port; it stops with the test process.
pub struct Proxy {
    pub addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    links: Arc<Mutex<Vec<Link>>>,
}

impl Proxy {
    /// A proxy to `target`.
    pub fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let target = Arc::new(Mutex::new(target));
        let links = Arc::new(Mutex::new(Vec::new()));
        let (current, kept) = (Arc::clone(&target), Arc::clone(&links));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let to = *current.lock().unwrap_or_else(|poison| poison.into_inner());
                let kept = Arc::clone(&kept);
                std::thread::spawn(move || relay(client, to, &kept));
            }
        });
        Proxy {
            addr,
            target,
            links,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends the connections made from now on to `target`.
    pub fn point_to(&self, target: SocketAddr) {
        *self
            .target
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = target;
    }

    /// Closes the clients' side of every connection so far; the servers' side stays open and
    /// nothing more crosses it, so a server learns of the loss only by its ping timeout.
    pub fn abandon_clients(&self) {
        for link in self
            .links
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .iter()
        {
            link.abandoned.store(true, Ordering::SeqCst);
            let _ = link.client.shutdown(Shutdown::Both);
        }
    }
}

/// Copies both ways between `client` and a new connection to `server`; when either side ends,
/// both connections are closed, both halves, as a dead server's connections are (unless the
/// link was abandoned).
fn relay(client: TcpStream, server: SocketAddr, links: &Mutex<Vec<Link>>) {
    let Ok(upstream) = TcpStream::connect(server) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let clones = (
        client.try_clone(),
        upstream.try_clone(),
        client.try_clone(),
        upstream.try_clone(),
    );
    let (Ok(client_reader), Ok(upstream_reader), Ok(client_kept), Ok(upstream_kept)) = clones
    else {
        return;
    };
    let abandoned = Arc::new(AtomicBool::new(false));
    links
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .push(Link {
            client: client_kept,
            _server: upstream_kept,
            abandoned: Arc::clone(&abandoned),
        });
    let up = std::thread::spawn({
        let abandoned = Arc::clone(&abandoned);
        move || pump(client_reader, upstream, &abandoned)
    });
    pump(upstream_reader, client, &abandoned);
    let _ = up.join();
}

/// Copies `from` into `to` until `from` ends, then closes both, unless the link was abandoned.
fn pump(mut from: TcpStream, mut to: TcpStream, abandoned: &AtomicBool) {
    let mut buffer = [0_u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if abandoned.load(Ordering::SeqCst) || to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    if !abandoned.load(Ordering::SeqCst) {
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    }
}
