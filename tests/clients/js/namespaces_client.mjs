// Drives the official socket.io-client against tests/servers/namespaces_testbed.rs.
//
//   node namespaces_client.mjs <scenario> <http://host:port[,http://host:port]> <polling|websocket|upgrade>
//
// Two URLs (for `cluster`) are two sio processes sharing one Redis. Prints one JSON line with
// what it saw.
import { io } from "socket.io-client";
import { TRANSPORTS, next, runScenario } from "./scenario.mjs";

const [scenario, urls, mode] = process.argv.slice(2);
const [url, secondUrl] = urls.split(",");

/// Connects `namespace`, on a connection of its own; in upgrade mode, waits for WebSocket.
async function connect(namespace, on = url, auth = undefined) {
  const socket = open(namespace, auth, on);
  const [outcome, value] = await Promise.race([
    next(socket, "connect").then(() => ["connected"]),
    next(socket, "connect_error").then(([error]) => ["refused", error.message]),
  ]);
  if (outcome === "refused") {
    socket.disconnect();
    return { refused: value };
  }
  if (mode === "upgrade" && socket.io.engine.transport.name !== "websocket") {
    await next(socket.io.engine, "upgrade");
  }
  return { socket };
}

function open(namespace, auth, on = url) {
  return io(on + namespace, { transports: TRANSPORTS[mode], reconnection: false, forceNew: true, auth });
}

function ask(socket, event, ...args) {
  return socket.timeout(5000).emitWithAck(event, ...args);
}

