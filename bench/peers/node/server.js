// The benchmark server on the reference socket.io: the same events, acks and rooms as sio's.
//   node server.js 127.0.0.1:4003
import { createServer } from "node:http";
import { Server } from "socket.io";

const [host, port] = (process.argv[2] ?? "127.0.0.1:4003").split(":");
const http = createServer();
const io = new Server(http);

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
