"""Drives the official python-socketio client against tests/servers/socketio_testbed.rs (and
tests/servers/hooks_testbed.rs for the `hooks` scenario, tests/servers/lifecycle_testbed.rs for
`shutdown`).

    python client.py <scenario> <http://host:port> <polling|websocket|upgrade> [args..]

Prints one JSON line with what it saw, including the transport it ended on (`shutdown` prints
two: once disconnected, once reconnected). With SIO_PARSER=msgpack every client uses
python-socketio's MessagePack serializer (the testbed's --msgpack).
"""

import json
import os
import sys
import threading
import time

import socketio

# python-socketio's msgpack serializer speaks socket.io-msgpack-parser's packets.
SERIALIZER = "msgpack" if os.environ.get("SIO_PARSER") == "msgpack" else "default"

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}


def connect(url, mode, namespaces=("/",), auth=None):
    client = socketio.Client(reconnection=False, serializer=SERIALIZER)
    events = {}
    arrived = threading.Condition()

    def record(event):
        def handler(*args):
            with arrived:
                events.setdefault(event, []).append(list(args))
                arrived.notify_all()

        return handler

    for event in ("welcome", "echo", "binary", "system_message", "room_message", "left"):
        client.on(event, record(event), namespace="/")
    for event in ("system_message", "chat_message", "file_shared"):
        client.on(event, record(event), namespace="/chat")
    client.on("question", lambda question: f"python says: {question}", namespace="/")
    client.connect(
        url,
        namespaces=list(namespaces),
        transports=TRANSPORTS[mode],
        auth=auth,
        wait_timeout=5,
    )
    if mode == "upgrade":
        deadline = time.time() + 5
        while client.transport() != "websocket" and time.time() < deadline:
            time.sleep(0.02)

    def wait_for(event, count=1, timeout=3.0):
        with arrived:
            arrived.wait_for(lambda: len(events.get(event, [])) >= count, timeout)
            return events.get(event, [])

    return client, wait_for


