"""Run two builds of the Go benchmark program alternately and compare them (run.sh --peer).

Every round times each row in both builds, one process per row and build, back to back (ours then
the peer in odd rounds, the peer then ours in even ones), so a pair sees the same machine load
even when the load drifts during the run. For every row it prints each round's figures, the
medians, the ratio of the medians and the median of the rounds' ratios (ours / peer): the MoQT
stream rows in ns per item, and for the Call rows each build's ratio to the official Go runtime
(google.golang.org/protobuf) measured in the same process.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess

# "Call decode   736.0   1023.1   0.72" (ours, official, ratio), "stream data decode ...  105.7",
# and "row NAME" from -list
CALL_ROW = re.compile(r"^(Call \w+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$")
STREAM_ROW = re.compile(r"^stream (.+?)\s+([\d.]+)$")
LISTED_ROW = re.compile(r"^row (.+)$")


def output(binary: str, vectors: str, flags: list[str]) -> str:
    return subprocess.run([binary, *flags, vectors], check=True, capture_output=True, text=True).stdout


def time_row(binary: str, vectors: str, flags: list[str], row: str) -> float:
    """One run of one row: ns per item (a stream row) or the ratio to the official runtime (a Call row)."""
    out = output(binary, vectors, [*flags, "-only", row])
    for line in out.splitlines():
        if (m := CALL_ROW.match(line.strip())) and m[1] == row:
            return float(m[2]) / float(m[3])  # the printed ratio has two decimals only
        if (m := STREAM_ROW.match(line.strip())) and m[1] == row:
            return float(m[2])
    raise SystemExit(f"{binary}: no row {row!r} in its output:\n{out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ours", required=True, help="the benchmark built against this tree's SDK")
    ap.add_argument("--peer", required=True, help="the benchmark built against the peer SDK")
    ap.add_argument("--vectors", required=True, help="tests/vectors")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (each times every row in both builds)")
    ap.add_argument("flags", nargs="*", help="flags for the program (after --)")
    a = ap.parse_args()
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    listed = [m[1] for line in output(a.ours, a.vectors, ["-list"]).splitlines() if (m := LISTED_ROW.match(line))]
    peer_rows = {m[1] for line in output(a.peer, a.vectors, ["-list"]).splitlines() if (m := LISTED_ROW.match(line))}
    rows = [r for r in listed if r in peer_rows]
    runs: dict[str, dict[str, list[float]]] = {r: {"ours": [], "peer": []} for r in rows}
    for i in range(a.rounds):
        order = [("ours", a.ours), ("peer", a.peer)]
        for row in rows:
            for side, binary in order if i % 2 == 0 else order[::-1]:
                runs[row][side].append(time_row(binary, a.vectors, a.flags, row))
        print(f"round {i + 1} of {a.rounds} done", flush=True)
    print(f"\n{a.rounds} alternating rounds; stream rows in ns per item, Call rows as ours/official")
    print(f"{'row':30} {'side':5} {'rounds':>60} {'median':>8}")
    for row in rows:
        ours, peer = runs[row]["ours"], runs[row]["peer"]
        for side, values in (("ours", ours), ("peer", peer)):
            print(f"{row:30} {side:5} {' '.join(f'{v:.2f}' for v in values):>60} {statistics.median(values):8.2f}")
        paired = statistics.median(o / p for o, p in zip(ours, peer, strict=True))
        print(
            f"{row:30} ours/peer: ratio of the medians {statistics.median(ours) / statistics.median(peer):.3f}, "
            f"median of the rounds' ratios {paired:.3f}"
        )


if __name__ == "__main__":
    main()
