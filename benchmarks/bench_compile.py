"""Benchmark (a): compile a large synthetic IDL with apirpc-compiler versus protoc.

Builds the synthetic IDL (benchmarks/synthetic_idl.py: 2,000 messages x 20 fields, 500
methods) and its equivalent .proto, then times, each run in a fresh subprocess so that
interpreter start-up and imports are counted:

    apirpc-compiler validate synthetic.json                 (front end only, for reference)
    apirpc-compiler generate synthetic.json --out TMP        (every registered target)
    apirpc-compiler generate synthetic.json --out TMP --target T   (each target alone)
    protoc --python_out --cpp_out --java_out --csharp_out synthetic.proto

It prints the best wall-clock time of N runs, the CPU time (user+sys) of that run, and the
ratio ours/protoc. The goal is a ratio <= 1 for `generate` of every target. `--profile` adds
a cProfile of one in-process generate run (top functions by own time).

    python benchmarks/bench_compile.py [--runs 3] [--profile] [--messages 2000 --fields 20 --methods 500]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic_idl

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Timing:
    label: str
    wall: float  # best of the runs, seconds
    cpu: float  # user+sys of the child in that run


def _timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(argv)}\n{proc.stdout}{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def best_of(label: str, runs: int, make_argv: Callable[[Path], list[str]], work: Path) -> Timing:
    """Run `make_argv(out_dir)` `runs` times, each into a fresh empty output directory."""
    best: tuple[float, float] | None = None
    for i in range(runs):
        out = work / f"out-{label.replace(' ', '_').replace('/', '_')}-{i}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        wall, cpu = _timed(make_argv(out), work)
        if best is None or wall < best[0]:
            best = (wall, cpu)
        shutil.rmtree(out, ignore_errors=True)
    assert best is not None
    return Timing(label, *best)


def registered_targets() -> list[str]:
    from apirpc_compiler.backends.base import all_backends

    return list(all_backends())


def proto_source(work: Path, idl: Path, fallback: Path, protoc: str | None) -> tuple[list[Path], Path, str]:
    """The .proto files protoc compiles: the compiler's own `proto` target if it has one and
    protoc accepts it, else the standalone emitter's file."""
    if "proto" in registered_targets():
        out = work / "proto-src"
        shutil.rmtree(out, ignore_errors=True)
        proc = subprocess.run(
            [sys.executable, "-m", "apirpc_compiler", "generate", str(idl), "--out", str(out), "--target", "proto"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        files = sorted((out / "proto").rglob("*.proto"))
        if proc.returncode == 0 and files and protoc:
            check = subprocess.run(
                [protoc, f"-I{out / 'proto'}", f"--descriptor_set_out={work / 'check.pb'}", *map(str, files)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if check.returncode == 0:
                return files, out / "proto", "the compiler's proto target"
            print(f"note: protoc rejects the proto target's output, using the standalone emitter:\n{check.stderr}")
    return [fallback], fallback.parent, "benchmarks/synthetic_idl.py's emitter"


def profile_generate(idl: Path, work: Path, top: int) -> str:
    from apirpc_compiler.backends.base import all_backends
    from apirpc_compiler.generate import produce, write_tree
    from apirpc_compiler.pipeline import compile_idl

    out = work / "out-profile"
    prof = cProfile.Profile()
    prof.enable()
    backends = all_backends()
    ir = compile_idl(str(idl), backends.values())
    write_tree(out, produce(ir, backends, {}))
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per command; the best is kept (default 3)")
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--fields", type=int, default=20)
    ap.add_argument("--methods", type=int, default=500)
    ap.add_argument("--profile", action="store_true", help="also cProfile one in-process generate run")
    ap.add_argument("--no-per-target", action="store_true", help="skip timing each target on its own")
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it (default: a temp dir)")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="apirpc-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        idl, fallback_proto = synthetic_idl.write(
            work, messages=args.messages, fields=args.fields, methods=args.methods
        )
        protoc = shutil.which("protoc")
        proto_files, proto_root, proto_origin = proto_source(work, idl, fallback_proto, protoc)
        targets = registered_targets()
        size = (
            f"{idl.stat().st_size / 1e6:.1f} MB IDL, {sum(p.stat().st_size for p in proto_files) / 1e6:.1f} MB .proto"
        )
        print(
            f"synthetic IDL: {args.messages} messages x {args.fields} fields, {args.methods} methods ({size})\n"
            f"targets: {', '.join(targets)}; .proto from {proto_origin}; best of {args.runs} run(s); "
            f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f}\n"
        )

        ours = [sys.executable, "-m", "apirpc_compiler"]
        timings: list[Timing] = []
        timings.append(best_of("validate (front end)", args.runs, lambda out: [*ours, "validate", str(idl)], work))
        timings.append(
            best_of(
                "generate: all targets", args.runs, lambda out: [*ours, "generate", str(idl), "--out", str(out)], work
            )
        )
        if not args.no_per_target:
            for target in targets:

                def per_target(out: Path, target: str = target) -> list[str]:
                    return [*ours, "generate", str(idl), "--out", str(out), "--target", target]

                timings.append(best_of(f"generate --target {target}", args.runs, per_target, work))
        peer: Timing | None = None
        if protoc is None:
            print("protoc not found on PATH: skipping the protoc comparison (apt-get install protobuf-compiler)\n")
        else:
            version = subprocess.run([protoc, "--version"], capture_output=True, text=True, check=False).stdout.strip()
            peer = best_of(
                f"protoc ({version}) py+cpp+java+cs",
                args.runs,
                lambda out: [
                    protoc,
                    f"-I{proto_root}",
                    f"--python_out={out}",
                    f"--cpp_out={out}",
                    f"--java_out={out}",
                    f"--csharp_out={out}",
                    *map(str, proto_files),
                ],
                work,
            )

        rows = [*timings, *([peer] if peer else [])]
        width = max(len(t.label) for t in rows)
        print(f"{'command':<{width}}  {'wall s':>8}  {'cpu s':>8}  {'wall/protoc':>11}  {'cpu/protoc':>10}")
        print("-" * (width + 45))
        for row in rows:
            ratio_w = f"{row.wall / peer.wall:.2f}" if peer else "n/a"
            ratio_c = f"{row.cpu / peer.cpu:.2f}" if peer and peer.cpu > 0 else "n/a"
            print(f"{row.label:<{width}}  {row.wall:8.2f}  {row.cpu:8.2f}  {ratio_w:>11}  {ratio_c:>10}")
        if peer:
            slow = [t.label for t in timings if t.label.startswith("generate") and t.wall > peer.wall]
            verdict = "slower than protoc: " + "; ".join(slow) if slow else "every generate run is at least as fast"
            print(f"\ngoal (generate no slower than protoc): {'NOT MET, ' if slow else 'met, '}{verdict}")
        if args.profile:
            print("\ncProfile of one in-process `generate` (all targets):\n")
            print(profile_generate(idl, work, 25))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
