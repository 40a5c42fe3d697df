"""The benchmark server on django-sio: the same events, acks and rooms as sio's."""

from sio import SocketIOConsumer


class Bench(SocketIOConsumer):
    async def event_echo(self, socket, *args, ack=None):
        if ack is not None:
            await ack(*args)

    # django-sio acks by itself, with no arguments, after a handler that takes no `ack`.
    async def event_join(self, socket, room):
        await socket.join(room)

    async def event_broadcast(self, socket, room, data):
        await socket.server.emit("bcast", data, room=room)
