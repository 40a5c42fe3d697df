// Speaks the Admin UI's protocol (@socket.io/admin-ui 0.5) with the official socket.io-client to
// the chat example started with `--admin admin:changeit`, beside two chat clients, and prints one
// JSON line with what the admin side saw.
//
//   node admin_client.mjs <dev|production> <http://host:port>
import { io } from "socket.io-client";
import { next, runScenario } from "./scenario.mjs";

const [scenario, url] = process.argv.slice(2);
const options = { transports: ["websocket"], reconnection: false, forceNew: true };

/** An admin connection with `auth`; resolves with it and what it was sent before it settled. */
function admin(auth) {
  const socket = io(url + "/admin", { ...options, auth });
  const seen = { session: null, config: null, allSockets: null, events: [] };
  socket.on("session", (id) => (seen.session = id));
  socket.on("config", (config) => (seen.config = config));
  socket.on("all_sockets", (sockets) => (seen.allSockets = sockets));
  for (const event of ["socket_connected", "socket_disconnected", "room_joined", "room_left", "event_received", "event_sent", "socket_updated"]) {
    socket.on(event, (...args) => seen.events.push([event, ...args]));
  }
  socket.on("server_stats", (stats) => (seen.stats = stats));
  return new Promise((resolve) => {
    socket.once("connect", () => resolve({ socket, seen }));
    socket.once("connect_error", (error) => resolve({ socket, seen, refused: error.message }));
  });
}

async function chatter() {
  const socket = io(url + "/chat", options);
  await next(socket, "system_message");
  return socket;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition, what) {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 5000) throw new Error(`no ${what}`);
    await sleep(20);
  }
}

const scenarios = {
  async dev() {
    const wrong = await admin({ username: "admin", password: "wrong" });
    const { socket, seen } = await admin({ username: "admin", password: "changeit" });
    await until(() => seen.config && seen.allSockets, "config");
    const alice = await chatter();
    const bob = await chatter();
    const ids = [alice.id, bob.id];
    const connected = () => seen.events.filter(([e, entry]) => e === "socket_connected" && entry.nsp === "/chat");
    await until(() => connected().length === 2, "socket_connected");
    await until(() => seen.stats?.namespaces?.some((n) => n.name === "/chat" && n.socketsCount === 2), "server_stats");
    const statsWithBoth = seen.stats;
    alice.emit("chat_message", { text: "hi admin" });
    await until(() => seen.events.some(([e]) => e === "event_received"), "event_received");
    // The broadcast of it to the lobby: an event sent to each of them.
    const sent = () => seen.events.filter(([e, , , args]) => e === "event_sent" && args[0] === "chat_message");
    await until(() => sent().length === 2, "event_sent");
    // emit(nsp, filter, event, ...args): to the lobby.
    const fromAdmin = next(alice, "system_message");
    socket.emit("emit", "/chat", "lobby", "system_message", { text: "from the admin" });
    const [emitted] = await fromAdmin;
    // Data set once connected: the UI is told, as Node's instrument does.
    await alice.timeout(5000).emitWithAck("set_name", { name: "alice" });
    const updated = () => seen.events.find(([e, change]) => e === "socket_updated" && change.data);
    await until(updated, "socket_updated with data");
    socket.emit("join", "/chat", "vip", alice.id);
    await until(() => seen.events.some(([e, , room]) => e === "room_joined" && room === "vip"), "room_joined");
    const bobLeft = next(bob, "disconnect");
    // A client forgets its id once disconnected.
    const bobId = bob.id;
    socket.emit("_disconnect", "/chat", false, bobId);
    const [bobReason] = await bobLeft;
    await until(() => seen.events.some(([e]) => e === "socket_disconnected"), "socket_disconnected");
    // The session the login opened lets the UI back in without the password.
    const again = await admin({ sessionId: seen.session });
    // A `session` would follow the connection at once: none comes.
    await sleep(300);
    const entry = connected().find(([, entry]) => entry.id === alice.id)[1];
    const event = seen.events.find(([e]) => e === "event_received");
    const disconnected = seen.events.find(([e]) => e === "socket_disconnected");
    const joined = seen.events.find(([e, , room]) => e === "room_joined" && room === "vip");
    const result = {
      refused: wrong.refused,
      session: typeof seen.session === "string" && seen.session.length === 16,
      features: seen.config.supportedFeatures,
      allSocketsIsAList: Array.isArray(seen.allSockets),
      entry: {
        nsp: entry.nsp,
        rooms: entry.rooms.includes("lobby") && entry.rooms.includes(alice.id),
        clientId: entry.clientId === alice.io.engine.id.substring(0, 12),
        transport: entry.transport,
        handshake: typeof entry.handshake.headers === "object" && typeof entry.handshake.address === "string",
        data: entry.data,
      },
      event: [event[1], event[2] === alice.id, event[3]],
      sentTo: sent().map(([, nsp, id, args]) => [nsp, ids.includes(id), args[1]]),
      emitted,
      joined: [joined[1], joined[3] === alice.id],
      updated: [updated()[1].nsp, updated()[1].id === alice.id, updated()[1].data],
      bobReason,
      disconnected: [disconnected[1], disconnected[2] === bobId, disconnected[3]],
      stats: {
        serverId: typeof seen.stats.serverId === "string",
        // The admin connection and both chat clients, at least.
        clientsCount: statsWithBoth.clientsCount >= 3,
        aggregated: Array.isArray(seen.stats.aggregatedEvents),
      },
      backWithSession: !again.refused && again.seen.session === null,
    };
    for (const client of [socket, again.socket, alice]) client.close();
    return result;
  },

  async production() {
    const { socket, seen } = await admin({ username: "admin", password: "changeit" });
    await until(() => seen.config, "config");
    const bob = await chatter();
    let bobLeft = false;
    bob.on("disconnect", () => (bobLeft = true));
    // Not an action here: nothing happens.
    socket.emit("_disconnect", "/chat", false, bob.id);
    await until(() => seen.stats?.namespaces?.some((n) => n.name === "/chat" && n.socketsCount === 1), "server_stats");
    await sleep(300);
    const result = {
      features: seen.config.supportedFeatures,
      allSockets: seen.allSockets,
      notifications: seen.events.length,
      bobStillThere: !bobLeft && bob.connected,
    };
    socket.close();
    bob.close();
    return result;
  },
};

await runScenario(scenarios, scenario);
