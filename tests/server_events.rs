//! Server-side events between two servers of this process, joined by a channel layer that
//! hands each one's events to the other's `LocalSockets` (the Redis layer does the same across
//! processes; `tests/redis_cluster.rs` runs it against Node's adapter): typed handlers from
//! `#[server_events]`, their order, their answers, and what goes nowhere.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};
use sio::broadcast::{ChannelLayer, LocalSockets, ServerAckEvent, ServerSideEmit};
use sio::socket::{ServerAcks, ServerEvents};
use sio::{Ack, Args, EmitError, Server, ServerEvent, consumer, server_events};
use tokio::sync::Notify;

/// One side of a pair of servers: what it sends reaches the other side's handlers.
#[derive(Clone, Default)]
struct Pair {
    this: Arc<OnceLock<LocalSockets>>,
    other: Arc<OnceLock<LocalSockets>>,
}

impl Pair {
    fn new() -> (Pair, Pair) {
        let (a, b) = (Arc::new(OnceLock::new()), Arc::new(OnceLock::new()));
        (
            Pair {
                this: Arc::clone(&a),
                other: Arc::clone(&b),
            },
            Pair { this: b, other: a },
        )
    }

    fn event(event: &ServerSideEmit) -> ServerEvent {
        ServerEvent::new(
            event.name.clone(),
            event.args.clone(),
            event.attachments.clone(),
        )
    }
}

impl ChannelLayer for Pair {
    fn start(&self, local: &LocalSockets) {
        let _ = self.this.set(local.clone());
    }

    fn server_side_emit(&self, event: &ServerSideEmit, _local: &LocalSockets) {
        if let Some(other) = self.other.get() {
            other.server_side_event(&event.namespace, Pair::event(event));
        }
    }

    fn server_side_emit_with_ack(
        &self,
        event: &ServerSideEmit,
        timeout: Duration,
        _local: &LocalSockets,
    ) -> BoxStream<'static, ServerAckEvent> {
        let Some(other) = self.other.get() else {
            return futures_util::stream::iter([ServerAckEvent::Asked(0)]).boxed();
        };
        let (answer, answered) = tokio::sync::oneshot::channel();
        let namespace = event.namespace.clone();
        let event = Pair::event(event).with_reply(move |reply| drop(answer.send(reply)));
        other.server_side_event(&namespace, event);
        // As from another process: an answer dropped unsent never comes, and the wait ends
        // at the timeout.
        let answer = async move {
            let reply = async {
                match answered.await {
                    Ok(reply) => reply,
                    Err(_) => std::future::pending().await,
                }
            };
            let reply = tokio::time::timeout(timeout, reply).await.ok()?;
            Some(ServerAckEvent::Answered(reply))
        };
        futures_util::stream::iter([ServerAckEvent::Asked(1)])
            .chain(futures_util::stream::once(answer).filter_map(std::future::ready))
            .boxed()
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Ban {
    id: u64,
}

/// What the receiving side's handler saw, in order.
type Seen = Arc<Mutex<Vec<String>>>;

struct Cluster {
    seen: Seen,
    count: usize,
}

#[server_events]
impl Cluster {
    #[event("ban")]
    async fn ban(&mut self, _server: &Server, ban: Ban, proof: Option<Bytes>) {
        self.count += 1;
        let proof = proof.map(|bytes| bytes.to_vec()).unwrap_or_default();
        self.record(format!("ban {} {proof:?}", ban.id));
    }

    #[event("count")]
    async fn count(&self, _server: &Server, ack: Ack<usize>) -> sio::Result<()> {
        ack.send(self.count)
    }

    #[event("slow")]
    async fn slow(&mut self, _server: &Server, millis: u64) {
        tokio::time::sleep(Duration::from_millis(millis)).await;
        self.record(format!("slow {millis}"));
    }

    #[event("panic")]
    async fn panic(&mut self, _server: &Server) {
        panic!("a handler that panics");
    }

    #[event("silent")]
    async fn silent(&self, _server: &Server, ack: Ack<usize>) {
        drop(ack);
    }

    #[fallback]
    async fn other(&mut self, _server: &Server, event: ServerEvent) {
        self.record(format!("other {}", event.name()));
    }
}

impl Cluster {
    fn record(&self, line: String) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(line);
    }
}

/// Two servers: the first sends, the second has `handler`.
fn pair_with(handler: impl ServerEvents) -> (Server, Server) {
    let (a, b) = Pair::new();
    let sender = Server::builder().channel_layer(a).build();
    let receiver = Server::builder()
        .server_events(handler)
        .channel_layer(b)
        .build();
    (sender, receiver)
}

