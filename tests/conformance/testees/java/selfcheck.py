"""Quick self-check of a built Java testee: a few frames of each op against the golden vectors.

Usage: python selfcheck.py java -cp BUILD/classes Testee   (the command build.sh prints)
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[3] / "vectors"


def frame(op: int, name: str, payload: bytes) -> bytes:
    body = bytes([op]) + struct.pack("<H", len(name.encode())) + name.encode() + payload
    return struct.pack("<I", len(body)) + body


def main(cmd: list[str]) -> int:
    dto = json.loads((VECTORS / "dto.json").read_text())["cases"]
    moqt = json.loads((VECTORS / "moqt_d14.json").read_text())["cases"]
    pos = next(c for c in dto if c["name"] == "Call/all_fields")
    neg = next(c for c in dto if "error" in c)
    sub = next(c for c in moqt if c.get("struct") == "Subscribe" and "error" not in c)
    ctl = next(c for c in moqt if c.get("stream") == "control" and c.get("messages"))
    checks: list[tuple[bytes, int, object]] = [
        (frame(1, "Call", bytes.fromhex(pos["hex"])), 0, bytes.fromhex(pos["hex"])),
        (frame(2, "Call", bytes.fromhex(pos["hex"])), 0, pos["json"]),
        (frame(3, "Call", json.dumps(pos["json"]).encode()), 0, bytes.fromhex(pos["hex"])),
        (frame(1, neg["type"], bytes.fromhex(neg["hex"])), 1, neg["error"].encode()),
        (frame(1, "NoSuchType", b""), 2, None),
        (frame(4, "moqt_d14.Subscribe", bytes.fromhex(sub["hex"])), 0, bytes.fromhex(sub["hex"])),
        (frame(5, "moqt_d14.Subscribe", bytes.fromhex(sub["hex"])), 0, sub["value"]),
        (frame(6, "moqt_d14.Subscribe", json.dumps(sub["value"]).encode()), 0, bytes.fromhex(sub["hex"])),
        (frame(7, "moqt_d14.control", struct.pack("<I", 1) + bytes.fromhex(ctl["hex"])), 0, ctl["messages"]),
        (frame(8, "quic", bytes.fromhex("4025")), 0, b"37"),
        (frame(9, "quic", b"37"), 0, bytes.fromhex("25")),
        (frame(9, "quic", b"4611686018427387904"), 1, b"invalid_value"),
    ]
    proc = subprocess.run(cmd, input=b"".join(f for f, _, _ in checks), capture_output=True, timeout=120)
    out, failures = proc.stdout, 0
    for i, (_, status, want) in enumerate(checks):
        (n,) = struct.unpack_from("<I", out)
        resp, out = out[4 : 4 + n], out[4 + n :]
        got_status, got = resp[0], resp[1:]
        ok = got_status == status
        if ok and isinstance(want, bytes):
            ok = got == want
        elif ok and want is not None:
            ok = json.loads(got) == want
        if not ok:
            failures += 1
            print(f"check {i}: status {got_status}, {got[:200]!r}; wanted {status}, {want!r}"[:400])
    print(f"{len(checks) - failures}/{len(checks)} checks passed; exit {proc.returncode}")
    return 1 if failures or proc.returncode or out else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
