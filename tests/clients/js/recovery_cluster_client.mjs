// Connection state recovery across processes (tests/redis_streams.rs), with the official
// socket.io-client: a client in room `lobby` reaches its process through the test's proxy while
// another client, connected straight to a second process, broadcasts 100 `tick` events to the
// room, 20 ms apart. Once the first has 20 ticks it prints `{"ready": true}` and the test takes
// its process away (SIGKILL or SIGTERM), or its connection (the server not told), and points the
// proxy where it comes back to; on the line `go` it waits for its reconnection and the last
// tick, and prints what it saw.
//
//   node recovery_cluster_client.mjs <proxy url> <url of the broadcasting process>
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { next } from "./scenario.mjs";

const [proxyUrl, otherUrl] = process.argv.slice(2);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const TICKS = 100;

async function waitFor(condition, ms) {
  for (let waited = 0; !condition() && waited < ms; waited += 20) await sleep(20);
}

const go = new Promise((resolve) => createInterface({ input: process.stdin }).once("line", resolve));

const client = io(proxyUrl, {
  transports: ["websocket"],
  auth: { rooms: ["lobby"] },
  forceNew: true,
  reconnectionDelay: 300,
  reconnectionDelayMax: 300,
  randomizationFactor: 0,
});
const ticks = [];
client.on("tick", (n) => ticks.push(n));
await next(client, "welcome");
const before = client.id;

const broadcaster = io(otherUrl, { transports: ["websocket"], forceNew: true, reconnection: false });
await next(broadcaster, "welcome");
let sent = 0;
const sending = (async () => {
  for (let n = 0; n < TICKS; n++, sent++) {
    await broadcaster.timeout(5000).emitWithAck("broadcast", { to: ["lobby"], event: "tick", data: n });
    await sleep(20);
  }
})();

await waitFor(() => ticks.length >= 20, 10000);
let reconnections = 0;
// How many ticks went out while the client was away (it can have them only by recovery).
let sentAtDisconnect = -1;
let sentWhileAway = 0;
client.on("disconnect", () => (sentAtDisconnect = sent));
client.io.on("reconnect", () => {
  reconnections++;
  sentWhileAway = sent - sentAtDisconnect;
});
console.log(JSON.stringify({ ready: ticks.length >= 20 }));
await go;

await sending;
// A client that got a fresh socket cannot have them all.
await waitFor(() => reconnections > 0 && client.connected && (ticks.length >= TICKS || !client.recovered), 15000);
// Anything sent twice would have arrived by now.
await sleep(300);
const inLobby = await broadcaster.timeout(5000).emitWithAck("fetch", { to: ["lobby"] });
const result = {
  reconnected: reconnections > 0,
  sameId: client.id === before,
  recovered: client.recovered,
  missedSome: sentWhileAway > 0,
  ticks: (ticks.length === TICKS && ticks.every((n, i) => n === i)) || ticks,
  inLobby: Array.isArray(inLobby) && inLobby.some((socket) => socket.id === before),
};
client.disconnect();
broadcaster.disconnect();
console.log(JSON.stringify(result));
setTimeout(() => process.exit(0), 100);
