// The benchmark server on the reference socket.io: the same events, acks and rooms as sio's.
//   node server.js [--msgpack] 127.0.0.1:4003
// With `--msgpack`, socket.io-msgpack-parser.
import { createServer } from "node:http";
import { Server } from "socket.io";
import msgpackParser from "socket.io-msgpack-parser";

const args = process.argv.slice(2);
const [host, port] = (args.find((arg) => !arg.startsWith("--")) ?? "127.0.0.1:4003").split(":");
const http = createServer();
const io = new Server(http, args.includes("--msgpack") ? { parser: msgpackParser } : {});

io.on("connection", (socket) => {
  socket.on("echo", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    ack();
  });
  socket.on("broadcast", (room, data) => {
    io.to(room).emit("bcast", data);
  });
});

http.listen(Number(port), host, () => {
  console.log(`listening on ${host}:${http.address().port}`);
});
