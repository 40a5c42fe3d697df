// Drives a cluster of servers sharing one Redis (tests/servers/cluster_node.rs and its Node twin
// node_cluster_server.mjs) with official socket.io-client clients, and prints one JSON line with
// what each client saw.
//
//   node cluster_client.mjs cluster <url,url,...>      broadcasts and server-side operations
//   node cluster_client.mjs emitter <url,url> <redis>  @socket.io/redis-emitter to sio's sockets
//   node cluster_client.mjs restart <url,url>          broadcasts every 100 ms until stdin says go
//   node cluster_client.mjs silent <url> <redis>       a process that never answers a request
//   node cluster_client.mjs local <url,url,...>        the local flag keeps each operation home
//   node cluster_client.mjs unanswered <url,url,...>   an ack from a room names who did not answer
//   node cluster_client.mjs server_side <url,url,...>  server-side events, with and without ack
import { io } from "socket.io-client";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";
import msgpackParser from "socket.io-msgpack-parser";

const [scenario, urls, redisUrl] = process.argv.slice(2);
// With SIO_PARSER=msgpack the clients use socket.io-msgpack-parser (the servers' --msgpack).
const PARSER = process.env.SIO_PARSER === "msgpack" ? { parser: msgpackParser } : {};
const servers = urls.split(",");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const settle = () => sleep(500);
const started = Date.now();

