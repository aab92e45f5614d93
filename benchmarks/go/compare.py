"""Run two builds of the Go benchmark program alternately and compare them (run.sh --peer).

Each round runs ours, then the peer (A B A B ...), so both see the same machine load. For every
row it prints each round's figures, the medians and the ratio median(ours) / median(peer): the
MoQT stream rows in ns per item, and for the Call rows each build's ratio to the official Go
runtime (google.golang.org/protobuf) measured in the same process.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
from collections import defaultdict

# "Call decode   736.0   1023.1   0.72" (ours, official, ratio) and "stream data decode ...  105.7"
CALL_ROW = re.compile(r"^(Call \w+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$")
STREAM_ROW = re.compile(r"^stream (.+?)\s+([\d.]+)$")

Figures = dict[str, float]


def run_once(binary: str, vectors: str, flags: list[str]) -> Figures:
    """One run of a build: its stream rows (ns per item) and its Call rows' ratio to the official runtime."""
    out = subprocess.run([binary, *flags, vectors], check=True, capture_output=True, text=True).stdout
    figures: Figures = {}
    for line in out.splitlines():
        if m := CALL_ROW.match(line.strip()):
            figures[f"{m[1]} ours/official"] = float(m[4])
        elif m := STREAM_ROW.match(line.strip()):
            figures[m[1]] = float(m[2])
    if not figures:
        raise SystemExit(f"{binary}: no benchmark rows in its output:\n{out}")
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ours", required=True, help="the benchmark built against this tree's SDK")
    ap.add_argument("--peer", required=True, help="the benchmark built against the peer SDK")
    ap.add_argument("--vectors", required=True, help="tests/vectors")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (each runs ours, then the peer)")
    ap.add_argument("flags", nargs="*", help="flags for the program (after --)")
    a = ap.parse_args()
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    runs: dict[str, list[Figures]] = defaultdict(list)
    for i in range(a.rounds):
        for side, binary in (("ours", a.ours), ("peer", a.peer)):
            runs[side].append(run_once(binary, a.vectors, a.flags))
        print(f"round {i + 1} of {a.rounds} done", flush=True)
    rows = [r for r in runs["ours"][0] if all(r in f for side in runs.values() for f in side)]
    print(f"\n{a.rounds} alternating rounds (ours, peer); stream rows in ns per item")
    print(f"{'row':36} {'side':5} {'rounds':>40} {'median':>9}")
    for row in rows:
        med = {}
        for side in ("ours", "peer"):
            values = [f[row] for f in runs[side]]
            med[side] = statistics.median(values)
            print(f"{row:36} {side:5} {' '.join(f'{v:.2f}' for v in values):>40} {med[side]:9.2f}")
        print(f"{row:36} ratio ours/peer of the medians: {med['ours'] / med['peer']:.3f}")


if __name__ == "__main__":
    main()
