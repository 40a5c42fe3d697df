//! Every shape `#[server_events]` accepts compiles and registers.
use serde::{Deserialize, Serialize};
use sio::{Ack, Args, Server, ServerEvent, server_events};

#[derive(Deserialize)]
struct Ban {
    id: u64,
}

#[derive(Serialize)]
struct Count {
    users: usize,
}

#[derive(Default)]
struct Cluster {
    banned: Vec<u64>,
}

#[server_events]
impl Cluster {
    #[event("ban")]
    async fn ban(&mut self, _server: &Server, ban: Ban, reason: Option<String>) {
        let _ = reason;
        self.banned.push(ban.id);
    }

    #[event]
    async fn count(&self, _server: &Server, ack: Ack<Count>) -> sio::Result<()> {
        ack.send(Count { users: self.banned.len() })
    }

    #[event("pair")]
    async fn pair(&self, server: &Server, ack: Ack<Args<(u8, u8)>>) -> sio::Result<()> {
        server.emit("paired", "now")?;
        ack.send(Args((1, 2)))
    }

    #[fallback]
    async fn other(&mut self, _server: &Server, event: ServerEvent) -> Result<(), std::io::Error> {
        let _ = event.name();
        Ok(())
    }

    // A plain method: `connect` means nothing here.
    fn connect(&self) -> usize {
        self.banned.len()
    }
}

#[derive(Default)]
struct Chat;

#[server_events(namespace = "/chat")]
impl Chat {
    #[event("hello")]
    async fn hello(&self, _server: &Server) {}
}

fn main() {
    let server = Server::builder()
        .server_events(Cluster::default())
        .server_events(Chat)
        .build();
    drop(server);
}
