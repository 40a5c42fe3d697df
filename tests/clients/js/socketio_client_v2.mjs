// Drives socket.io-client 2.5 (Socket.IO v2 over Engine.IO v3, installed as
// `socket.io-client-v2`) against tests/servers/socketio_testbed.rs started with `--eio3`, beside
// a socket.io-client 4.8 in the same room, and prints one JSON line with what they saw.
//
//   node socketio_client_v2.mjs <scenario> <http://host:port> <polling|websocket|upgrade>
import { createRequire } from "node:module";
import { io } from "socket.io-client";
import { runScenario, TRANSPORTS } from "./scenario.mjs";

const require = createRequire(import.meta.url);
const ioV2 = require("socket.io-client-v2");

const [scenario, url, mode = "upgrade"] = process.argv.slice(2);

/** A v2 socket on `namespace`, once connected (and upgraded, in upgrade mode). */
function connectV2(namespace = "/", options = {}) {
  const socket = ioV2(url + namespace, {
    transports: TRANSPORTS[mode],
    reconnection: false,
    forceNew: true,
    ...options,
  });
  // What `connect` on the server emits arrives with the connection: kept from the start.
  socket.welcomes = [];
  socket.on("welcome", (welcome) => socket.welcomes.push(welcome));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("v2 connect timed out")), 5000);
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`v2 error: ${JSON.stringify(error)}`));
    });
    socket.once("connect", () => {
      const done = () => {
        clearTimeout(timer);
        resolve({ socket });
      };
      if (mode !== "upgrade" || socket.io.engine.transport.name === "websocket") return done();
      socket.io.engine.once("upgrade", done);
    });
  });
}

/** A v4 socket on `/`, over WebSocket. */
function connectV4() {
  const socket = io(url, { transports: ["websocket"], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once("connect_error", reject);
    socket.once("connect", () => resolve(socket));
  });
}

/** Emits `event` with `args` and resolves with the ack's arguments. */
function call(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${event} ack timed out`)), 5000);
    socket.emit(event, ...args, (...reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

function nextEvent(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event}`)), 5000);
    socket.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

const bytes = (data) => [...Buffer.from(data)];

const scenarios = {
  async mixed() {
    const { socket: v2 } = await connectV2("/");
    const v4 = await connectV4();
    const result = {
      transport: v2.io.engine.transport.name,
      idIsTheEngines: v2.id === v2.io.engine.id,
      welcomedWithItsId: v2.welcomes.map((welcome) => welcome.id === v2.id),
    };
    result.ack = await call(v2, "ack", "hi", 1);
    result.typed = await call(v2, "typed", { x: 1, y: 2 });
    const binaryEvent = nextEvent(v2, "binary");
    result.binaryAck = await call(v2, "binary", Buffer.from([9, 9, 9]));
    const [blob, extra] = await binaryEvent;
    result.binaryEvent = { name: blob.name, data: bytes(blob.data), extra: bytes(extra) };

    await call(v2, "join", "mixed");
    await call(v4, "join", "mixed");
    const text = [nextEvent(v2, "room_message"), nextEvent(v4, "room_message")];
    await call(v4, "to_room_all", "mixed", { from: "v4" });
    result.roomMessage = (await Promise.all(text)).map(([message]) => message);
    const binary = [nextEvent(v2, "room_binary"), nextEvent(v4, "room_binary")];
    await call(v2, "to_room_binary", "mixed", Buffer.from([7, 8]));
    result.roomBinary = (await Promise.all(binary)).map(([label, data]) => [label, bytes(data)]);

    // A namespace's CONNECT query is its auth; a refusal reaches a v2 client as `error`.
    const whoami = ioV2(url + "/whoami", {
      transports: TRANSPORTS[mode],
      reconnection: false,
      forceNew: true,
      query: { token: "abc" },
    });
    const [told] = await nextEvent(whoami, "whoami");
    result.whoami = { auth: told.auth, idIsTheSockets: told.id === whoami.id, id: told.id.split("#")[0] };
    const refused = ioV2(url + "/whoami", {
      transports: TRANSPORTS[mode],
      reconnection: false,
      forceNew: true,
      query: { token: "bad" },
    });
    [result.refused] = await nextEvent(refused, "error");
    for (const socket of [v2, v4, whoami, refused]) socket.close();
    return result;
  },

  // The chat example with `--eio3`, which serves no `/`: a v2 and a v4 client in its lobby.
  async chat() {
    const v2 = ioV2(url + "/chat", { transports: TRANSPORTS[mode], reconnection: false, forceNew: true });
    const v4 = io(url + "/chat", { transports: ["websocket"], reconnection: false, forceNew: true });
    const welcomes = await Promise.all([nextEvent(v2, "system_message"), nextEvent(v4, "system_message")]);
    if (mode === "upgrade" && v2.io.engine.transport.name !== "websocket") {
      await nextEvent(v2.io.engine, "upgrade");
    }
    const heard = [nextEvent(v2, "chat_message"), nextEvent(v4, "chat_message")];
    const [ack] = await call(v2, "chat_message", { text: "hello from v2" });
    const messages = (await Promise.all(heard)).map(([message]) => message.text);
    const result = {
      transport: v2.io.engine.transport.name,
      welcomes: welcomes.map(([message]) => message.text),
      ack,
      messages,
    };
    v2.close();
    v4.close();
    return result;
  },
};

await runScenario(scenarios, scenario);
