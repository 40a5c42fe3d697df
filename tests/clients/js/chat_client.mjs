// Two official socket.io-client 4.x clients in the lobby of the chat example, with the parser
// the server speaks; prints one JSON line with what they saw.
//
//   node chat_client.mjs <http://host:port> <polling|websocket|upgrade> <json|msgpack> [metrics]
//
// `metrics`: both join the lobby and print `{"ready":true}`; on a line on stdin, Alice sends
// three messages (each acked, each reaching both), Bob then Alice leave the namespace, and what
// they saw is printed.
import { io } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";
import { createInterface } from "node:readline";
import { TRANSPORTS, next, runScenario } from "./scenario.mjs";

const [url, mode, parser, scenario = "lobby"] = process.argv.slice(2);

function join() {
  const socket = io(url + "/chat", {
    transports: TRANSPORTS[mode],
    reconnection: false,
    forceNew: true,
    ...(parser === "msgpack" ? { parser: msgpackParser } : {}),
  });
  // The welcome is emitted in `connect`: listen before it can come.
  return { socket, welcome: next(socket, "system_message") };
}

const scenarios = {
  async lobby() {
    const [alice, bob] = [join(), join()];
    const welcomes = await Promise.all([alice.welcome, bob.welcome]);
    if (mode === "upgrade" && alice.socket.io.engine.transport.name !== "websocket") {
      await next(alice.socket.io.engine, "upgrade");
    }
    const heard = [next(alice.socket, "chat_message"), next(bob.socket, "chat_message")];
    const ack = await alice.socket.timeout(5000).emitWithAck("chat_message", { text: "hello" });
    const messages = (await Promise.all(heard)).map(([message]) => message.text);
    // Binary both ways: a file's bytes up from Bob, down to both.
    const shared = [next(alice.socket, "file_shared"), next(bob.socket, "file_shared")];
    const data = Buffer.from([0, 1, 2, 253, 254, 255]);
    const fileAck = await bob.socket.timeout(5000).emitWithAck("share_file", { name: "a.bin", data });
    const files = (await Promise.all(shared)).map(([file]) => ({
      name: file.name,
      binary: Buffer.isBuffer(file.data),
      data: [...file.data],
    }));
    const result = {
      transport: alice.socket.io.engine.transport.name,
      welcomes: welcomes.map(([message]) => message.text),
      ack,
      messages,
      fileAck,
      files,
    };
    alice.socket.close();
    bob.socket.close();
    return result;
  },

  async metrics() {
    const [alice, bob] = [join(), join()];
    await Promise.all([alice.welcome, bob.welcome]);
    console.log(JSON.stringify({ ready: true }));
    await new Promise((resolve) => createInterface({ input: process.stdin }).once("line", resolve));
    const acks = [];
    let bobGot = 0;
    bob.socket.on("chat_message", () => bobGot++);
    for (let i = 0; i < 3; i++) {
      acks.push(await alice.socket.timeout(5000).emitWithAck("chat_message", { text: "hello" }));
    }
    while (bobGot < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    // Each leaves the namespace, and its connection closes after its last socket.
    for (const { socket } of [bob, alice]) {
      const left = next(socket, "disconnect");
      socket.disconnect();
      await left;
    }
    // The DISCONNECTs reach the server before the next scrape.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { acks, bobGot };
  },
};

await runScenario(scenarios, scenario);
