// Drives tests/servers/recovery_testbed.rs with the official socket.io-client, whose connection
// state recovery needs no option, and prints one JSON line with what it saw.
//
//   node recovery_client.mjs cut <url> <websocket|upgrade>      cut the TCP connection mid-burst
//   node recovery_client.mjs expire <url> <websocket|upgrade>   come back after the session expired
import { io } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";
import { TRANSPORTS, next, runScenario } from "./scenario.mjs";

// With SIO_PARSER=msgpack the client uses socket.io-msgpack-parser (the testbed's --msgpack).
const PARSER = process.env.SIO_PARSER === "msgpack" ? { parser: msgpackParser } : {};

const [scenario, url, mode = "websocket"] = process.argv.slice(2);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client in room `r1` that reconnects `reconnectMs` after losing its connection. */
async function connect(reconnectMs) {
  const socket = io(url, {
    transports: TRANSPORTS[mode],
    auth: { room: "r1" },
    forceNew: true,
    reconnectionDelay: reconnectMs,
    reconnectionDelayMax: reconnectMs,
    randomizationFactor: 0,
    ...PARSER,
  });
  const seen = { welcomes: [], seq: [], roomSeq: [] };
  socket.on("welcome", (welcome) => seen.welcomes.push(welcome));
  socket.on("seq", (n) => seen.seq.push(n));
  socket.on("room_seq", (n) => seen.roomSeq.push(n));
  await next(socket, "welcome");
  if (mode === "upgrade" && socket.io.engine.transport.name !== "websocket") {
    await next(socket.io.engine, "upgrade");
  }
  return { socket, seen };
}

/** Cuts the TCP connection under the client's WebSocket, both halves, as a network would. */
const cut = (socket) => socket.io.engine.transport.ws._socket.destroy();

/** Whether `list` is 0, 1, ..., count - 1: everything, once, in order. */
const complete = (list, count) => list.length === count && list.every((n, i) => n === i);

async function waitFor(condition, ms) {
  for (let waited = 0; !condition() && waited < ms; waited += 20) await sleep(20);
}

const scenarios = {
  // The connection is cut while the server sends 100 events to the client and 100 to its room.
  async cut() {
    const { socket, seen } = await connect(300);
    const before = socket.id;
    const welcome = seen.welcomes[0];
    await socket.timeout(3000).emitWithAck("burst", { room: "r1", count: 100, delayMs: 10 });
    await waitFor(() => seen.seq.length >= 20, 5000);
    const reconnected = next(socket, "connect", 10000);
    cut(socket);
    await reconnected;
    await waitFor(() => seen.seq.length >= 100 && seen.roomSeq.length >= 100, 10000);
    const rooms = await socket.timeout(3000).emitWithAck("rooms");
    const away = await socket.timeout(3000).emitWithAck("emitted_while_away");
    const again = seen.welcomes.at(-1);
    const after = socket.id;
    socket.disconnect();
    return {
      sameId: after === before,
      recovered: socket.recovered,
      seq: complete(seen.seq, 100) || seen.seq,
      roomSeq: complete(seen.roomSeq, 100) || seen.roomSeq,
      rooms: rooms.sort(),
      welcomed: seen.welcomes.length,
      recoveredOnServer: again.recovered,
      middlewareSkipped: again.middlewareRuns === welcome.middlewareRuns,
      bursts: again.bursts,
      // Some events were sent while it was away: what it has of them came by recovery.
      missedSome: away > 0,
    };
  },

  // The client comes back after the session expired: a fresh socket.
  async expire() {
    const { socket } = await connect(3000);
    const before = socket.id;
    const reconnected = next(socket, "connect", 10000);
    cut(socket);
    await reconnected;
    const result = { sameId: socket.id === before, recovered: socket.recovered };
    socket.disconnect();
    return result;
  },
};

await runScenario(scenarios, scenario);
