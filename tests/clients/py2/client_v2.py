"""python-socketio 4.6 (Socket.IO v2 over Engine.IO v3) against tests/servers/socketio_testbed.rs
started with --eio3: prints one JSON line with what it saw.

    python client_v2.py <http://host:port> <polling|websocket|upgrade>
"""
import json
import sys
import threading

import socketio

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}


def main():
    url, mode = sys.argv[1], sys.argv[2]
    client = socketio.Client(reconnection=False)
    seen = {"welcome": [], "binary": [], "room_binary": []}
    got_welcome = threading.Event()
    got_binary = threading.Event()
    got_room = threading.Event()

    @client.on("welcome")
    def on_welcome(data):
        seen["welcome"].append(data["id"])
        got_welcome.set()

    @client.on("binary")
    def on_binary(blob, extra):
        seen["binary"] = {"name": blob["name"], "data": list(blob["data"]), "extra": list(extra)}
        got_binary.set()

    @client.on("room_binary")
    def on_room_binary(label, data):
        seen["room_binary"] = [label, list(data)]
        got_room.set()

    client.connect(url, transports=TRANSPORTS[mode])
    # What `connect` emitted arrives on the client's own thread.
    got_welcome.wait(5)
    result = {
        "welcomedWithItsId": [welcome == client.sid for welcome in seen["welcome"]],
        "ack": client.call("ack", ("hi", 1), timeout=5),
        "typed": client.call("typed", {"x": 1, "y": 2}, timeout=5),
        "binaryAck": client.call("binary", b"\x09\x09\x09", timeout=5),
    }
    got_binary.wait(5)
    result["binaryEvent"] = seen["binary"]
    client.call("join", "py2", timeout=5)
    client.call("to_room_binary", ("py2", b"\x07\x08"), timeout=5)
    got_room.wait(5)
    result["roomBinary"] = seen["room_binary"]
    result["transport"] = client.transport()
    client.disconnect()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
