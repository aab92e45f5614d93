"""Quick self-check of a conformance testee: send a few frames, check the answers.

python tests/conformance/testees/typescript/selfcheck.py node /path/to/testee.js
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys


def frame(op: int, name: str, payload: bytes) -> bytes:
    body = bytes([op]) + struct.pack("<H", len(name)) + name.encode() + payload
    return struct.pack("<I", len(body)) + body


def main(cmd: list[str]) -> int:
    checks: list[tuple[int, str, bytes, int, bytes | None]] = [
        (1, "Call", bytes.fromhex("0a0443413132"), 0, bytes.fromhex("0a0443413132")),
        (2, "Call", bytes.fromhex("0a0443413132"), 0, None),
        (3, "Call", b'{"sid": "CA12", "createdAtMs": "5"}', 0, bytes.fromhex("0a0443413132") + b"\x58\x05"),
        (1, "Call", bytes.fromhex("0a05"), 1, b"length_past_end"),
        (8, "quic", bytes.fromhex("4025"), 0, b"37"),
        (9, "quic", b"4611686018427387903", 0, bytes.fromhex("ffffffffffffffff")),
        (8, "quic", b"", 1, b"truncated"),
        (4, "moqt_d14.Location", bytes.fromhex("0000"), 0, bytes.fromhex("0000")),
        (5, "moqt_d14.Location", bytes.fromhex("0102"), 0, None),
        (7, "moqt_d14.control", struct.pack("<I", 1) + bytes.fromhex("15000340"), 1, b"length_past_end"),
        (7, "moqt_d14.control", struct.pack("<I", 1) + bytes.fromhex("401500024064"), 0, None),
        (1, "NoSuchType", b"", 2, None),
        (9, "quic", b"4611686018427387904", 1, b"invalid_value"),
        (5, "moqt_d14.SubgroupObject?has_extensions=false", bytes.fromhex("000461626364"), 0, None),
    ]
    stdin = b"".join(frame(op, name, payload) for op, name, payload, _, _ in checks)
    out = subprocess.run(cmd, input=stdin, capture_output=True, timeout=60, check=False).stdout
    pos = 0
    failures = 0
    for op, name, _, status, expected in checks:
        (n,) = struct.unpack_from("<I", out, pos)
        got_status, body = out[pos + 4], out[pos + 5 : pos + 4 + n]
        pos += 4 + n
        ok = got_status == status and (expected is None or body == expected)
        if op in (2, 5, 7) and status == 0:
            json.loads(body)
        print(f"{'ok ' if ok else 'BAD'} op {op} {name}: status {got_status} {body[:80]!r}")
        failures += not ok
    if pos != len(out):
        print("BAD: extra output")
        failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
