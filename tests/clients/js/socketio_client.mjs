// Drives the official socket.io-client against tests/servers/socketio_testbed.rs, one scenario
// per run, and prints one JSON line with what it saw (plus the transport it ended on).
//
//   node socketio_client.mjs <scenario> <http://host:port> <polling|websocket|upgrade> [argument]
//
// With SIO_PARSER=msgpack every client uses socket.io-msgpack-parser (the testbed's --msgpack).
import { io } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";
import { runScenario } from "./scenario.mjs";

const PARSER = process.env.SIO_PARSER === "msgpack" ? { parser: msgpackParser } : {};

const [scenario, url, mode = "upgrade", argument] = process.argv.slice(2);

const TRANSPORTS = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};

/** Connects to `namespace` and resolves once connected (and upgraded, in upgrade mode). */
function connect(namespace = "/", options = {}) {
  const socket = io(url + namespace, {
    transports: TRANSPORTS[mode],
    reconnection: false,
    forceNew: true,
    ...PARSER,
    ...options,
  });
  const welcome = new Promise((resolve) => socket.once("welcome", resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("connect timed out")), 5000);
    socket.once("connect_error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once("connect", () => {
      const done = () => {
        clearTimeout(timer);
        resolve({ socket, welcome });
      };
      if (mode !== "upgrade" || socket.io.engine.transport.name === "websocket") return done();
      socket.io.engine.once("upgrade", done);
    });
  });
}

