"""Quick self-check of the C++ testee: python selfcheck.py TESTEE_COMMAND...

Sends one frame per op (golden bytes from tests/vectors) and checks the answers.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[3] / "vectors"


def frame(op: int, name: str, payload: bytes) -> bytes:
    body = bytes([op]) + struct.pack("<H", len(name)) + name.encode() + payload
    return struct.pack("<I", len(body)) + body


def main() -> int:
    dto = json.loads((VECTORS / "dto.json").read_text())["cases"]
    call = next(c for c in dto if c["type"] == "Call" and "error" not in c)
    moqt = json.loads((VECTORS / "moqt_d14.json").read_text())["cases"]
    sub = next(c for c in moqt if c.get("struct") == "Subscribe" and "error" not in c and not c.get("decode_only"))
    data = next(c for c in moqt if c.get("stream") == "data" and "error" not in c)
    bad = next(c for c in moqt if c.get("struct") and c.get("error") == "too_large")
    checks = [
        (frame(1, "Call", bytes.fromhex(call["hex"])), 0, bytes.fromhex(call["hex"])),
        (frame(3, "Call", json.dumps(call["json"]).encode()), 0, bytes.fromhex(call.get("known_hex", call["hex"]))),
        (frame(4, "moqt_d14.Subscribe", bytes.fromhex(sub["hex"])), 0, bytes.fromhex(sub["hex"])),
        (frame(6, "moqt_d14.Subscribe", json.dumps(sub["value"]).encode()), 0, bytes.fromhex(sub["hex"])),
        (frame(4, "moqt_d14." + bad["struct"], bytes.fromhex(bad["hex"])), 1, b"too_large"),
        (frame(8, "quic", bytes.fromhex("4025")), 0, b"37"),
        (frame(9, "quic", b"4611686018427387904"), 1, b"invalid_value"),
        (frame(1, "NoSuchType", b""), 2, None),
    ]
    req = b"".join(f for f, _, _ in checks) + frame(
        7, "moqt_d14.data", struct.pack("<I", 1) + bytes.fromhex(data["hex"])
    )
    out = subprocess.run(sys.argv[1:], input=req, capture_output=True, check=True).stdout
    pos = 0
    replies = []
    while pos < len(out):
        (n,) = struct.unpack_from("<I", out, pos)
        replies.append(out[pos + 4 : pos + 4 + n])
        pos += 4 + n
    assert len(replies) == len(checks) + 1, replies
    for (_, status, want), got in zip(checks, replies, strict=False):
        assert got[0] == status, (got, status)
        if want is not None:
            assert got[1:] == want, (got, want)
    items = json.loads(replies[-1][1:])
    assert replies[-1][0] == 0 and len(items) == 1 + len(data["objects"]), replies[-1]
    print(f"ok: {len(replies)} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
