"""Quick self-check of a built testee: a few frames of each op against golden values.

python tests/conformance/testees/rust/selfcheck.py TESTEE_COMMAND...
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys


def frame(op: int, name: str, payload: bytes) -> bytes:
    body = bytes([op]) + struct.pack("<H", len(name)) + name.encode() + payload
    return struct.pack("<I", len(body)) + body


def main(argv: list[str]) -> int:
    checks: list[tuple[int, str, bytes, int, bytes | None]] = [
        (1, "Call", bytes.fromhex("0a0343413110017002"), 0, bytes.fromhex("0a0343413110017002")),
        (2, "Call", bytes.fromhex("10631807"), 0, None),
        (3, "Call", b'{"sid":"CA1","status":"CALL_STATUS_DIALING"}', 0, bytes.fromhex("0a034341311001")),
        (1, "Call", bytes.fromhex("0a01ff"), 1, b"invalid_utf8"),
        (3, "Call", b"{", 1, b"invalid_json"),
        (1, "NoSuchType", b"", 2, None),
        (4, "moqt_d14.Location", bytes.fromhex("0102"), 0, bytes.fromhex("0102")),
        (5, "moqt_d14.Location", bytes.fromhex("0102"), 0, None),
        (6, "moqt_d14.Location", b'{"group":1,"object":2}', 0, bytes.fromhex("0102")),
        (4, "envelope.Envelope", bytes.fromhex("000001410107050a03434131"), 1, b"invalid_value"),
        (7, "envelope.rpc", struct.pack("<I", 1) + bytes.fromhex("01010141010000"), 0, None),
        (8, "quic", bytes.fromhex("4025"), 0, b"37"),
        (9, "quic", b"37", 0, bytes.fromhex("25")),
        (9, "quic", b"4611686018427387904", 1, b"invalid_value"),
    ]
    proc = subprocess.run(argv, input=b"".join(frame(*c[:3]) for c in checks), capture_output=True, check=True)
    out, pos, bad = proc.stdout, 0, 0
    for op, name, _payload, want_status, want in checks:
        (n,) = struct.unpack_from("<I", out, pos)
        status, body = out[pos + 4], out[pos + 5 : pos + 4 + n]
        pos += 4 + n
        ok = status == want_status and (want is None or body == want)
        if op in (2, 5, 7) and status == 0:
            json.loads(body)
        print(f"{'ok ' if ok else 'BAD'} op {op} {name}: status {status} {body[:80]!r}")
        bad += not ok
    if pos != len(out):
        print("BAD: extra output")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
