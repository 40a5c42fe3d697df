// The Admin UI's view of a cluster: a chat client in `/chat` on each process, then an admin
// connection (no password) to each process; prints which of the chat clients each admin
// connection's `all_sockets` lists, and the servers whose `server_stats` reached it.
//
//   node admin_cluster_client.mjs <url,url,url>
import { io } from "socket.io-client";
import { next, runScenario } from "./scenario.mjs";

const urls = process.argv[2].split(",");
const options = { transports: ["websocket"], reconnection: false, forceNew: true };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const scenarios = {
  async cluster() {
    const chatters = [];
    for (const url of urls) {
      const socket = io(url + "/chat", options);
      await next(socket, "welcome");
      chatters.push(socket);
    }
    const views = [];
    for (const url of urls) {
      const admin = io(url + "/admin", options);
      const servers = new Set();
      admin.on("server_stats", (stats) => servers.add(stats.serverId));
      const [sockets] = await next(admin, "all_sockets", 10000);
      // Every process reports every 2 s.
      await sleep(4500);
      const listed = new Set(sockets.filter((s) => s.nsp === "/chat").map((s) => s.id));
      views.push({ listed: chatters.map((c) => listed.has(c.id)), servers: [...servers].sort() });
      admin.close();
    }
    for (const socket of chatters) socket.close();
    return views;
  },
};

await runScenario(scenarios, "cluster");
