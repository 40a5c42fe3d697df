//! Where a consumer's `disconnect` runs: never inside the code that ended its socket (another
//! socket's handler, the server's shutdown, which waits for it), and to its end. And a consumer factory that panics costs only the CONNECT it was
//! called for.

mod support;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sio::socket::DisconnectReason;
use sio::{Ack, Server, Socket, consumer};
use support::{Ws, open_websocket};
use tokio::runtime::Runtime;
use tungstenite::Message;

/// What the consumers saw, in order, behind the lock their hooks share.
type Log = Arc<Mutex<Vec<String>>>;

/// Joins `room`; `kick` disconnects the room while holding the log's lock, and the
/// `disconnect` of each socket takes that lock.
struct Room {
    log: Log,
}

#[consumer(namespace = "/")]
impl Room {
    async fn connect(&mut self, socket: &Socket) {
        socket.join("room").await;
    }

    #[event("kick")]
    async fn kick(&mut self, socket: &Socket, ack: Ack<String>) -> sio::Result<()> {
        let mut log = self.log.lock().expect("log");
        // Another socket's `disconnect` must not run here: it would wait for this lock.
        socket
            .server()
            .to("room")
            .except(socket.id())
            .disconnect_sockets(false);
        log.push("kicked".to_owned());
        drop(log);
        ack.send("done".to_owned())
    }

    async fn disconnect(&mut self, socket: &Socket, _reason: DisconnectReason) {
        leave(&self.log, socket).await;
    }
}

/// The same, in a second namespace.
struct Other {
    log: Log,
}

#[consumer(namespace = "/other")]
impl Other {
    async fn disconnect(&mut self, socket: &Socket, _reason: DisconnectReason) {
        leave(&self.log, socket).await;
    }
}

/// What both namespaces' `disconnect` does: logs, awaits (so it finishes only on a task), logs
/// again.
async fn leave(log: &Log, socket: &Socket) {
    let namespace = socket.namespace().as_str().to_owned();
    log.lock().expect("log").push(format!("{namespace} left"));
    tokio::time::sleep(Duration::from_millis(10)).await;
    log.lock().expect("log").push(format!("{namespace} done"));
}

fn server(log: &Log) -> Server {
    let (room, other) = (Arc::clone(log), Arc::clone(log));
    Server::builder()
        .consumer_with(move || Room {
            log: Arc::clone(&room),
        })
        .consumer_with(move || Other {
            log: Arc::clone(&other),
        })
        .build()
}

/// A runtime that ends without waiting for its workers: one that a bug deadlocked must fail
/// its test, not hang it.
struct Background(Option<Runtime>);

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Serves `server` on a free port of a runtime of its own.
fn serve(server: &Server) -> (Background, SocketAddr) {
    let runtime = Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = server.clone();
    runtime.spawn(async move { server.serve(listener).await });
    (Background(Some(runtime)), addr)
}

/// A raw WebSocket client joined to `namespaces`.
fn join(addr: SocketAddr, namespaces: &[&str]) -> Ws {
    let mut socket = open_websocket(addr);
    for namespace in namespaces {
        let connect = if *namespace == "/" {
            "40".to_owned()
        } else {
            format!("40{namespace},")
        };
        socket.send(Message::text(connect.clone())).expect("send");
        let reply = text(&mut socket).expect("connect reply");
        assert!(
            reply.starts_with(&format!("{connect}{{\"sid\":")),
            "{reply}"
        );
    }
    socket
}