const scenarios = {
  // Two sockets of /workspace/1 and one of /workspace/2: each hears only its own workspace.
  async isolation() {
    const { socket: a1 } = await connect("/workspace/1");
    const { socket: a2 } = await connect("/workspace/1");
    const { socket: b } = await connect("/workspace/2");
    const heard = { a1: [], a2: [], b: [] };
    for (const [name, socket] of Object.entries({ a1, a2, b })) {
      socket.on("said", (text) => heard[name].push(text));
    }
    const a2Heard = next(a2, "said");
    a1.emit("say", "to workspace 1");
    b.emit("say", "to workspace 2");
    await a2Heard;
    // Anything meant for the others was queued before what a2 heard: a round trip each flushes it.
    await Promise.all([ask(a1, "ping"), ask(a2, "ping"), ask(b, "ping")]);
    const who = await Promise.all([ask(a1, "whoami"), ask(b, "whoami")]);
    const transport = a1.io.engine.transport.name;
    for (const socket of [a1, a2, b]) socket.disconnect();
    return { heard, who, transport };
  },

  // A broadcast to the pattern reaches every workspace, and no other namespace.
  async parent() {
    const { socket: admin } = await connect("/");
    const { socket: a1 } = await connect("/workspace/1");
    const { socket: a2 } = await connect("/workspace/1");
    const { socket: b } = await connect("/workspace/2");
    const { socket: lobby } = await connect("/workspace/lobby");
    const heard = { admin: [], a1: [], a2: [], b: [], lobby: [] };
    for (const [name, socket] of Object.entries({ admin, a1, a2, b, lobby })) {
      socket.on("announced", (text) => heard[name].push(text));
    }
    const arrived = Promise.all([next(a1, "announced"), next(a2, "announced"), next(b, "announced")]);
    const rooms = await ask(admin, "announce", "to every workspace");
    await arrived;
    await Promise.all([ask(lobby, "whoami"), ask(a1, "ping")]);
    for (const socket of [admin, a1, a2, b, lobby]) socket.disconnect();
    // Each socket's own room, in the two workspaces: three.
    return { heard, rooms };
  },

  // Every server-side operation on the pattern: acks gathered from each workspace, sockets
  // found, a room joined and left, and every workspace socket disconnected.
  async operations() {
    const { socket: admin } = await connect("/");
    const members = {
      a1: (await connect("/workspace/1")).socket,
      a2: (await connect("/workspace/1")).socket,
      b: (await connect("/workspace/2")).socket,
    };
    return { ...(await operate(admin, members)), lobby: await lobbyKept() };
  },

  // Two processes on one Redis: a broadcast to the pattern reaches the workspaces of both (one
  // of them only exists on the second), a workspace on both is one workspace, and the pattern's
  // operations act on both.
  async cluster() {
    const { socket: adminA } = await connect("/", url);
    const { socket: adminB } = await connect("/", secondUrl);
    const members = {
      a1: (await connect("/workspace/1", url)).socket,
      a2: (await connect("/workspace/1", secondUrl)).socket,
      b: (await connect("/workspace/2", secondUrl)).socket,
      c: (await connect("/workspace/3", url)).socket,
    };
    const heard = Object.fromEntries(Object.keys(members).map((name) => [name, []]));
    for (const [name, socket] of Object.entries(members)) {
      socket.on("announced", (text) => heard[name].push(text));
      socket.on("said", (text) => heard[name].push(text));
    }
    const announced = Promise.all(Object.values(members).map((socket) => next(socket, "announced")));
    const rooms = await ask(adminA, "announce", "to every workspace");
    await announced;
    const said = next(members.a2, "said");
    members.a1.emit("say", "within workspace 1");
    await said;
    // Anything else on its way was published before: a round trip through the other process
    // after it lets it arrive.
    await ask(adminB, "announce", "again");
    await Promise.all(Object.values(members).map((socket) => ask(socket, "ping")));
    // a1 was workspace 1's last socket on the first process: its `disconnect` still reaches a2.
    const left = next(members.a2, "left");
    members.a1.disconnect();
    const [leftText] = await left;
    const { a1, ...rest } = members;
    const outcome = await operate(adminB, rest);
    adminA.disconnect();
    return { heard, rooms, left: leftText, ...outcome };
  },

  // `connect` takes the game's number typed: a name whose number does not decode is no game.
  async typedConnect() {
    const { socket: game } = await connect("/game/12");
    const number = await ask(game, "whoami");
    const { refused } = await connect("/game/x");
    const { refused: closed } = await connect("/game/0");
    game.disconnect();
    return { number, refused, closed };
  },

  // A predicate decides which `/room/{name}` exist: once per namespace, with the handshake of
  // the first CONNECT; the CONNECTs that come meanwhile wait for its answer.
  async admitted() {
    const { socket: admin } = await connect("/");
    const before = await ask(admin, "predicateCalls");
    const room = (suffix) => `/room/dyn-${mode}-${suffix}`;
    const yes = { pass: "yes" };
    const together = await Promise.all([connect(room("a"), url, yes), connect(room("a"), url, yes)]);
    const later = await connect(room("a"));
    const other = await connect(`/room/other-${mode}`, url, yes);
    const wrongPass = await connect(room("b"), url, { pass: "no" });
    const rightPass = await connect(room("b"), url, yes);
    const pong = await ask(rightPass.socket, "ping");
    const panicked = await connect(room("panic"), url, yes);
    const calls = (await ask(admin, "predicateCalls")) - before;
    const outcome = ({ socket, refused }) => {
      socket?.disconnect();
      return refused ?? "connected";
    };
    admin.disconnect();
    return {
      together: together.map(outcome),
      later: outcome(later),
      other: outcome(other),
      wrongPass: outcome(wrongPass),
      rightPass: outcome(rightPass),
      pong,
      panicked: outcome(panicked),
      calls,
    };
  },

  // Names no pattern matches, or that leave a parameter empty.
  async invalid() {
    const results = {};
    for (const name of ["/nothing", "/workspace/", "/workspace/1/2"]) {
      const { socket, refused } = await connect(name);
      socket?.disconnect();
      results[name] = refused ?? "connected";
    }
    return results;
  },

  // A declared name wins over the pattern; a name whose CONNECT `connect` refuses is not kept.
  async declaredAndRefused() {
    const { socket: admin } = await connect("/");
    const { socket: lobby } = await connect("/workspace/lobby");
    const declared = await ask(lobby, "whoami");
    const { refused } = await connect("/workspace/0");
    const { refused: notNumbered } = await connect("/workspace/abc");
    // The refused sockets' namespaces go once their CONNECT is answered.
    let namespaces = await ask(admin, "namespaces");
    for (let tries = 0; namespaces.length > 2 && tries < 250; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      namespaces = await ask(admin, "namespaces");
    }
    admin.disconnect();
    lobby.disconnect();
    return { declared, refused, notNumbered, namespaces };
  },

  // A client that leaves while its CONNECT is still being decided: the workspace keeps its
  // other socket, which still hears the workspace's broadcasts.
  async leftWhileConnecting() {
    const { socket: stays } = await connect("/workspace/5");
    const leaving = open("/workspace/5", { slow: true });
    await next(leaving.io, "open");
    // The server is deciding (300 ms): the client goes.
    await new Promise((resolve) => setTimeout(resolve, 100));
    leaving.disconnect();
    leaving.io.engine?.close();
    // The refusal comes, for a socket that is gone.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const { socket: late } = await connect("/workspace/5");
    const heard = next(stays, "said");
    late.emit("say", "still one workspace");
    const [text] = await heard;
    stays.disconnect();
    late.disconnect();
    return { heard: text };
  },

  // What the server serves while a workspace has a socket, and once it has none.
  async cleanup() {
    const { socket: admin } = await connect("/");
    const { socket: member } = await connect("/workspace/9");
    const during = await ask(admin, "namespaces");
    const gone = next(member, "disconnect");
    member.disconnect();
    await gone;
    // The server handles the client's DISCONNECT as it arrives: poll until it has.
    let after = await ask(admin, "namespaces");
    for (let tries = 0; after.includes("/workspace/9") && tries < 250; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await ask(admin, "namespaces");
    }
    const { socket: again } = await connect("/workspace/9");
    const back = await ask(again, "whoami");
    admin.disconnect();
    again.disconnect();
    return { during, after, back: back.namespace };
  },
};

/// Each member answers the survey with its name; `operate` runs from `admin`; what the server
/// answered, and how each member was disconnected.
async function operate(admin, members) {
  const found = {};
  for (const [name, socket] of Object.entries(members)) {
    socket.on("survey", (ack) => ack(name));
    socket.on("found", (namespace) => (found[name] = namespace));
  }
  const reasons = Promise.all(
    Object.entries(members).map(async ([name, socket]) => [name, (await next(socket, "disconnect"))[0]]),
  );
  const operated = await ask(admin, "operate");
  const disconnected = Object.fromEntries(await reasons);
  admin.disconnect();
  return { operated, found, disconnected };
}

/// Whether the declared `/workspace/lobby` is untouched by the pattern's operations.
async function lobbyKept() {
  const { socket } = await connect("/workspace/lobby");
  const answer = await ask(socket, "whoami");
  socket.disconnect();
  return answer.declared === true;
}

await runScenario(scenarios, scenario);
