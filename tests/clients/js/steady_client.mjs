// A well-behaved socket.io-client beside an attacker: emits `chat_message` with an ack every
// 20 ms on `/chat` until a line arrives on stdin, then waits for the acks still due and prints
// how many it sent and how many were acked.
//
//   node steady_client.mjs <http://host:port>
import { io } from "socket.io-client";
import { createInterface } from "node:readline";

const [url] = process.argv.slice(2);
const socket = io(url + "/chat", { reconnection: false, forceNew: true });
let sent = 0;
let acked = 0;
const pending = new Set();

await new Promise((resolve, reject) => {
  socket.once("connect", resolve);
  socket.once("connect_error", reject);
});
console.log(JSON.stringify({ connected: true }));

const timer = setInterval(() => {
  sent += 1;
  const reply = socket
    .timeout(5000)
    .emitWithAck("chat_message", { text: `message ${sent}` })
    .then(() => (acked += 1))
    .catch(() => {});
  pending.add(reply);
  reply.finally(() => pending.delete(reply));
}, 20);

createInterface({ input: process.stdin }).once("line", async () => {
  clearInterval(timer);
  await Promise.all([...pending]);
  console.log(JSON.stringify({ sent, acked, connected: socket.connected }));
  process.exit(0);
});