/** A client in `rooms`, answering `question` with its name and recording `news`. */
function connect(url, rooms, name, transports, namespace = "/") {
  const socket = io(url + namespace, { auth: { rooms }, transports, reconnection: false, forceNew: true, ...PARSER });
  const client = { socket, name, got: [], disconnected: null };
  socket.on("news", (data) => client.got.push(data));
  socket.on("question", (_question, ack) => ack(name));
  socket.on("disconnect", (reason) => (client.disconnected = reason));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no welcome`)), 10000);
    socket.once("connect_error", reject);
    socket.once("welcome", ({ id }) => {
      clearTimeout(timer);
      client.id = id;
      resolve(client);
    });
  });
}

const call = (client, event, argument = {}) =>
  client.socket.timeout(10000).emitWithAck(event, argument);

/** Two clients per server: `lobby<i>` (polling upgraded to WebSocket) and `other<i>` (WebSocket). */
async function twoPerServer() {
  const clients = [];
  for (const [i, url] of servers.entries()) {
    clients.push(await connect(url, ["lobby"], `lobby${i}`, ["polling", "websocket"]));
    clients.push(await connect(url, ["other"], `other${i}`, ["websocket"]));
  }
  return clients;
}

const received = (clients) =>
  Object.fromEntries(clients.map((c) => [c.name, c.got.map((d) => `${d.kind}${d.from}`).sort()]));
const reached = (clients) => clients.filter((c) => c.got.length > 0).map((c) => c.name).sort();
const clear = (clients) => clients.forEach((c) => (c.got = []));

async function cluster() {
  const clients = await twoPerServer();
  // A client per server in the lobby of namespace /chat: broadcasts stay in their namespace.
  const chats = [];
  for (const [i, url] of servers.entries()) chats.push(await connect(url, ["lobby"], `chat${i}`, ["websocket"], "/chat"));
  const lobby = clients.filter((c) => c.name.startsWith("lobby"));
  const nameOf = Object.fromEntries(clients.map((c) => [c.id, c.name]));
  const result = {};

  for (const [i, sender] of lobby.entries()) {
    await call(sender, "broadcast", { event: "news", data: { kind: "all", from: i } });
    await call(sender, "broadcast", { to: ["lobby"], event: "news", data: { kind: "room", from: i } });
    await call(sender, "broadcast", { except: ["lobby"], event: "news", data: { kind: "except", from: i } });
    await call(sender, "broadcast", { to: ["lobby"], exceptSelf: true, event: "news", data: { kind: "notSelf", from: i } });
  }
  await settle();
  result.received = received(clients);
  result.chatFromMain = reached(chats);

  clear(clients);
  for (const [i, sender] of chats.entries()) {
    await call(sender, "broadcast", { to: ["lobby"], event: "news", data: { kind: "chat", from: i } });
  }
  await settle();
  result.chat = received(chats);
  result.mainFromChat = reached(clients);

  // Binary attachments cross processes too (MessagePack `bin` on the wire).
  clear(clients);
  for (const [i, sender] of lobby.entries()) {
    await call(sender, "broadcast", { event: "news", data: { from: i }, binary: true });
  }
  await settle();
  result.binary = Object.fromEntries(
    clients.map((c) => [c.name, c.got.map((d) => `${d.from}:${[...new Uint8Array(d.bytes)]}`).sort()]),
  );

  result.fetched = [];
  for (const sender of lobby) {
    const sockets = await call(sender, "fetch", { to: ["lobby"] });
    result.fetched.push(
      sockets
        .map((s) => ({ name: nameOf[s.id], rooms: s.rooms.filter((r) => r !== s.id).sort(), data: s.data }))
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
  }

  clear(clients);
  await call(lobby[1 % lobby.length], "join", { to: ["other"], room: "joined" });
  await settle();
  await call(lobby[2 % lobby.length], "broadcast", { to: ["joined"], event: "news", data: { kind: "joined", from: 2 } });
  await settle();
  result.afterJoin = reached(clients);

  const rooms = await call(lobby[0], "rooms");
  result.rooms = rooms.filter((r) => !(r in nameOf)).sort();
  result.roomsHaveEveryId = clients.every((c) => rooms.includes(c.id));

  clear(clients);
  await call(lobby[0], "leave", { to: ["other"], room: "joined" });
  await settle();
  await call(lobby[1 % lobby.length], "broadcast", { to: ["joined"], event: "news", data: { kind: "joined", from: 1 } });
  await settle();
  result.afterLeave = reached(clients);

  result.asked = [];
  for (const sender of lobby) {
    // sio answers `{names, unanswered, unnamed}`, its Node twin the names.
    const answer = await call(sender, "ask", { to: ["lobby"], timeout: 3000 });
    result.asked.push(Array.isArray(answer) ? answer : answer.names);
  }

  await call(lobby[0], "disconnect_sockets", { to: ["other"] });
  await settle();
  result.disconnected = Object.fromEntries(clients.map((c) => [c.name, c.disconnected]));
  [...clients, ...chats].forEach((c) => c.socket.close());
  return result;
}

async function emitter() {
  const clients = await twoPerServer();
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  const emitter = new Emitter(redis);
  const result = {};

  emitter.to("lobby").emit("news", { kind: "room", from: "E" });
  await settle();
  result.toRoom = reached(clients);

  clear(clients);
  emitter.except("lobby").emit("news", { kind: "except", from: "E" });
  await settle();
  result.exceptRoom = reached(clients);

  clear(clients);
  emitter.to("lobby").emit("news", { kind: "binary", from: "E", bytes: Buffer.from([1, 2, 3]) });
  await settle();
  result.binary = Object.fromEntries(
    clients.filter((c) => c.got.length > 0).map((c) => [c.name, [...new Uint8Array(c.got[0].bytes)]]),
  );

  clear(clients);
  emitter.in("other").socketsJoin("joined");
  await settle();
  emitter.to("joined").emit("news", { kind: "joined", from: "E" });
  await settle();
  result.afterJoin = reached(clients);

  emitter.in("lobby").disconnectSockets();
  await settle();
  result.disconnected = Object.fromEntries(clients.map((c) => [c.name, c.disconnected]));
  clients.forEach((c) => c.socket.close());
  await redis.quit();
  return result;
}

async function restart() {
  // The sender and a peer on the first server, a listener on the second.
  const sender = await connect(servers[0], ["lobby"], "sender", ["websocket"]);
  const peer = await connect(servers[0], ["lobby"], "peer", ["websocket"]);
  const remote = await connect(servers[1], ["lobby"], "remote", ["websocket"]);
  // Fetches go through a client of their own: a socket's events are handled in order, and a
  // slow fetch must not hold up the broadcasts.
  const asker = await connect(servers[0], [], "asker", ["websocket"]);
  const clients = [peer, remote];
  const sent = [];
  let go = false;
  process.stdin.once("data", () => (go = true));
  console.log(JSON.stringify({ ready: true, t: Date.now() - started }));
  // Every 5th tick also asks for the lobby's sockets, without waiting for the answer.
  const fetches = [];
  for (let seq = 0; !go; seq++) {
    sent.push([seq, Date.now() - started]);
    if (seq % 5 === 0) {
      const t = Date.now() - started;
      fetches.push(
        call(asker, "fetch", { to: ["lobby"] }).then((answer) => ({
          t,
          took: Date.now() - started - t,
          answer: Array.isArray(answer) ? answer.length : answer,
        })),
      );
    }
    await call(sender, "broadcast", { to: ["lobby"], exceptSelf: true, event: "news", data: { kind: "tick", from: seq } });
    await sleep(100);
  }
  await settle();
  const seqs = (client) => client.got.map((d) => d.from);
  // Requests to the other process work again too.
  const fetched = (await call(sender, "fetch", { to: ["lobby"] })).length;
  const result = {
    sent,
    fetches: await Promise.all(fetches),
    peer: seqs(peer),
    remote: seqs(remote),
    fetchedAfterRestart: fetched,
    connected: clients.map((c) => c.socket.connected),
  };
  [sender, asker, ...clients].forEach((c) => c.socket.close());
  return result;
}

/** Every operation with the local flag, from a client of the first process: each acts there only. */
async function local() {
  const clients = await twoPerServer();
  const [sender] = clients;
  const result = {};
  await call(sender, "broadcast", { local: true, event: "news", data: { kind: "local", from: 0 } });
  // Anything published would have come before this cross-process broadcast.
  await call(sender, "broadcast", { event: "news", data: { kind: "all", from: 0 } });
  await settle();
  result.received = received(clients);
  const nameOf = Object.fromEntries(clients.map((c) => [c.id, c.name]));
  const fetched = await call(sender, "fetch", { local: true });
  result.fetched = fetched.map((s) => nameOf[s.id]).sort();
  const rooms = await call(sender, "rooms", { local: true });
  result.rooms = rooms.map((r) => nameOf[r] ?? r).sort();
  result.asked = (await call(sender, "ask", { local: true, timeout: 3000 })).names;
  await call(sender, "join", { local: true, room: "joined" });
  clear(clients);
  await call(sender, "broadcast", { to: ["joined"], event: "news", data: { kind: "joined", from: 0 } });
  await settle();
  result.joined = reached(clients);
  await call(sender, "disconnect_sockets", { local: true, to: ["other"] });
  await settle();
  result.disconnected = Object.fromEntries(clients.map((c) => [c.name, c.disconnected]));
  clients.forEach((c) => c.socket.close());
  return result;
}

/**
 * Per server, a client that answers `question` and one that does not, both in room `q`: an ack
 * gathered from the room, asked from the first server, says who did not answer.
 */
async function unanswered() {
  const clients = [];
  for (const [i, url] of servers.entries()) {
    clients.push(await connect(url, ["q"], `answers${i}`, ["websocket"]));
    const silent = await connect(url, ["q"], `silent${i}`, ["polling", "websocket"]);
    silent.socket.off("question");
    clients.push(silent);
  }
  const nameOf = Object.fromEntries(clients.map((c) => [c.id, c.name]));
  const answer = await call(clients[0], "ask", { to: ["q"], timeout: 1000 });
  clients.forEach((c) => c.socket.close());
  return {
    names: answer.names,
    unanswered: answer.unanswered.map((id) => nameOf[id] ?? id).sort(),
    unnamed: answer.unnamed,
    unreported: answer.unreported,
  };
}

async function silent() {
  // A subscriber that counts as a process but never answers.
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  const subscriber = redis.duplicate();
  await subscriber.connect();
  await subscriber.subscribe("socket.io-request#/#", () => {});
  const asker = await connect(servers[0], [], "asker", ["websocket"]);
  const t = Date.now();
  const answer = await call(asker, "fetch", { to: ["lobby"] });
  const result = { answer, took: Date.now() - t };
  // An ack gathered meanwhile counts the silent process as one that did not report.
  result.asked = await call(asker, "ask", { timeout: 1000 });
  asker.socket.close();
  await subscriber.quit();
  await redis.quit();
  return result;
}

/** Each process sends the others a server-side event with ack, then one without. */
async function serverSide() {
  const clients = [];
  for (const [i, url] of servers.entries()) clients.push(await connect(url, [], `client${i}`, ["websocket"]));
  const result = { asked: [], heard: [] };
  for (const client of clients) result.asked.push(await call(client, "server_ask", { timeout: 5000 }));
  for (const client of clients) await call(client, "server_tell");
  // Each process hears a note from every other one; asked until it has (at most 5 s).
  for (const client of clients) {
    let heard = await call(client, "server_heard");
    for (let waited = 0; heard.length < clients.length - 1 && waited < 5000; waited += 100) {
      await sleep(100);
      heard = await call(client, "server_heard");
    }
    result.heard.push(heard);
  }
  clients.forEach((c) => c.socket.disconnect());
  return result;
}

const scenarios = { cluster, emitter, restart, silent, local, unanswered, server_side: serverSide };
try {
  console.log(JSON.stringify(await scenarios[scenario]()));
  process.exit(0);
} catch (error) {
  console.log(JSON.stringify({ error: String(error) }));
  process.exit(1);
}