/// Two servers, the second with a `Cluster` handler, and what it sees.
fn pair() -> (Server, Server, Seen) {
    let seen = Seen::default();
    let (sender, receiver) = pair_with(Cluster {
        seen: Arc::clone(&seen),
        count: 0,
    });
    (sender, receiver, seen)
}

async fn count(sender: &Server) -> ServerAcks {
    sender
        .server_side_emit_with_ack("count", Args(()), Duration::from_secs(5))
        .await
        .expect("sent")
}

#[tokio::test]
async fn typed_handlers_take_events_in_order_and_answer() {
    let (sender, _receiver, seen) = pair();
    // A slow event first: the ones after it wait for it.
    sender.server_side_emit("slow", 50).expect("sent");
    for id in 0..20 {
        sender.server_side_emit("ban", Ban { id }).expect("sent");
    }
    sender
        .server_side_emit("ban", Args((Ban { id: 99 }, Bytes::from_static(&[1, 2]))))
        .expect("sent");
    sender.server_side_emit("unheard_of", "x").expect("sent");
    let acks = count(&sender).await;
    assert_eq!(acks.decode::<usize>().expect("a count"), [21]);
    assert_eq!(acks.asked(), 1);
    assert!(acks.is_complete());
    let mut expected = vec!["slow 50".to_owned()];
    expected.extend((0..20).map(|id| format!("ban {id} []")));
    expected.push("ban 99 [1, 2]".to_owned());
    expected.push("other unheard_of".to_owned());
    assert_eq!(*seen.lock().unwrap(), expected);
}

#[tokio::test]
async fn a_handler_that_fails_or_panics_does_not_stop_the_next() {
    let (sender, _receiver, seen) = pair();
    // An argument that does not decode ends its handler; a panic is caught.
    sender.server_side_emit("ban", "not a ban").expect("sent");
    sender.server_side_emit("panic", Args(())).expect("sent");
    sender.server_side_emit("ban", Ban { id: 1 }).expect("sent");
    assert_eq!(
        count(&sender).await.decode::<usize>().expect("a count"),
        [1]
    );
    assert_eq!(*seen.lock().unwrap(), ["ban 1 []"]);
}

#[tokio::test]
async fn an_event_left_unanswered_ends_at_the_timeout_incomplete() {
    let (sender, _receiver, _seen) = pair();
    let started = tokio::time::Instant::now();
    let acks = sender
        .server_side_emit_with_ack("silent", Args(()), Duration::from_millis(300))
        .await
        .expect("sent");
    let waited = started.elapsed();
    assert!(acks.answers().is_empty());
    assert_eq!(acks.asked(), 1);
    assert!(!acks.is_complete());
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "waited {waited:?}"
    );
}

#[tokio::test]
async fn one_process_alone_asks_nobody() {
    let server = Server::builder()
        .server_events(Cluster {
            seen: Seen::default(),
            count: 0,
        })
        .build();
    let acks = server
        .server_side_emit_with_ack("count", Args(()), Duration::from_secs(5))
        .await
        .expect("sent");
    // Its own handler is not asked, as in Node.
    assert_eq!((acks.asked(), acks.answers().len()), (0, 0));
    assert!(acks.is_complete());
    server.server_side_emit("ban", Ban { id: 1 }).expect("sent");
}

#[tokio::test]
async fn local_rooms_patterns_and_node_reserved_names_send_nothing_but_socket_reserved_ones_go() {
    let (sender, _receiver, seen) = pair();
    let acks = sender
        .of("/")
        .local()
        .server_side_emit_with_ack("count", Args(()), Duration::from_secs(5))
        .await
        .expect("sent");
    assert_eq!(acks.asked(), 0);
    sender
        .of("/")
        .local()
        .server_side_emit("ban", Ban { id: 5 })
        .expect("sent");
    assert_eq!(
        sender.to("lobby").server_side_emit("ban", Ban { id: 6 }),
        Err(EmitError::NotForProcesses)
    );
    // The names a namespace keeps for itself in Node (whose listeners of them expect a
    // socket); a socket's reserved names are free between processes.
    for reserved in ["connect", "connection", "new_namespace"] {
        assert_eq!(
            sender.server_side_emit(reserved, Args(())),
            Err(EmitError::ReservedName(reserved.to_owned()))
        );
    }
    sender
        .server_side_emit("disconnect", Args(()))
        .expect("sent");
    assert_eq!(
        sender.of("/workspace/{id}").server_side_emit("ban", 1),
        Err(EmitError::NotForProcesses)
    );
    assert_eq!(
        count(&sender).await.decode::<usize>().expect("a count"),
        [0]
    );
    assert_eq!(*seen.lock().unwrap(), ["other disconnect"]);
}

