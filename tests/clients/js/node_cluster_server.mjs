// The Node twin of tests/servers/cluster_node.rs: socket.io with the official Redis adapter
// (default options), or with `--streams` the official Redis Streams adapter, answering the same
// events, so a cluster can mix it with sio processes. `--recovery-ms N` turns connection state
// recovery on with that maximum disconnection duration; `--msgpack` uses socket.io-msgpack-parser;
// `--admin` instruments it with @socket.io/admin-ui (no password, development mode, named NAME).
// On SIGTERM it closes as a server that
// is being replaced does (`io.close()`, which keeps its sockets' sessions), then exits.
//
//   node node_cluster_server.mjs --addr 127.0.0.1:0 --redis redis://127.0.0.1:PORT [--name NAME]
//     [--streams] [--recovery-ms N] [--msgpack] [--admin]
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";
import msgpackParser from "socket.io-msgpack-parser";

const args = process.argv.slice(2);
const value = (flag) => args[args.indexOf(flag) + 1];
const [host, port] = value("--addr").split(":");
const name = args.includes("--name") ? value("--name") : "node";

const pubClient = createClient({ url: value("--redis") });
const subClient = pubClient.duplicate();
pubClient.on("error", () => {});
subClient.on("error", () => {});
await Promise.all([pubClient.connect(), subClient.connect()]);

const options = {
  adapter: args.includes("--streams") ? createStreamsAdapter(pubClient) : createAdapter(pubClient, subClient),
};
if (args.includes("--msgpack")) {
  options.parser = msgpackParser;
}
if (args.includes("--recovery-ms")) {
  options.connectionStateRecovery = { maxDisconnectionDuration: Number(value("--recovery-ms")) };
}
const httpServer = createServer();
const io = new Server(httpServer, options);
if (args.includes("--admin")) {
  const { instrument } = await import("@socket.io/admin-ui");
  instrument(io, { auth: false, mode: "development", serverId: name });
}

process.on("SIGTERM", async () => {
  await io.close();
  // The sessions `io.close()` saved are written before the process goes.
  await pubClient.quit();
  process.exit(0);
});

// Server-side events from the other processes: `whoami` answers "<prefix><name>", `note` is
// kept as "<text>:<bytes>".
const heard = [];
io.on("whoami", (prefix, answer) => answer(prefix + name));
io.on("note", (text, bytes) => heard.push(bytes ? `${text}:${[...bytes].join(",")}` : text));

// `/` and `/chat` answer the same events, each within its own namespace.
for (const nsp of [io.of("/"), io.of("/chat")]) nsp.on("connection", (socket) => {
  for (const room of socket.handshake.auth?.rooms ?? []) socket.join(room);
  socket.data = { server: name };
  socket.emit("welcome", { id: socket.id, server: name });

  const operator = ({ to = [], except = [], exceptSelf = false }) => {
    let op = exceptSelf ? socket.broadcast : nsp;
    for (const room of to) op = op.to(room);
    for (const room of except) op = op.except(room);
    return op;
  };
  const byJson = (a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

  socket.on("broadcast", (s, ack) => {
    const data = s.binary ? { kind: "binary", from: s.data.from, bytes: Buffer.from([1, 2, 3]) } : s.data;
    operator(s).emit(s.event, data);
    ack("ok");
  });
  socket.on("fetch", async (s, ack) => {
    const sockets = await operator(s).fetchSockets();
    ack(sockets.map((r) => ({ id: r.id, rooms: [...r.rooms], data: r.data })).sort((a, b) => byJson(a.id, b.id)));
  });
  // The streams adapter has no `allRooms`: the sockets of every process name their rooms.
  socket.on("rooms", async (_s, ack) => {
    if (nsp.adapter.allRooms) return ack([...(await nsp.adapter.allRooms())]);
    ack([...new Set((await nsp.fetchSockets()).flatMap((s) => [...s.rooms]))]);
  });
  socket.on("join", (s, ack) => {
    operator(s).socketsJoin(s.room);
    ack("ok");
  });
  socket.on("leave", (s, ack) => {
    operator(s).socketsLeave(s.room);
    ack("ok");
  });
  socket.on("disconnect_sockets", (s, ack) => {
    operator(s).disconnectSockets();
    ack("ok");
  });
  socket.on("server_ask", (s, ack) => {
    // The adapter waits for its requestsTimeout (5 s), not a timeout of the call's.
    io.serverSideEmit("whoami", "I am ", (error, answers) => ack({ answers: answers.sort(), complete: !error }));
  });
  socket.on("server_tell", (_s, ack) => {
    io.serverSideEmit("note", `from ${name}`);
    ack("ok");
  });
  socket.on("server_heard", (_s, ack) => ack([...heard].sort()));
  socket.on("ask", async (s, ack) => {
    try {
      const names = await operator(s).timeout(s.timeout).emitWithAck("question", "who are you?");
      ack(names.sort(byJson));
    } catch (error) {
      ack({ error: String(error) });
    }
  });
});

httpServer.listen(Number(port), host, () => {
  const address = httpServer.address();
  console.log(`listening on ${address.address}:${address.port}`);
});