def scenario_connect(url, mode):
    client, wait_for = connect(url, mode, namespaces=("/", "/chat"), auth={"token": "good"})
    welcome = wait_for("welcome")
    system = wait_for("system_message")
    refused = []
    other = socketio.Client(reconnection=False, serializer=SERIALIZER)
    other.on("connect_error", lambda data: refused.append(data), namespace="/")
    try:
        other.connect(url, transports=TRANSPORTS[mode], auth={"token": "bad"}, wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        pass
    result = {
        "transport": client.transport(),
        "welcomeIdMatches": welcome[0][0]["id"] == client.get_sid("/"),
        "system": system[0][0],
        "refused": refused,
    }
    client.disconnect()
    return result


def scenario_events(url, mode):
    client, wait_for = connect(url, mode)
    client.emit("echo", (1, "two", {"three": [3]}))
    echo = wait_for("echo")[0]
    acked = client.call("ack", ("a", 2, [True]), timeout=3)
    typed = client.call("typed", {"x": 1, "y": 2}, timeout=3)
    array = client.call("array", ([5, 6, 7],), timeout=3)
    binary_ack = client.call("binary", bytes([9, 8, 7, 6]), timeout=3)
    blob, extra = wait_for("binary")[0]
    asked = client.call("ask_me", 2000, timeout=5)
    result = {
        "transport": client.transport(),
        "echo": echo,
        "acked": acked,
        "typed": typed,
        "array": array,
        "binaryAck": binary_ack,
        "blob": {"name": blob["name"], "data": list(blob["data"])},
        "extra": list(extra),
        "asked": asked,
    }
    client.disconnect()
    return result


def scenario_disconnect(url, mode):
    client, _ = connect(url, mode)
    reasons = []
    client.on("disconnect", lambda *reason: reasons.append(list(reason)), namespace="/")
    client.emit("disconnect_me")
    deadline = time.time() + 3
    while not reasons and time.time() < deadline:
        time.sleep(0.02)
    transport = client.transport()
    return {"transport": transport, "reasons": reasons}


def scenario_rooms(url, mode):
    (a, wait_a), (b, wait_b) = connect(url, mode), connect(url, mode)
    rooms = a.call("join", "green", timeout=3)
    b.call("join", "green", timeout=3)

    def counts():
        time.sleep(0.3)
        return [len(wait_a("room_message", count=0)), len(wait_b("room_message", count=0))]

    a.call("to_room", ("green", "from a"), timeout=3)
    after_to_room = counts()
    b.call("to_room_all", ("green", "to all of green"), timeout=3)
    after_to_all = counts()
    b.call("leave", "green", timeout=3)
    a.call("to_room_all", ("green", "after b left"), timeout=3)
    after_leave = counts()
    result = {
        "transport": a.transport(),
        "ownRoom": a.get_sid("/") in rooms,
        "joined": "green" in rooms,
        "messagesAfterToRoom": after_to_room,
        "messagesAfterToAll": after_to_all,
        "messagesAfterLeave": after_leave,
    }
    left = []
    a.on("left", lambda *args: left.append(list(args)), namespace="/")
    b_sid = b.get_sid("/")
    b.disconnect()
    deadline = time.time() + 3
    while not left and time.time() < deadline:
        time.sleep(0.02)
    result["clientDisconnectSeenByServer"] = [reason for sid, reason in left if sid == b_sid]
    a.disconnect()
    return result


def scenario_hooks(url, mode):
    """Against tests/servers/hooks_testbed.rs: no ack unless a handler sends one, and a
    middleware refusal with its data."""
    client, _ = connect(url, mode, auth={"name": "ada"})
    unanswered = {}
    for event, arg in (
        ("silent", 1),
        ("no_such_event", 2),
        ("failing", 3),
        ("dropped", 4),
        ("double", "x"),
    ):
        try:
            unanswered[event] = client.call(event, arg, timeout=0.3)
        except socketio.exceptions.TimeoutError:
            unanswered[event] = "timeout"
    doubled = client.call("double", 21, timeout=3)
    report = client.call("report", timeout=3)
    transport = client.transport()
    client.disconnect()
    refused = []
    other = socketio.Client(reconnection=False, serializer=SERIALIZER)
    other.on("connect_error", lambda data: refused.append(data), namespace="/")
    try:
        other.connect(url, transports=TRANSPORTS[mode], auth={"refuse": "second"}, wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        pass
    return {
        "transport": transport,
        "unanswered": unanswered,
        "doubled": doubled,
        "steps": report["steps"],
        "visitor": report["visitor"],
        "refused": refused,
    }


def scenario_shutdown(url, mode, slow_ms, deadline_ms, wait="0"):
    """Busy on /other, asks for a shutdown on /; prints how it was disconnected, then (once the
    test started a second server on the address) which server it reconnected to."""
    client = socketio.Client(
        reconnection=True,
        reconnection_delay=0.1,
        reconnection_delay_max=0.2,
        randomization_factor=0,
    )
    changed = threading.Condition()
    reasons = {}
    connects = {"/": 0, "/other": 0}

    def on_connect(namespace):
        def handler():
            with changed:
                connects[namespace] += 1
                changed.notify_all()

        return handler

    def on_disconnect(namespace):
        def handler(reason=None):
            with changed:
                reasons[namespace] = str(reason)
                changed.notify_all()

        return handler

    for namespace in ("/", "/other"):
        client.on("connect", on_connect(namespace), namespace=namespace)
        client.on("disconnect", on_disconnect(namespace), namespace=namespace)
    client.connect(url, namespaces=["/", "/other"], transports=TRANSPORTS[mode], wait_timeout=5)

    def settle():
        deadline = time.time() + 5
        while mode == "upgrade" and client.transport() != "websocket" and time.time() < deadline:
            time.sleep(0.02)

    settle()
    first = client.call("whoami", namespace="/", timeout=5)
    client.call("slow", int(slow_ms), namespace="/other", timeout=5)
    client.emit("shutdown", (int(deadline_ms), wait == "1"), namespace="/")
    with changed:
        changed.wait_for(lambda: len(reasons) == 2, 10)
    print(
        json.dumps({"first": first, "main": reasons.get("/"), "other": reasons.get("/other")}),
        flush=True,
    )
    with changed:
        changed.wait_for(lambda: min(connects.values()) >= 2, 30)
    settle()
    second = client.call("whoami", namespace="/", timeout=5)
    result = {"second": second, "transport": client.transport()}
    client.disconnect()
    return result


def scenario_chat(url, mode):
    """Two clients in the lobby of the chat example: the welcome, a message to both, and a
    file's bytes up from one and down to both."""
    (alice, alice_saw), (bob, bob_saw) = (connect(url, mode, namespaces=("/chat",)) for _ in range(2))
    welcomes = [saw("system_message")[0][0]["text"] for saw in (alice_saw, bob_saw)]
    ack = alice.call("chat_message", {"text": "hello"}, namespace="/chat", timeout=5)
    messages = [saw("chat_message")[0][0]["text"] for saw in (alice_saw, bob_saw)]
    data = bytes([0, 1, 2, 253, 254, 255])
    file_ack = bob.call("share_file", {"name": "a.bin", "data": data}, namespace="/chat", timeout=5)
    files = [saw("file_shared")[0][0] for saw in (alice_saw, bob_saw)]
    result = {
        "transport": alice.transport(),
        "welcomes": welcomes,
        "ack": ack,
        "messages": messages,
        "fileAck": file_ack,
        "files": [
            {"name": f["name"], "binary": isinstance(f["data"], bytes), "data": list(f["data"])}
            for f in files
        ],
    }
    alice.disconnect()
    bob.disconnect()
    return result


SCENARIOS = {
    "chat": scenario_chat,
    "shutdown": scenario_shutdown,
    "hooks": scenario_hooks,
    "rooms": scenario_rooms,
    "connect": scenario_connect,
    "events": scenario_events,
    "disconnect": scenario_disconnect,
}

if __name__ == "__main__":
    scenario, url, mode = sys.argv[1:4]
    try:
        print(json.dumps(SCENARIOS[scenario](url, mode, *sys.argv[4:])), flush=True)
    except Exception as error:  # report, so the Rust test shows what went wrong
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
        sys.exit(1)
