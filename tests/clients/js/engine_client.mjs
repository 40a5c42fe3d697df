// Drives the official engine.io-client against a server, one scenario per run, and prints one
// JSON line with what it saw. The Rust tests in tests/ start the server and read that line.
//
//   node engine_client.mjs <scenario> <http://host:port> <mode> [argument]
//
// mode: polling | websocket | upgrade (polling first, then the upgrade to WebSocket)
import { Socket } from "engine.io-client";
import { opened, runScenario } from "./scenario.mjs";

const [scenario, url, mode = "upgrade", argument] = process.argv.slice(2);

function transports(mode) {
  switch (mode) {
    case "polling":
      return { transports: ["polling"] };
    case "websocket":
      return { transports: ["websocket"] };
    case "upgrade":
      return { transports: ["polling", "websocket"] };
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

function open(mode) {
  const socket = new Socket(url, { path: "/engine.io/", ...transports(mode) });
  socket.binaryType = "nodebuffer";
  return opened(socket, mode);
}

/** Resolves with the next `count` messages, or rejects when the socket closes first. */
function receive(socket, count, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const messages = [];
    const timer = setTimeout(() => reject(new Error(`got ${messages.length}/${count} messages`)), timeoutMs);
    const onMessage = (data) => {
      messages.push(data);
      if (messages.length === count) {
        clearTimeout(timer);
        socket.off("message", onMessage);
        resolve(messages);
      }
    };
    socket.on("message", onMessage);
    socket.once("close", (reason) => {
      clearTimeout(timer);
      reject(new Error(`closed: ${reason}`));
    });
  });
}

function closed(socket, timeoutMs) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    socket.once("close", (reason, description) => {
      clearTimeout(timer);
      // A WebSocket's close code, when the server sent one.
      const code = description?.context?.code;
      resolve({ reason, description: String(description?.message ?? description ?? ""), code });
    });
  });
}

function encodeBinary(data) {
  return Buffer.isBuffer(data) ? { binary: [...data] } : { text: data };
}

const scenarios = {
  // Text and binary both ways.
  async echo() {
    const socket = await open(mode);
    const replies = receive(socket, 2);
    socket.send("hello €😀");
    socket.send(Buffer.from([1, 2, 3, 4]));
    const [text, binary] = await replies;
    const result = {
      transport: socket.transport.name,
      messages: [encodeBinary(text), encodeBinary(binary)],
    };
    socket.close();
    return result;
  },

  // One message of `argument` bytes of text (the packet adds one byte for its type).
  async payload() {
    const socket = await open(mode);
    const size = Number(argument);
    // What the WebSocket agreed to (Node's `ws` offers permessage-deflate by default).
    const extensions = socket.transport.ws?.extensions;
    const whenClosed = closed(socket, 3000);
    const reply = receive(socket, 1, 3000).then(
      ([data]) => ({ echoed: data.length }),
      (error) => ({ error: error.message }),
    );
    socket.send("x".repeat(size));
    const outcome = await reply;
    const close = outcome.echoed === undefined ? await whenClosed : null;
    socket.close();
    return { transport: socket.transport.name, extensions, ...outcome, closed: close };
  },

  // `argument` small messages, echoed in order.
  async ordered() {
    const socket = await open(mode);
    const count = Number(argument);
    const replies = receive(socket, count, 20000);
    for (let i = 0; i < count; i++) socket.send(`m${i}`);
    const messages = await replies;
    const inOrder = messages.every((message, i) => message === `m${i}`);
    socket.close();
    return { transport: socket.transport.name, received: messages.length, inOrder };
  },

  // Stays idle for `argument` ms; the client answers the server's pings by itself.
  async idle() {
    const socket = await open(mode);
    let pings = 0;
    socket.on("ping", () => pings++);
    const close = await closed(socket, Number(argument));
    const result = { transport: socket.transport.name, pings, closed: close };
    socket.close();
    return result;
  },

  // Connects, reports its sid, then waits to be frozen (SIGSTOP) by the test.
  async frozen() {
    const socket = await open(mode);
    console.log(JSON.stringify({ sid: socket.id, transport: socket.transport.name }));
    await new Promise(() => {});
  },

  // `argument` clients at once, over mixed transports: connect, exchange, disconnect.
  async crowd() {
    const count = Number(argument);
    const modes = ["polling", "websocket", "upgrade"];
    const results = await Promise.allSettled(
      Array.from({ length: count }, async (_, i) => {
        const socket = await open(modes[i % modes.length]);
        const reply = receive(socket, 1, 10000);
        socket.send(`client ${i}`);
        const [data] = await reply;
        socket.close();
        if (data !== `client ${i}`) throw new Error(`client ${i} got ${data}`);
      }),
    );
    const failures = results.filter((r) => r.status === "rejected").map((r) => String(r.reason));
    return { ok: count - failures.length, failures: failures.slice(0, 5) };
  },
};

// The close packets of the scenario's sockets go out before the process ends.
await runScenario(scenarios, scenario, 500);
