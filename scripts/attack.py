#!/usr/bin/env python3
"""Attacks a running sio server as the hostile-input issue describes them, with a well-behaved
socket.io-client beside the attacker, and reports what they cost the server.

    scripts/attack.py <scenario> <host:port> <server pid>

Scenarios: placeholders, probes, slowloris, partial, posts. The server is expected to be the
chat example (`cargo run --release --example chat -- --addr 127.0.0.1:0`); memory is read from
/proc/<pid>/status (the growth of the peak resident set, VmHWM), and the steady client's sent
and acked counts are reported. Standard library only; the steady client is
tests/clients/js/steady_client.mjs (run scripts/test.sh once to install it).
"""
import base64
import json
import os
import pathlib
import socket
import struct
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
MB = 1_000_000


def rss_kb(pid, field):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def http(host, port, method, path, body=b"", timeout=10):
    conn = socket.create_connection((host, port), timeout=timeout)
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    conn.sendall(head.encode() + body)
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    conn.close()
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def polling_sid(host, port):
    status, body = http(host, port, "GET", "/socket.io/?EIO=4&transport=polling")
    assert status == 200, body
    return json.loads(body[1:])["sid"]


class WebSocket:
    """A bare WebSocket client: masked frames out, frames in."""

    def __init__(self, host, port, query="", rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /socket.io/?EIO=4&transport=websocket{query} HTTP/1.1\r\nHost: {host}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert b" 101 " in head, head
        self.buffer = b""

    @staticmethod
    def frame(opcode, payload):
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        return header + b"\0\0\0\0" + payload  # a zero mask

    def send_text(self, text):
        self.sock.sendall(self.frame(1, text.encode()))

    def send_binary(self, data):
        self.sock.sendall(self.frame(2, data))

    def read(self, timeout=None):
        """The next frame as (opcode, payload); (None, None) once the connection ended."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if len(self.buffer) >= 2:
                    n = self.buffer[1] & 0x7F
                    offset = 2
                    if n == 126:
                        n, offset = struct.unpack(">H", self.buffer[2:4])[0], 4
                    elif n == 127:
                        n, offset = struct.unpack(">Q", self.buffer[2:10])[0], 10
                    if len(self.buffer) >= offset + n:
                        opcode = self.buffer[0] & 0x0F
                        payload = self.buffer[offset : offset + n]
                        self.buffer = self.buffer[offset + n :]
                        return opcode, payload
                chunk = self.sock.recv(65536)
                if not chunk:
                    return None, None
                self.buffer += chunk
        except (ConnectionError, OSError):
            return None, None

    def until_closed(self, limit):
        """Reads (answering pings) until the server closes; its close code and when."""
        start = time.time()
        while time.time() - start < limit:
            opcode, payload = self.read(timeout=limit)
            if opcode is None:
                return None, time.time() - start
            if opcode == 8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                return code, time.time() - start
            if opcode == 1 and payload == b"2":
                self.send_text("3")
        return "still open", time.time() - start


def joined(host, port):
    ws = WebSocket(host, port)
    assert ws.read(5)[1].startswith(b"0{")
    ws.send_text("40/chat,")
    assert ws.read(5)[1].startswith(b"40/chat,")
    return ws


PLACEHOLDER = '{"_placeholder":true,"num":0}'


def placeholders(host, port):
    ws = joined(host, port)
    repeated = ",".join([PLACEHOLDER] * 64)
    ws.send_text(f'451-/chat,1["chat_message",{{"text":"x","b":[{repeated}]}}]')
    ws.send_binary(b"\0" * MB)
    code, after = ws.until_closed(10)
    return {"close_code": code, "closed_after_s": round(after, 3)}


def probes(host, port):
    sid = polling_sid(host, port)
    ws = WebSocket(host, port, f"&sid={sid}", rcvbuf=4096)
    chunk = WebSocket.frame(1, b"2probe") * 5000
    start = time.time()
    sent = 0
    closed = None
    while time.time() - start < 10:
        try:
            ws.sock.sendall(chunk)
        except OSError:
            # The upgrade's own timeout (10 s by default) ends the probing WebSocket.
            closed = round(time.time() - start, 1)
            break
        sent += 5000
    return {"probes_sent": sent, "closed_by_server_after_s": closed}


def slowloris(host, port, connections=200, interval=5, limit=45):
    request = f"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {host}\r\n".encode()
    socks = [socket.create_connection((host, port)) for _ in range(connections)]
    closed_at = {}
    start = time.time()
    position = 0
    while time.time() - start < limit and len(closed_at) < connections:
        for index, sock in enumerate(socks):
            if index in closed_at:
                continue
            try:
                sock.sendall(request[position % len(request) : position % len(request) + 1])
                sock.setblocking(False)
                try:
                    if sock.recv(1) == b"":
                        closed_at[index] = time.time() - start
                except BlockingIOError:
                    pass
                sock.setblocking(True)
            except OSError:
                closed_at[index] = time.time() - start
        position += 1
        time.sleep(interval if len(closed_at) < connections else 0)
    return {
        "connections": connections,
        "closed": len(closed_at),
        "last_closed_after_s": round(max(closed_at.values()), 1) if closed_at else None,
    }


def partial(host, port, sent=7):
    """Announces 64 attachments and sends `sent` of 1 MB (63 in the issue: beyond the default
    8 MB bound of a packet's attachments, which closes the connection at once); then only
    answers pings."""
    ws = joined(host, port)
    ws.send_text(f'4564-/chat,["chat_message",{PLACEHOLDER}]')
    start = time.time()
    for index in range(sent):
        try:
            ws.send_binary(b"\0" * MB)
        except OSError:
            return {"attachments_sent": index, "closed_after_s": round(time.time() - start, 1)}
    code, after = ws.until_closed(60)
    return {"attachments_sent": sent, "close_code": code, "closed_after_s": round(after, 1)}


def posts(host, port, count=50):
    sids = [polling_sid(host, port) for _ in range(count)]
    statuses = [None] * count

    def post(index):
        try:
            conn = socket.create_connection((host, port), timeout=10)
            head = (
                f"POST /socket.io/?EIO=4&transport=polling&sid={sids[index]} HTTP/1.1\r\n"
                f"Host: {host}\r\nContent-Length: {2 * MB}\r\n\r\n"
            )
            conn.sendall(head.encode())
            piece = b"4" * 65536
            for _ in range(2 * MB // 65536 + 1):
                conn.sendall(piece)
        except OSError:
            pass
        try:
            data = conn.recv(65536)
            statuses[index] = int(data.split(b" ", 2)[1]) if data else None
        except (OSError, IndexError, ValueError):
            statuses[index] = None

    threads = [threading.Thread(target=post, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"posts": count, "statuses": {str(s): statuses.count(s) for s in set(statuses)}}


SCENARIOS = {
    "placeholders": placeholders,
    "probes": probes,
    "slowloris": slowloris,
    "partial": partial,
    "posts": posts,
}


def main():
    scenario, address, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    host, port = address.rsplit(":", 1)
    port = int(port)
    steady = subprocess.Popen(
        ["node", "steady_client.mjs", f"http://{address}"],
        cwd=ROOT / "tests/clients/js",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert json.loads(steady.stdout.readline())["connected"]
    time.sleep(0.5)
    before = rss_kb(pid, "VmHWM")
    result = SCENARIOS[scenario](host, port)
    time.sleep(0.5)
    after = rss_kb(pid, "VmHWM")
    steady.stdin.write("go\n")
    steady.stdin.flush()
    report = json.loads(steady.stdout.readline())
    print(
        json.dumps(
            {
                "scenario": scenario,
                **result,
                "peak_rss_growth_mb": round((after - before) / 1000, 1),
                "steady_client": report,
            }
        )
    )


if __name__ == "__main__":
    main()