/// The next text frame, skipping pings; `None` once the connection ended.
fn text(socket: &mut Ws) -> Option<String> {
    loop {
        match socket.read() {
            Ok(Message::Text(text)) if text.as_str() == "2" => {}
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Waits up to 2 s for the log to hold `count` lines.
fn logged(log: &Log, count: usize) -> Vec<String> {
    let start = Instant::now();
    loop {
        let lines = log.lock().expect("log").clone();
        if lines.len() >= count || start.elapsed() > Duration::from_secs(2) {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_disconnect_runs_outside_the_handler_that_disconnected_its_socket() {
    let log = Log::default();
    let server = server(&log);
    let (runtime, addr) = serve(&server);
    let mut kicked = join(addr, &["/"]);
    let mut kicker = join(addr, &["/"]);

    kicker.send(Message::text(r#"421["kick"]"#)).expect("send");
    // Had the kicked socket's `disconnect` run inside `kick`, it would wait for the lock `kick`
    // holds, forever, and the ack would never come.
    assert_eq!(text(&mut kicker).as_deref(), Some(r#"431["done"]"#));
    assert_eq!(text(&mut kicked).as_deref(), Some("41"));
    assert_eq!(logged(&log, 3), ["kicked", "/ left", "/ done"]);
    drop(runtime);
}

#[test]
fn a_shutdown_returns_once_every_disconnect_ran_to_its_end() {
    let log = Log::default();
    let server = server(&log);
    let (runtime, addr) = serve(&server);
    let _client = join(addr, &["/", "/other"]);
    assert_eq!(server.stats().sockets, 2);

    // The hooks that await run on the server's runtime; the shutdown waits for them.
    let shutdown = server.shutdown(Duration::from_secs(5));
    let runtime_handle = runtime.0.as_ref().expect("runtime").handle().clone();
    let shut_down = runtime_handle
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), shutdown).await });
    assert!(shut_down.is_ok(), "the shutdown ends");
    let mut lines = log.lock().expect("log").clone();
    lines.sort();
    assert_eq!(lines, ["/ done", "/ left", "/other done", "/other left"]);
    drop(runtime);
}

#[test]
fn a_shutdown_whose_caller_gives_up_still_runs_to_its_end() {
    let log = Log::default();
    let server = server(&log);
    let (runtime, addr) = serve(&server);
    let _client = join(addr, &["/", "/other"]);
    let handle = runtime.0.as_ref().expect("runtime").handle().clone();
    let finished = handle.block_on(async {
        // The caller's future is dropped at once (a `select!` that went another way, say).
        let _ = tokio::time::timeout(Duration::ZERO, server.shutdown(Duration::from_secs(5))).await;
        tokio::time::timeout(Duration::from_secs(10), server.shutdown_finished()).await
    });
    assert!(finished.is_ok(), "the shutdown went on without its caller");
    let mut lines = log.lock().expect("log").clone();
    lines.sort();
    assert_eq!(lines, ["/ done", "/ left", "/other done", "/other left"]);
}

/// Polls `future` to its end on this thread, outside any runtime, as a plain executor would.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park_timeout(Duration::from_millis(100));
    }
}

#[test]
fn a_shutdown_from_outside_any_runtime_runs_on_the_servers() {
    let log = Log::default();
    let server = server(&log);
    let (_runtime, addr) = serve(&server);
    let _client = join(addr, &["/", "/other"]);
    // This thread is in no runtime: the shutdown's steps run on the one that serves.
    block_on(server.shutdown(Duration::from_secs(5)));
    let mut lines = log.lock().expect("log").clone();
    lines.sort();
    assert_eq!(lines, ["/ done", "/ left", "/other done", "/other left"]);
}

/// A namespace whose consumers cannot be made.
#[derive(Default)]
struct Broken;

#[consumer(namespace = "/broken")]
impl Broken {}

#[test]
fn a_factory_that_panics_costs_only_its_connect() {
    let log = Log::default();
    let server = Server::builder()
        .consumer_with(|| -> Broken { panic!("this factory panics on purpose") })
        .consumer_with({
            let log = Arc::clone(&log);
            move || Room {
                log: Arc::clone(&log),
            }
        })
        .build();
    let (runtime, addr) = serve(&server);
    let mut client = open_websocket(addr);
    client.send(Message::text("40/broken,")).expect("send");
    assert_eq!(
        text(&mut client).as_deref(),
        Some(r#"44/broken,{"message":"server error"}"#)
    );
    // The connection goes on: another namespace joins.
    client.send(Message::text("40")).expect("send");
    assert!(
        text(&mut client)
            .expect("connect reply")
            .starts_with("40{\"sid\":")
    );
    assert_eq!(server.stats().sockets, 1);
    drop(runtime);
}
