// Drives engine.io-client 3.5 (the Engine.IO v3 client of Socket.IO v2, installed as
// `engine.io-client-v3`) against a server, one scenario per run, and prints one JSON line.
//
//   node engine_client_v3.mjs <scenario> <http://host:port> <mode>
//
// mode: polling | websocket | upgrade (polling first, then the upgrade to WebSocket)
import { createRequire } from "node:module";
import { opened, runScenario, TRANSPORTS } from "./scenario.mjs";

const require = createRequire(import.meta.url);
const eio = require("engine.io-client-v3");

const [scenario, url, mode = "upgrade"] = process.argv.slice(2);

function open() {
  return opened(eio(url, { path: "/engine.io", transports: TRANSPORTS[mode] }), mode);
}

function receive(socket, count, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const messages = [];
    const timer = setTimeout(() => reject(new Error(`got ${messages.length}/${count} messages`)), timeoutMs);
    socket.on("message", (data) => {
      messages.push(typeof data === "string" ? { text: data } : { binary: [...Buffer.from(data)] });
      if (messages.length === count) {
        clearTimeout(timer);
        resolve(messages);
      }
    });
    socket.on("close", (reason) => {
      clearTimeout(timer);
      reject(new Error(`closed: ${reason}`));
    });
  });
}

const scenarios = {
  // A text and a binary message, echoed.
  async echo() {
    const socket = await open();
    const replies = receive(socket, 2);
    socket.send("hello €😀");
    socket.send(Buffer.from([1, 2, 3, 4]));
    const messages = await replies;
    socket.close();
    return { transport: socket.transport.name, messages };
  },

  // Stays connected for 3 s while the client pings every pingInterval and waits for the
  // server's pongs; then a message still echoes.
  async heartbeat() {
    const socket = await open();
    let pongs = 0;
    socket.on("pong", () => pongs++);
    let closed = null;
    socket.on("close", (reason) => (closed = reason));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const closedMeanwhile = closed;
    const reply = closed ? null : receive(socket, 1);
    if (reply) socket.send("still here");
    const messages = reply ? await reply : [];
    socket.close();
    return { transport: socket.transport.name, closed: closedMeanwhile, pongsAtLeast5: pongs >= 5, messages };
  },
};

await runScenario(scenarios, scenario);
