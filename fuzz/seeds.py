#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets from the test vectors of sio-core.

Writes corpus/<target>/seed-<n> files (the corpus folders are not committed); run.sh calls it.
"""
import json
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
VECTORS = HERE.parent / "sio-core" / "tests" / "vectors"


def load(name):
    return json.loads((VECTORS / f"{name}.json").read_text())


def write(target, seeds):
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    for index, seed in enumerate(seeds):
        (folder / f"seed-{index}").write_bytes(seed)


def frame_bytes(frame):
    if "text" in frame:
        return frame["text"].encode()
    return bytes(frame.get("binary", []))


def main():
    engine_packets = load("engine_packets")
    payloads = load("engine_payloads")
    socket_packets = load("socket_packets")
    errors = load("errors")

    write("engine_packet", [frame_bytes(v["frame"]) for v in engine_packets])
    write("engine_payload", [v["body"].encode() for v in payloads])
    socket_texts = [v["text"].encode() for v in socket_packets]
    socket_texts += [e["socket"].encode() for e in errors if "socket" in e]
    write("socket_packet", socket_texts)

    # Records for binary_reassembly: tag (1 text, 0 binary), length, bytes.
    def record(tag, data):
        data = data[:255]
        return bytes([tag, len(data)]) + data

    reassembly = []
    for vector in socket_packets:
        text = vector["text"].encode()
        count = vector["packet"].get("attachments", 0) or 0
        seed = record(1, text) + b"".join(record(0, bytes([n] * 8)) for n in range(count))
        reassembly.append(seed)
    for error in errors:
        if "socket" in error:
            seed = record(1, error["socket"].encode())
            for buffer in error.get("buffers", []):
                seed += record(0, bytes(buffer) if isinstance(buffer, list) else buffer.encode())
            reassembly.append(seed)
    write("binary_reassembly", reassembly)

    placeholder = lambda n: '{"_placeholder":true,"num":%d}' % n
    write(
        "placeholders",
        [
            bytes([1, 1]) + placeholder(0).encode(),
            bytes([2, 1, 2]) + ('{"name":"a","data":%s,"copy":%s}' % (placeholder(0), placeholder(1))).encode(),
            bytes([1, 4]) + ("[" + ",".join([placeholder(0)] * 8) + "]").encode(),
            bytes([2, 0, 3]) + ('{"list":[%s,%s],"nested":{"data":%s}}' % (placeholder(1), placeholder(0), placeholder(1))).encode(),
            bytes([0]) + b'{"name":"plain"}',
        ],
    )

    # Engine.IO v3 bodies: a form byte (0 text, 1 binary), then the body.
    write(
        "engine_payload_v3",
        [
            b"\x00" + "2:4€10:b4AQIDBA==1:2".encode(),
            b"\x01\x00\x04\xff4\xe2\x82\xac\x01\x05\xff\x04\x01\x02\x03\x04",
        ],
    )

    # permessage-deflate: flags and piece size, then masked client frames (RFC 7692's "Hello"
    # whole, in two fragments around a ping, and as a stored block); a level and a split, then
    # a message.
    def masked(first, payload):
        mask = bytes([1, 2, 3, 4])
        return bytes([first, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

    hello = bytes([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
    stored = bytes([0x00, 0x05, 0x00, 0xFA, 0xFF]) + b"Hello" + bytes([0x00])
    write(
        "deflate_frames",
        [
            bytes([0, 3]) + masked(0xC1, hello),
            bytes([1, 1]) + masked(0x41, hello[:3]) + masked(0x89, b"p") + masked(0x80, hello[3:]),
            bytes([0, 7]) + masked(0xC2, stored) + masked(0x81, b"plain"),
        ],
    )
    write(
        "deflate_round_trip",
        [bytes([6, 0]) + b"hello hello hello", bytes([1, 3]) + b'42["chat",{"text":"hi"}]' * 20,
         b"permessage-deflate; client_max_window_bits"],
    )

    # MessagePack packets as socket.io-msgpack-parser and python-socketio write them.
    def mp_str(text):
        data = text.encode()
        return bytes([0xA0 | len(data)]) + data

    def mp_map(entries):
        return bytes([0x80 | len(entries)]) + b"".join(mp_str(k) + v for k, v in entries)

    root = mp_str("/")
    write(
        "msgpack_packet",
        [
            mp_map([("type", b"\x00"), ("nsp", root)]),
            mp_map([("type", b"\x00"), ("nsp", mp_str("/chat")), ("data", mp_map([("token", mp_str("abc"))]))]),
            mp_map([("type", b"\x02"), ("data", b"\x92" + mp_str("hi") + b"\xc4\x02\x01\x02"),
                    ("options", mp_map([("compress", b"\xc3")])), ("id", b"\x07"), ("nsp", root)]),
            mp_map([("type", b"\x03"), ("nsp", root), ("id", b"\x07"),
                    ("data", b"\x93\xd4\x00\x00\xc7\x01\x00\x09\xd7\x00" + bytes(8))]),
            mp_map([("type", b"\x01"), ("nsp", root), ("data", b"\xc0")]),
        ],
    )

    # Session runs are arbitrary-encoded; a few byte strings give the fuzzer a start.
    write("session", [struct.pack("<Q", n) * 8 for n in range(8)])


if __name__ == "__main__":
    main()