function next(socket, event, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** Collects every `event` for `ms` milliseconds. */
function collect(socket, event, ms) {
  const seen = [];
  const handler = (...args) => seen.push(args);
  socket.on(event, handler);
  return new Promise((resolve) =>
    setTimeout(() => {
      socket.off(event, handler);
      resolve(seen);
    }, ms),
  );
}

/** Emits with an ack and resolves with every argument of the ack. */
const ack = (socket, ...args) =>
  new Promise((resolve, reject) =>
    socket.timeout(3000).emit(...args, (error, ...reply) => (error ? reject(error) : resolve(reply))),
  );
const transport = (socket) => socket.io.engine.transport.name;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const bytes = (value) => (Buffer.isBuffer(value) ? [...value] : value);

const scenarios = {
  // Connect to "/" and "/chat" with auth; a refused connect shows its message and data.
  async connect() {
    const { socket, welcome } = await connect("/", { auth: { token: "good" } });
    const hello = await welcome;
    const chat = io(url + "/chat", { transports: TRANSPORTS[mode], reconnection: false, ...PARSER });
    const [system] = await next(chat, "system_message");
    let refused;
    try {
      await connect("/", { auth: { token: "bad" } });
    } catch (error) {
      refused = { message: error.message, data: error.data };
    }
    const result = {
      transport: transport(socket),
      welcomeIdMatches: hello.id === socket.id,
      idIsNotEngineSid: socket.id !== socket.io.engine.id,
      system,
      refused,
    };
    chat.disconnect();
    socket.disconnect();
    return result;
  },

  // Typed events and acks both ways, several arguments, a lone array, binary both ways.
  async events() {
    const { socket } = await connect();
    const echoed = next(socket, "echo");
    socket.emit("echo", 1, "two", { three: [3] }, null);
    const echo = await echoed;
    const acked = await ack(socket, "ack", "a", 2, [true]);
    const typed = await ack(socket, "typed", { x: 1, y: 2 });
    const array = await ack(socket, "array", [5, 6, 7]);
    const binaryEvent = next(socket, "binary");
    const binaryAck = await ack(socket, "binary", Buffer.from([9, 8, 7, 6]));
    const [blob, extra] = await binaryEvent;
    const binaryEcho = next(socket, "echo");
    socket.emit("echo", { nested: Buffer.from([1, 2]) }, Buffer.from([3]));
    const [nested, lone] = await binaryEcho;
    socket.emit("fail");
    const stillUp = await ack(socket, "ack", "after a failing handler");
    const result = {
      transport: transport(socket),
      echo,
      acked,
      typed,
      array,
      binaryAck,
      blob: { name: blob.name, data: bytes(blob.data) },
      extra: bytes(extra),
      binaryEcho: [{ nested: bytes(nested.nested) }, bytes(lone)],
      stillUp,
    };
    socket.disconnect();
    return result;
  },

  // Rooms: join, leave, room broadcast, except, and the sender left out of socket broadcasts.
  async rooms() {
    const clients = await Promise.all([connect(), connect(), connect()]);
    const [a, b, c] = clients.map(({ socket }) => socket);
    const joinedA = await ack(a, "join", "red");
    await ack(b, "join", "red");
    await ack(c, "join", "blue");
    await ack(b, "join", "muted");

    const watch = (ms) => Promise.all([a, b, c].map((s) => collect(s, "room_message", ms)));
    let seen = watch(300);
    await ack(a, "to_room", "red", "from a to red");
    const toRoom = (await seen).map((m) => m.length);

    seen = watch(300);
    await ack(a, "to_room_all", "red", "everyone in red");
    const toRoomAll = (await seen).map((m) => m.length);

    seen = watch(300);
    await ack(c, "to_room_except", "red", "muted", "red but not muted");
    const except = (await seen).map((m) => m.length);

    const broadcasts = Promise.all([a, b, c].map((s) => collect(s, "broadcast_message", 300)));
    await ack(a, "broadcast", "to all but a");
    const broadcast = (await broadcasts).map((m) => m.length);

    await ack(b, "leave", "red");
    seen = watch(300);
    await ack(c, "to_room_all", "red", "after b left");
    const afterLeave = (await seen).map((m) => m.length);

    const result = {
      transport: transport(a),
      joinedA: joinedA[0].sort(),
      ownRoom: joinedA[0].includes(a.id),
      toRoom,
      toRoomAll,
      except,
      broadcast,
      afterLeave,
    };
    [a, b, c].forEach((s) => s.disconnect());
    return result;
  },

  // The server awaits this client's ack from inside a handler of the same socket, answered and
  // timed out.
  async serverAck() {
    const { socket } = await connect();
    socket.once("question", (question, callback) => callback(`name for: ${question}`));
    const answered = await ack(socket, "ask_me", 2000);
    socket.once("question", () => {}); // never answers
    const timedOut = await ack(socket, "ask_me", 300);
    const result = { transport: transport(socket), answered, timedOut };
    socket.disconnect();
    return result;
  },

  // Joins room `argument`, answers server questions, and stays until the test ends it.
  async stay() {
    const { socket } = await connect("/", { auth: { room: argument } });
    let announcements = 0;
    socket.on("announcement", () => announcements++);
    socket.on("question", (_question, callback) => callback(socket.id));
    console.log(JSON.stringify({ ready: true, id: socket.id, transport: transport(socket) }));
    await new Promise((resolve) => process.stdin.once("data", resolve));
    return { announcements };
  },

  // `argument` sockets in room "crowd" over one client process; counts the announcement each gets.
  async crowd() {
    const count = Number(argument);
    const sockets = [];
    for (let i = 0; i < count; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, () => connect("/", { auth: { room: "crowd" } })),
      );
      sockets.push(...batch.map(({ socket }) => socket));
    }
    const counts = new Array(count).fill(0);
    sockets.forEach((s, i) => s.on("announcement", () => counts[i]++));
    console.log(JSON.stringify({ ready: true, sockets: sockets.length }));
    await new Promise((resolve) => process.stdin.once("data", resolve));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exactlyOnce = counts.filter((n) => n === 1).length;
    sockets.forEach((s) => s.disconnect());
    return { exactlyOnce, total: counts.reduce((a, b) => a + b, 0) };
  },

  // Disconnect from each side, with the reason each side sees.
  async disconnects() {
    const { socket: watcher } = await connect();
    const left = collect(watcher, "left", 800);
    const { socket: one } = await connect();
    const serverSide = next(one, "disconnect");
    one.emit("disconnect_me");
    const [serverReason] = await serverSide;
    const { socket: two } = await connect();
    const twoId = two.id;
    two.disconnect();
    const reasons = Object.fromEntries((await left).map(([id, reason]) => [id, reason]));
    const result = {
      transport: transport(watcher),
      serverReason,
      clientSideSeenByServer: reasons[twoId],
      serverSideSeenByServer: Object.values(reasons).includes("server namespace disconnect"),
    };
    watcher.disconnect();
    return result;
  },

  // A client that stops reading its WebSocket misses volatile events, broadcast or direct, while
  // another gets them; once it reads again, it gets the next ones.
  async volatile() {
    const { socket: reader } = await connect();
    const { socket: paused } = await connect();
    const news = { reader: [], paused: [] };
    reader.on("news", (n) => news.reader.push(n));
    paused.on("news", (n) => news.paused.push(n));
    let fillers = 0;
    paused.on("filler", () => fillers++);
    paused.io.engine.transport.ws._socket.pause();
    // The server fills its buffers, then sends `news` 1 to everyone and 2 to it, volatile.
    const first = next(reader, "news", 20000);
    const flooded = await reader.timeout(20000).emitWithAck("fill_buffers", paused.id);
    await first;
    paused.io.engine.transport.ws._socket.resume();
    for (let waited = 0; fillers < flooded.sent && waited < 10000; waited += 50) await sleep(50);
    // Once it has read everything, the next volatile event reaches it (sent until one does).
    for (let n = 3; news.paused.length === 0 && n < 100; n++) {
      await ack(reader, "volatile_news", n);
      await sleep(50);
    }
    const result = {
      transport: transport(paused),
      flooded: flooded.sent > 0 && !flooded.writable,
      fillers: fillers === flooded.sent,
      readerFirst: news.reader[0],
      pausedMissed: !news.paused.includes(1) && !news.paused.includes(2),
      pausedGotLater: news.paused.length > 0,
    };
    reader.close();
    paused.close();
    return result;
  },

  // A client that floods its mailbox is disconnected; its watcher sees why; the heartbeat and
  // other sockets go on.
  async flood() {
    const { socket: watcher } = await connect();
    const left = collect(watcher, "left", 3000);
    const { socket: flooder } = await connect();
    const flooderId = flooder.id;
    const disconnected = next(flooder, "disconnect", 5000);
    for (let i = 0; i < 100; i++) flooder.emit("slow");
    const [clientReason] = await disconnected;
    const reasons = Object.fromEntries((await left).map(([id, reason]) => [id, reason]));
    const watcherStillWorks = await ack(watcher, "ack", "still here");
    const result = {
      transport: transport(watcher),
      clientReason,
      serverReason: reasons[flooderId],
      watcherStillWorks,
    };
    watcher.disconnect();
    return result;
  },

  // A server emit_with_ack fails as soon as its socket disconnects, not at its timeout.
  async ackOnDisconnect() {
    const { socket: watcher } = await connect();
    const outcome = next(watcher, "ask_outcome", 4000);
    const { socket: asker } = await connect();
    const asked = new Promise((resolve) => asker.once("question", () => resolve())); // never answers
    asker.emit("ask_then_report");
    await asked;
    const started = Date.now();
    asker.disconnect();
    const [result] = await outcome;
    const elapsed = Date.now() - started;
    watcher.disconnect();
    return { transport: transport(watcher), outcome: result, beforeTimeout: elapsed < 4000 };
  },

  // Stays connected until the server shuts down, reporting the reason the client saw.
  async untilShutdown() {
    // Both connections settled on their final transport first: this is about shutdown, not
    // about an upgrade cut short.
    const { socket } = await connect();
    const { socket: chat } = await connect("/chat");
    const reasons = Promise.all([next(socket, "disconnect", 10000), next(chat, "disconnect", 10000)]);
    console.log(JSON.stringify({ ready: true }));
    const [[main], [chatReason]] = await reasons;
    return { main, chat: chatReason };
  },

  // A panicking handler disconnects only its own namespace socket.
  async panic() {
    // "/" and "/chat" multiplexed on one Engine.IO connection.
    const options = { transports: TRANSPORTS[mode], reconnection: false, ...PARSER };
    const main = io(url, options);
    await next(main, "welcome");
    const chat = io(url + "/chat", options);
    await next(chat, "system_message");
    const { socket: other } = await connect();
    const disconnected = next(main, "disconnect");
    main.emit("panic");
    const [reason] = await disconnected;
    const chatStillWorks = await chat.timeout(3000).emitWithAck("chat_message", { text: "still here" });
    const otherStillWorks = await ack(other, "ack", "other connection");
    const result = {
      transport: transport(other),
      sameConnection: chat.io === main.io,
      reason,
      chatStillWorks,
      otherStillWorks,
    };
    chat.disconnect();
    other.disconnect();
    return result;
  },
};

// The close packets of the scenario's sockets go out before the process ends.
await runScenario(scenarios, scenario, 500);
