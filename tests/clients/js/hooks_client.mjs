// Drives the official socket.io-client against tests/servers/hooks_testbed.rs (acks, middleware,
// catch-all hooks), one scenario per run, and prints one JSON line with what it saw.
//
//   node hooks_client.mjs <scenario> <http://host:port> <polling|websocket|upgrade>
import { io, Manager } from "socket.io-client";

const [scenario, url, mode = "upgrade"] = process.argv.slice(2);

const TRANSPORTS = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};

/** Resolves once `socket` is connected (and upgraded, in upgrade mode); rejects with its
 * `connect_error`. */
function connected(socket) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("connect timed out")), 5000);
    socket.once("connect_error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once("connect", () => {
      const done = () => {
        clearTimeout(timer);
        resolve(socket);
      };
      const engine = socket.io.engine;
      if (mode !== "upgrade" || engine.transport.name === "websocket") return done();
      engine.once("upgrade", done);
    });
  });
}

function connect(namespace = "/", options = {}) {
  return connected(
    io(url + namespace, { transports: TRANSPORTS[mode], reconnection: false, forceNew: true, ...options }),
  );
}

/** Emits and resolves with the ack's arguments, or with `{ error }` once `ms` pass. */
const ask = (socket, ms, ...args) =>
  new Promise((resolve) =>
    socket.timeout(ms).emit(...args, (error, ...reply) => resolve(error ? { error: error.message } : reply)),
  );

/** Emits with the socket's own retry settings; resolves with the ack or `{ error }`. */
const send = (socket, ...args) =>
  new Promise((resolve) =>
    socket.emit(...args, (error, ...reply) => resolve(error ? { error: error.message } : reply)),
  );

