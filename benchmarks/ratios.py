"""The DTO ratios to each language's official protobuf runtime, over several runs of each benchmark.

One run of a language's benchmark is one process, and a JIT or a neighbour on this shared machine
can shift a whole process: TypeScript's Call decode read 0.86x in one process and 2.61x in the
next with the same code. So this runs every named benchmark `--runs` times, round-robin (each
round starts with the next language, so that no language always runs first or last), takes the
ratio column ("ours / official") of every row that has one, and prints per row the median, the
range and every run's figure. A row counts as a ratio row when its last column is a number
(optionally followed by "x") and two timings stand before it.

    .venv/bin/python benchmarks/ratios.py --runs 5 go cpp rust java typescript python
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES: dict[str, list[str]] = {
    "go": ["bash", "benchmarks/go/run.sh"],
    "cpp": ["bash", "benchmarks/moqt/run.sh"],
    "rust": ["bash", "benchmarks/rust/run.sh"],
    "java": ["bash", "benchmarks/java/run.sh"],
    "typescript": ["bash", "benchmarks/typescript/run.sh"],
    "python": [sys.executable, "benchmarks/bench_python_codec.py"],
}
UNITS = frozenset({"ns", "us", "µs", "ms", "s"})
NUMBER = re.compile(r"^\d[\d,]*(\.\d+)?$")


def _number(token: str) -> float | None:
    return float(token.replace(",", "")) if NUMBER.match(token) else None


def ratio_row(line: str) -> tuple[str, float] | None:
    """`(label, ratio)` of a table row "LABEL OURS [unit] OFFICIAL [unit] RATIO[x]", else None."""
    tokens = line.split()
    if len(tokens) < 4:
        return None
    ratio = _number(tokens[-1].removesuffix("x"))
    if ratio is None:
        return None
    rest = tokens[:-1]
    for _ in range(2):  # the two timings, right to left, each with an optional unit
        if rest and rest[-1] in UNITS:
            rest = rest[:-1]
        if not rest or _number(rest[-1]) is None:
            return None
        rest = rest[:-1]
    return (" ".join(rest), ratio) if rest else None


def ratio_rows(output: str) -> list[tuple[str, float]]:
    return [row for line in output.splitlines() if (row := ratio_row(line)) is not None]


def run(name: str) -> list[tuple[str, float]]:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run(BENCHES[name], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    rows = ratio_rows(done.stdout)
    if done.returncode != 0 or not rows:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise SystemExit(f"ratios: the {name} benchmark gave no ratio (exit {done.returncode}):\n{tail}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs of each benchmark (default 5)")
    ap.add_argument("langs", nargs="*", help=f"some of {', '.join(BENCHES)} (default: all)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    langs: list[str] = args.langs or list(BENCHES)
    if unknown := [x for x in langs if x not in BENCHES]:
        ap.error(f"no benchmark named {', '.join(unknown)}")
    seen: dict[str, list[float]] = {}
    for r in range(args.runs):
        for name in langs[r % len(langs) :] + langs[: r % len(langs)]:
            for label, ratio in run(name):
                seen.setdefault(f"{name}: {label}", []).append(ratio)
            print(f"round {r + 1}/{args.runs}: {name} done", file=sys.stderr, flush=True)
    width = max(len(k) for k in seen)
    print(f"{'row (ours / official)'.ljust(width)}  median  range        runs")
    for key, values in seen.items():
        lo, hi = min(values), max(values)
        runs = " ".join(f"{v:.2f}" for v in values)
        print(f"{key.ljust(width)}  {statistics.median(values):6.2f}  {lo:.2f}-{hi:.2f}  {runs}")


if __name__ == "__main__":
    main()
