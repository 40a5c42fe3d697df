//! A TCP proxy of the test's own, in front of server processes: it sends each new connection
//! to the server it currently points at, as a load balancer would, and can be pointed elsewhere
//! when a server goes away.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A proxy on a free loopback port; it stops with the test process.
pub struct Proxy {
    pub addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
}

impl Proxy {
    /// A proxy to `target`.
    pub fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let target = Arc::new(Mutex::new(target));
        let current = Arc::clone(&target);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let to = *current.lock().unwrap_or_else(|poison| poison.into_inner());
                std::thread::spawn(move || relay(client, to));
            }
        });
        Proxy { addr, target }
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
}

/// Copies both ways between `client` and a new connection to `server`; when either side ends,
/// both connections are closed, both halves, as a dead server's connections are.
fn relay(client: TcpStream, server: SocketAddr) {
    let Ok(upstream) = TcpStream::connect(server) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (Ok(client_reader), Ok(upstream_reader)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let up = std::thread::spawn({
        let (client, upstream) = (client_reader, upstream);
        move || pump(client, upstream)
    });
    pump(upstream_reader, client);
    let _ = up.join();
}

/// Copies `from` into `to` until `from` ends, then closes both.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0_u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