/** The next `event` whose first argument is `id`. */
function nextFor(socket, event, id, ms = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} for ${id} within ${ms} ms`)), ms);
    const handler = (...args) => {
      if (args[0] !== id) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(args);
    };
    socket.on(event, handler);
  });
}

function next(socket, event, ms = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

const report = async (socket) => (await ask(socket, 3000, "report"))[0];
const transport = (socket) => socket.io.engine.transport.name;

const scenarios = {
  // Only what a handler sends is an ack: everything else times out on the client.
  async acks() {
    const socket = await connect("/", { auth: { name: "ada" } });
    // Every ACK packet on the wire, late ones too (the client drops an ack that comes after
    // its timeout without a word).
    let ackPackets = 0;
    socket.io.engine.on("packet", ({ type, data }) => {
      if (type === "message" && typeof data === "string" && data.startsWith("3")) ackPackets += 1;
    });
    const unanswered = {};
    for (const [event, ...args] of [
      ["silent", 1],
      ["no_such_event", 2],
      ["failing", 3],
      ["dropped", 4],
      ["double", "not a number"],
    ]) {
      unanswered[event] = await ask(socket, 300, event, ...args);
    }
    const doubled = await ask(socket, 3000, "double", 21);
    // Handled in order: any ack of an earlier event would have come before this one's.
    const { received } = await report(socket);
    socket.disconnect();
    return { transport: transport(socket), unanswered, doubled, received, ackPackets };
  },

  // At-least-once delivery: the client resends until an ack comes or its retries run out.
  async retries() {
    const socket = await connect("/", { retries: 3, ackTimeout: 50 });
    const silent = await send(socket, "silent", "again?");
    const failing = await send(socket, "failing", "again?");
    const { received } = await report(socket);
    socket.disconnect();
    // An answered event is not sent again (a patient client: a busy machine may take 50 ms).
    const patient = await connect("/", { retries: 3, ackTimeout: 3000 });
    const doubled = await send(patient, "double", 5);
    const { received: patientReceived } = await report(patient);
    patient.disconnect();
    return { transport: transport(socket), silent, failing, received, doubled, patientReceived };
  },

  // Connect middleware: the server's first, then the namespace's in order, then `connect`; a
  // refusal at any step reaches `connect_error` with its data.
  async middleware() {
    const refusals = {};
    for (const step of ["server", "first", "second"]) {
      try {
        const refused = await connect("/", { auth: { refuse: step } });
        refused.disconnect();
        refusals[step] = "accepted";
      } catch (error) {
        refusals[step] = { message: error.message, data: error.data };
      }
    }
    // Reported after the refusals: no step ran after one that refused.
    const socket = await connect("/", { auth: { name: "ada" } });
    const { steps, visitor, stepsAfterRefusal } = await report(socket);
    socket.disconnect();
    // One connection, two namespaces: the refusal of one leaves the other working.
    const manager = new Manager(url, { transports: TRANSPORTS[mode], reconnection: false });
    const refusedHere = await connected(manager.socket("/", { auth: { refuse: "first" } })).then(
      () => "accepted",
      (error) => error.message,
    );
    const other = await connected(manager.socket("/other"));
    const otherAnswers = await ask(other, 3000, "ping");
    other.disconnect();
    return {
      transport: transport(socket),
      steps,
      visitor,
      refusals,
      stepsAfterRefusal,
      refusedHere,
      otherAnswers,
    };
  },

  // Event middleware: a refused event reaches no handler and gets no ack unless the middleware
  // answers it; one that disconnects the socket ends it. `#[on_any]` sees them all.
  async event_middleware() {
    const socket = await connect("/");
    const forbidden = await ask(socket, 300, "forbidden");
    const answered = await ask(socket, 3000, "answered_by_middleware");
    const { seen, received } = await report(socket);
    const kicked = next(socket, "disconnect");
    socket.emit("kick");
    const [reason] = await kicked;
    return { transport: transport(socket), forbidden, answered, seen, received, reason };
  },

  // `disconnecting` reads the rooms the socket was in; `disconnect`, after it, finds none.
  async disconnecting() {
    const a = await connect("/");
    const b = await connect("/");
    await ask(b, 3000, "join", "watchers");
    await ask(a, 3000, "join", "red");
    // Keyed by id: a socket of an earlier run may still be leaving.
    const leaving = nextFor(b, "leaving", a.id);
    const left = nextFor(b, "left", a.id);
    const aId = a.id;
    a.disconnect();
    const [, reason, rooms] = await leaving;
    const [, roomsAfter] = await left;
    const c = await connect("/");
    const cId = c.id;
    const kickedLeaving = nextFor(b, "leaving", cId);
    c.emit("kick");
    const [, kickedReason, kickedRooms] = await kickedLeaving;
    b.disconnect();
    return {
      transport: transport(b),
      reason,
      rooms: rooms.filter((room) => room !== aId).sort(),
      ownRoom: rooms.includes(aId),
      roomsAfter,
      kickedReason,
      kickedRooms: kickedRooms.filter((room) => room !== cId),
    };
  },

  // The hooks both ways: what comes in, and what goes out to each socket (a direct emit and a
  // broadcast, not the acks).
  async hooks() {
    const a = await connect("/");
    const b = await connect("/");
    const echoed = next(a, "echo");
    const binary = next(a, "binary");
    const shoutedToA = next(a, "shouted");
    const shoutedToB = next(b, "shouted");
    const acked = await ask(a, 3000, "shout", "hi");
    const [[received]] = await Promise.all([binary, echoed, shoutedToA, shoutedToB]);
    const reserved = await ask(a, 3000, "emit_reserved");
    const reportA = await report(a);
    const reportB = await report(b);
    a.disconnect();
    b.disconnect();
    return {
      transport: transport(a),
      acked,
      binary: [...received],
      reserved,
      a: { seen: reportA.seen, sent: reportA.sent },
      b: { seen: reportB.seen, sent: reportB.sent },
    };
  },
};

const run = scenarios[scenario];
if (!run) {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
run().then(
  (result) => {
    console.log(JSON.stringify(result));
    process.exit(0);
  },
  (error) => {
    console.log(JSON.stringify({ failed: String(error && error.stack ? error.stack : error) }));
    process.exit(1);
  },
);