#[test]
#[should_panic(expected = "has two server-event handlers")]
fn a_namespace_takes_one_handler() {
    let cluster = || Cluster {
        seen: Seen::default(),
        count: 0,
    };
    let _ = Server::builder()
        .server_events(cluster())
        .server_events(cluster());
}

#[tokio::test]
async fn an_event_from_a_thread_outside_any_runtime_reaches_the_handler() {
    let (sender, _receiver, seen) = pair();
    // The handler's task starts on the runtime the server was built in.
    let thread_sender = sender.clone();
    std::thread::spawn(move || thread_sender.server_side_emit("ban", Ban { id: 3 }))
        .join()
        .expect("the thread")
        .expect("sent");
    assert_eq!(
        count(&sender).await.decode::<usize>().expect("a count"),
        [1]
    );
    assert_eq!(*seen.lock().unwrap(), ["ban 3 []"]);
}

/// A handler that waits for the test before it goes on.
struct Gated {
    started: Arc<Notify>,
    open: Arc<Notify>,
    bans: usize,
    _alive: Arc<()>,
}

impl Gated {
    fn new(alive: &Arc<()>) -> (Gated, Arc<Notify>, Arc<Notify>) {
        let (started, open) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let gated = Gated {
            started: Arc::clone(&started),
            open: Arc::clone(&open),
            bans: 0,
            _alive: Arc::clone(alive),
        };
        (gated, started, open)
    }
}

#[server_events]
impl Gated {
    #[event("wait")]
    async fn wait(&mut self, _server: &Server) {
        self.started.notify_one();
        self.open.notified().await;
    }

    #[event("ban")]
    async fn ban(&mut self, _server: &Server, _id: u64) {
        self.bans += 1;
    }

    #[event("count")]
    async fn count(&self, _server: &Server, ack: Ack<usize>) -> sio::Result<()> {
        ack.send(self.bans)
    }
}

#[tokio::test]
async fn a_handler_that_falls_behind_drops_what_its_mailbox_cannot_hold() {
    let alive = Arc::new(());
    let (gated, started, open) = Gated::new(&alive);
    let (sender, _receiver) = pair_with(gated);
    sender.server_side_emit("wait", Args(())).expect("sent");
    started.notified().await;
    for id in 0..1100 {
        sender.server_side_emit("ban", id).expect("sent");
    }
    open.notify_one();
    // Asked until the mailbox has room for the question; it comes after every ban it took.
    let mut answered = Vec::new();
    for _ in 0..50 {
        let acks = sender
            .server_side_emit_with_ack("count", Args(()), Duration::from_millis(200))
            .await
            .expect("sent");
        answered = acks.decode::<usize>().expect("a count");
        if !answered.is_empty() {
            break;
        }
    }
    assert_eq!(answered, [1024]);
}

#[tokio::test]
async fn dropping_the_server_ends_the_handler_task_and_frees_the_handler() {
    let alive = Arc::new(());
    let (gated, _started, _open) = Gated::new(&alive);
    let (sender, receiver) = pair_with(gated);
    assert_eq!(
        count(&sender).await.decode::<usize>().expect("a count"),
        [0]
    );
    assert_eq!(Arc::strong_count(&alive), 2, "the handler is alive");
    drop(receiver);
    drop(sender);
    for _ in 0..100 {
        if Arc::strong_count(&alive) == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the handler outlived its server");
}

/// A layer that never says how many processes it asked.
struct Mute;

impl ChannelLayer for Mute {
    fn server_side_emit_with_ack(
        &self,
        _event: &ServerSideEmit,
        _timeout: Duration,
        _local: &LocalSockets,
    ) -> BoxStream<'static, ServerAckEvent> {
        futures_util::stream::pending().boxed()
    }
}

#[tokio::test]
async fn answers_are_incomplete_when_the_layer_never_says_whom_it_asked() {
    let server = Server::builder().channel_layer(Mute).build();
    let acks = server
        .server_side_emit_with_ack("count", Args(()), Duration::from_millis(100))
        .await
        .expect("sent");
    assert_eq!(acks.asked(), 0);
    assert!(!acks.is_complete());
}

#[derive(Default)]
struct Workspace;

#[consumer(namespace = "/workspace/{id}")]
impl Workspace {}

#[test]
#[should_panic(expected = "is also made from consumer pattern `/workspace/{id}`")]
fn a_server_event_namespace_a_pattern_makes_is_refused() {
    struct One;
    impl ServerEvents for One {
        const NAMESPACE: &'static str = "/workspace/1";
        async fn on_event(&mut self, _: &Server, _: ServerEvent) -> sio::Result<()> {
            Ok(())
        }
    }
    let _ = Server::builder()
        .consumer::<Workspace>()
        .server_events(One)
        .build();
}
