"""Quick self-check of the C# testee over the golden vectors, every op of PROTOCOL.md.

python selfcheck.py "mono /abs/work/Testee.exe"   # exits 1 on any mismatch
"""

from __future__ import annotations

import json
import shlex
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parents[3] / "vectors"


class Testee:
    def __init__(self, command: str) -> None:
        self.proc = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.total = 0
        self.failed: list[str] = []

    def call(self, op: int, name: str, payload: bytes) -> tuple[int, bytes]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        t = name.encode()
        req = bytes([op]) + struct.pack("<H", len(t)) + t + payload
        self.proc.stdin.write(struct.pack("<I", len(req)) + req)
        self.proc.stdin.flush()
        n = struct.unpack("<I", self.proc.stdout.read(4))[0]
        r = self.proc.stdout.read(n)
        return r[0], r[1:]

    def check(self, ok: bool, what: object) -> None:
        self.total += 1
        if not ok:
            self.failed.append(repr(what)[:300])


def _dto(t: Testee) -> None:
    for c in json.loads((VECTORS / "dto.json").read_text())["cases"]:
        h = bytes.fromhex(c["hex"])
        if "error" in c:
            t.check(t.call(1, c["type"], h) == (1, c["error"].encode()), c["name"])
            continue
        t.check(t.call(1, c["type"], h) == (0, h), c["name"])
        st, body = t.call(2, c["type"], h)
        t.check(st == 0 and isinstance(json.loads(body), dict), c["name"])
        known = bytes.fromhex(c.get("known_hex", c["hex"]))
        t.check(t.call(3, c["type"], json.dumps(c["json"]).encode()) == (0, known), c["name"])


def _wire(t: Testee, proto: str) -> None:
    for c in json.loads((VECTORS / f"{proto}.json").read_text())["cases"]:
        h = bytes.fromhex(c["hex"])
        if "struct" not in c:
            for chunk in (0, 1):
                st, body = t.call(7, f"{proto}.{c['stream']}", struct.pack("<I", chunk) + h)
                want: Any = (1, c["error"].encode()) if "error" in c else 0
                t.check((st, body) == want if "error" in c else st == 0, (c["name"], st, body[:100]))
            continue
        name = f"{proto}.{c['struct']}"
        if "args" in c:
            name += "?" + "&".join(f"{k}={'true' if v else 'false'}" for k, v in c["args"].items())
        if "error" in c:
            t.check(t.call(4, name, h) == (1, c["error"].encode()), c["name"])
            continue
        st, body = t.call(5, name, h)
        t.check(st == 0 and json.loads(body) == c["value"], (c["name"], body[:100]))
        if not c.get("decode_only"):
            t.check(t.call(6, name, json.dumps(c["value"]).encode()) == (0, h), c["name"])
            t.check(t.call(4, name, h) == (0, h), c["name"])


def main(command: str) -> int:
    t = Testee(command)
    _dto(t)
    for proto in ("envelope", "moqt_d14"):
        _wire(t, proto)
    vi = json.loads((VECTORS / "varint.json").read_text())
    for c in vi["cases"]:
        t.check(t.call(8, "quic", bytes.fromhex(c["hex"])) == (0, str(c["value"]).encode()), c["name"])
        t.check(t.call(9, "quic", str(c["value"]).encode()) == (0, bytes.fromhex(c["hex"])), c["name"])
    for c in vi["encode_errors"]:
        t.check(t.call(9, "quic", str(c["value"]).encode()) == (1, b"invalid_value"), c["name"])
    t.check(t.call(1, "NoSuchType", b"")[0] == 2, "unknown type")
    t.check(t.call(3, "Call", b"{not json") == (1, b"invalid_json"), "malformed JSON")
    assert t.proc.stdin is not None
    t.proc.stdin.close()
    t.check(t.proc.wait() == 0, "exit status 0 at EOF")
    for f in t.failed:
        print("FAIL", f)
    print(f"{t.total - len(t.failed)}/{t.total} self-checks passed")
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
