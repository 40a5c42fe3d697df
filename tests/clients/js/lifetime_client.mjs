// Three official socket.io-client clients held on a server until it shuts down: one on polling
// upgraded to WebSocket, one on WebSocket only, one on polling only. Prints a JSON line once all
// are connected (and the first upgraded), then one with the reason each was disconnected for,
// and exits.
//
//   node lifetime_client.mjs <http://host:port>
import { io } from "socket.io-client";

const [url] = process.argv.slice(2);

function connect(transports) {
  const socket = io(url, { transports, reconnection: false, forceNew: true });
  const disconnected = new Promise((resolve) => socket.once("disconnect", resolve));
  const connected = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("connect timed out")), 10000);
    socket.once("connect_error", reject);
    socket.once("connect", () => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      if (transports.length === 1 || socket.io.engine.transport.name === "websocket") return done();
      socket.io.engine.once("upgrade", done);
    });
  });
  return { socket, connected, disconnected };
}

const clients = [connect(["polling", "websocket"]), connect(["websocket"]), connect(["polling"])];
await Promise.all(clients.map((client) => client.connected));
console.log(JSON.stringify({ connected: clients.map((c) => c.socket.io.engine.transport.name) }));
const reasons = await Promise.all(clients.map((client) => client.disconnected));
console.log(JSON.stringify({ disconnected: reasons }));
process.exit(0);
