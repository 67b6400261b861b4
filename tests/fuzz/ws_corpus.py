#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_ws (ws_handshake_framer.fuzz.cpp) into the folder given.

Run by hand: tests/fuzz/ws_corpus.py tests/fuzz/corpus/fuzz_ws
Each seed is [mode][chunk seed][stream]; mode bit 0 skips the handshake (frames only).
"""
import os
import struct
import sys

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
MASK = b"\x37\xfa\x21\x3d"


def request(connection=b"Upgrade", key=KEY):
    return (b"GET /play HTTP/1.1\r\nHost: 127.0.0.1:7000\r\nUpgrade: websocket\r\n"
            b"Connection: " + connection + b"\r\nSec-WebSocket-Key: " + key +
            b"\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1\r\n\r\n")


def frame(opcode, payload=b"", fin=True, masked=True):
    head = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if masked else 0
    n = len(payload)
    if n < 126:
        head += bytes([bit | n])
    elif n <= 0xFFFF:
        head += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


def close(code):
    return frame(0x8, struct.pack(">H", code))


seeds = {
    "handshake-message-ping-close": b"\x00\x11" + request() + frame(0x2, b"\x10\x00\x00\x00envelope")
    + frame(0x9, b"hi") + close(1000),
    "handshake-token-list-fragments": b"\x00\x05" + request(b"keep-alive, Upgrade")
    + frame(0x2, b"ab", fin=False) + frame(0x9) + frame(0x0, b"cd", fin=False) + frame(0x0, b"ef"),
    "handshake-bad-key": b"\x00\x01" + request(key=b"short"),
    "handshake-small-limits": b"\x08\x02" + request(),
    "frames-large-message": b"\x01\x03" + frame(0x2, bytes(range(256)) * 3),
    "frames-text": b"\x01\x04" + frame(0x1, b"hello"),
    "frames-unmasked": b"\x01\x06" + frame(0x2, b"plain", masked=False),
    "frames-bounds": b"\x0f\x07" + frame(0x2, b"", fin=False) + frame(0x0, b"", fin=False) * 6
    + frame(0x9) * 4,
    "frames-close-invalid": b"\x01\x09" + close(1005),
    "frames-unknown-opcode": b"\x01\x0a" + frame(0x3, b"x"),
}

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
