// Drives the official socket.io-client against tests/servers/lifecycle_testbed.rs.
//
//   node lifecycle_client.mjs <scenario> <http://host:port> <polling|websocket|upgrade> [args..]
//
// Prints one JSON line with what it saw (the `shutdown` scenario prints two: once disconnected,
// and once reconnected).
import { io } from "socket.io-client";
import { TRANSPORTS, next, runScenario } from "./scenario.mjs";

const [scenario, url, mode, ...rest] = process.argv.slice(2);
// Dates as the server writes them: in UTC.
process.env.TZ = "UTC";

/// Connects `namespace` and, in upgrade mode, waits until the client is on WebSocket.
async function connect(options = {}, namespace = "/") {
  const socket = io(url + namespace, { transports: TRANSPORTS[mode], reconnection: false, forceNew: true, ...options });
  await Promise.race([
    next(socket, "connect"),
    next(socket, "connect_error").then(([error]) => Promise.reject(error)),
  ]);
  await settled(socket);
  return socket;
}

async function settled(socket) {
  if (mode === "upgrade" && socket.io.engine.transport.name !== "websocket") {
    await next(socket.io.engine, "upgrade");
  }
}

function ask(socket, event, ...args) {
  return socket.timeout(5000).emitWithAck(event, ...args);
}

const scenarios = {
  // The handshake as the server sees it, with a header, a query and an auth of our own.
  async handshake() {
    const before = Date.now();
    const socket = await connect({
      extraHeaders: { "x-custom": "abc", origin: "http://example.com" },
      query: { q: "1" },
      auth: { token: "t" },
    });
    const after = Date.now();
    const { details, transportAtConnect } = await ask(socket, "handshake");
    socket.disconnect();
    return { details, transportAtConnect, before, after, issuedAsJs: new Date(details.issued).toString() };
  },

  // The transport at connect and now, and the `upgraded` events the server sent.
  async transport() {
    const socket = io(url, { transports: TRANSPORTS[mode], reconnection: false, forceNew: true });
    const upgraded = [];
    socket.on("upgraded", (transport) => upgraded.push(transport));
    await next(socket, "connect");
    await settled(socket);
    if (mode !== "polling") {
      // The server's notice may trail the client's own view of the upgrade.
      while (upgraded.length === 0) await next(socket, "upgraded");
    }
    const { transportAtConnect } = await ask(socket, "handshake");
    const now = await ask(socket, "transport");
    socket.disconnect();
    return { transportAtConnect, now, upgraded, client: socket.io.engine?.transport?.name ?? mode };
  },

  // The session cookie, read and sent back by the client's cookie jar.
  async cookies() {
    const socket = await connect({ withCredentials: true });
    const sid = socket.io.engine.id;
    // One more request of the session in every mode: an ack's round trip.
    await ask(socket, "transport");
    const cookies = await ask(socket, "cookies");
    socket.disconnect();
    return { sid, cookies };
  },

  // The refused requests the engine reported.
  async errors() {
    const socket = await connect();
    const errors = await ask(socket, "errors");
    socket.disconnect();
    return { errors };
  },

  // `close_connection` from the main namespace ends both namespaces of the connection.
  async closeConnection() {
    const main = await connect({ forceNew: true });
    const other = main.io.socket("/other");
    other.connect();
    await next(other, "connect");
    const sameConnection = other.io === main.io;
    const reasons = Promise.all([next(main, "disconnect"), next(other, "disconnect")]);
    main.emit("close_connection");
    const [[mainReason], [otherReason]] = await reasons;
    return { sameConnection, main: mainReason, other: otherReason };
  },

  // Busy on `/other` for `slowMs`, then asks for a shutdown with `deadlineMs` on `/` (awaited
  // by the handler if `wait` is 1); reports how it was disconnected, then which server it
  // reconnected to.
  async shutdown() {
    const [slowMs, deadlineMs, wait] = rest.map(Number);
    const options = { reconnectionDelay: 100, reconnectionDelayMax: 200, randomizationFactor: 0 };
    const main = await connect({ ...options, reconnection: true });
    const other = main.io.socket("/other");
    other.connect();
    await next(other, "connect");
    const first = await ask(main, "whoami");
    await ask(other, "slow", slowMs);
    const disconnected = Promise.all([next(main, "disconnect"), next(other, "disconnect")]);
    main.emit("shutdown", deadlineMs, wait === 1);
    const [[mainReason], [otherReason]] = await disconnected;
    console.log(JSON.stringify({ first, main: mainReason, other: otherReason }));
    // The test starts the second server on the same address; the client comes back by itself.
    await Promise.all([next(main, "connect", 30000), next(other, "connect", 30000)]);
    await settled(main);
    const second = await ask(main, "whoami");
    const result = { second, transport: main.io.engine.transport.name, otherConnected: other.connected };
    main.disconnect();
    other.disconnect();
    return result;
  },
};

await runScenario(scenarios, scenario);
