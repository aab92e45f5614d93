"""G.711 throughput: the C++ core on every SIMD path vs CPython's audioop, side by side.

Builds ``bench_g711`` (Release) into ``build/bench-g711`` unless ``--bin`` is given, runs it, and
in the same run times ``audioop.lin2ulaw`` / ``ulaw2lin`` / ``lin2alaw`` / ``alaw2lin`` (and
decode+encode compositions for the A<->mu conversions, which audioop lacks) on the same sample
count. All figures are Msamples/s of this thread's CPU time (best of several runs), so a busy
shared machine does not distort the ratios.

    python benchmarks/g711/bench_g711.py [--samples 4096] [--min-time 0.1] [--repeats 5]
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # deprecated in 3.11, removed in 3.13; this script targets 3.11

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BUILD = REPO / "build" / "bench-g711"
OPS = ["ulaw_encode", "ulaw_decode", "alaw_encode", "alaw_decode", "ulaw_to_alaw", "alaw_to_ulaw"]


def build_binary(build_dir: Path) -> Path:
    """Configure and build the standalone benchmark (Release); return the binary's path."""
    src = REPO / "benchmarks" / "g711"
    configure = ["cmake", "-S", str(src), "-B", str(build_dir), "-G", "Ninja"]
    configure.append("-DCMAKE_BUILD_TYPE=Release")
    for cmd in (configure, ["cmake", "--build", str(build_dir)]):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"bench_g711.py: {' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    return build_dir / "bench_g711"


def run_core(binary: Path, samples: int, min_time: float, repeats: int) -> dict[tuple[str, str], float]:
    """Run the C++ benchmark with --csv; return {(op, path): Msamples/s}."""
    cmd = [str(binary), "--csv", "--samples", str(samples)]
    cmd += ["--min-time", str(min_time), "--repeats", str(repeats)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"bench_g711.py: {binary} failed:\n{done.stderr}")
    rates: dict[tuple[str, str], float] = {}
    for line in done.stdout.splitlines():
        op, path, rate = line.split(",")
        rates[(op, path)] = float(rate)
    return rates


def pcm_samples(n: int) -> bytes:
    """The same full-range pseudo-random PCM as bench_g711.cc (LCG, seed 1), little-endian."""
    seed = 1
    out = bytearray()
    for _ in range(n):
        seed = (seed * 1664525 + 1013904223) & 0xFFFFFFFF
        out += ((seed >> 16) & 0xFFFF).to_bytes(2, "little")
    return bytes(out)


def measure(call: Callable[[], object], samples: int, min_time: float, repeats: int) -> float:
    """Best Msamples/s over `repeats` runs of `call` (one call = `samples` samples)."""
    for _ in range(20):
        call()
    best = 0.0
    for _ in range(repeats):
        calls = 0
        t0 = time.thread_time()
        while True:
            for _ in range(64):
                call()
            calls += 64
            elapsed = time.thread_time() - t0
            if elapsed >= min_time:
                break
        best = max(best, calls * samples / elapsed / 1e6)
    return best


def run_audioop(samples: int, min_time: float, repeats: int) -> dict[str, float]:
    pcm = pcm_samples(samples)
    ulaw = audioop.lin2ulaw(pcm, 2)
    alaw = audioop.lin2alaw(pcm, 2)
    calls: dict[str, Callable[[], object]] = {
        "ulaw_encode": lambda: audioop.lin2ulaw(pcm, 2),
        "ulaw_decode": lambda: audioop.ulaw2lin(ulaw, 2),
        "alaw_encode": lambda: audioop.lin2alaw(pcm, 2),
        "alaw_decode": lambda: audioop.alaw2lin(alaw, 2),
        "ulaw_to_alaw": lambda: audioop.lin2alaw(audioop.ulaw2lin(ulaw, 2), 2),
        "alaw_to_ulaw": lambda: audioop.lin2ulaw(audioop.alaw2lin(alaw, 2), 2),
    }
    return {op: measure(call, samples, min_time, repeats) for op, call in calls.items()}


def import_clutchcall_core() -> ModuleType | None:
    """The pybind11 module: installed (the engine wheel), or a dev build under build/bindings."""
    for root in (None, REPO / "build" / "bindings" / "pkg", REPO / "build" / "bindings-dev" / "pkg"):
        if root is not None:
            if not (root / "clutchcall_core").is_dir():
                continue
            sys.path.insert(0, str(root))
        try:
            return importlib.import_module("clutchcall_core")
        except ImportError:
            if root is not None:
                sys.path.remove(str(root))
    return None


def per_call_ns(call: Callable[[], object], min_time: float, repeats: int) -> float:
    """Best nanoseconds per call (thread CPU time)."""
    return 1e3 / measure(call, 1, min_time, repeats)  # measure() gives M calls/s for samples=1


def print_frame_overhead(min_time: float, repeats: int) -> None:
    """Python per-frame cost of one 160-sample (20 ms at 8 kHz) frame: clutchcall_core vs audioop."""
    core = import_clutchcall_core()
    if core is None:
        print("Per-frame overhead: clutchcall_core is not importable (pip install the engine wheel, or")
        print("cmake -S bindings -B build/bindings -G Ninja && cmake --build build/bindings) -- skipped")
        return
    g711 = core.g711
    pcm = pcm_samples(160)
    ulaw = audioop.lin2ulaw(pcm, 2)
    out_pcm, out_codes = bytearray(320), bytearray(160)
    frames_pcm, frames_ulaw = [pcm] * 50, [ulaw] * 50
    rows = [
        ("ulaw_decode", lambda: audioop.ulaw2lin(ulaw, 2), lambda: g711.ulaw_decode(ulaw)),
        ("ulaw_decode out=", None, lambda: g711.ulaw_decode(ulaw, out=out_pcm)),
        ("ulaw_decode_batch/50", None, lambda: g711.ulaw_decode_batch(frames_ulaw)),
        ("ulaw_encode", lambda: audioop.lin2ulaw(pcm, 2), lambda: g711.ulaw_encode(pcm)),
        ("ulaw_encode out=", None, lambda: g711.ulaw_encode(pcm, out=out_codes)),
        ("ulaw_encode_batch/50", None, lambda: g711.ulaw_encode_batch(frames_pcm)),
    ]
    print(f"Per-frame Python call cost, one 160-sample frame, ns/frame (path {core.simd_level()})")
    header = f"{'call':<21} {'audioop':>9} {'clutchcall_core':>16} {'x audioop':>10}"
    print(header)
    print("-" * len(header))
    ref: dict[str, float] = {}
    for name, ref_call, call in rows:
        op = name.split()[0].split("_batch")[0]
        if ref_call is not None:
            ref[op] = per_call_ns(ref_call, min_time, repeats)
        ns = per_call_ns(call, min_time, repeats)
        if "_batch/" in name:
            ns /= int(name.rsplit("/", 1)[1])
        audioop_col = f"{ref[op]:>9.0f}" if ref_call is not None else f"{'':>9}"
        print(f"{name:<21} {audioop_col} {ns:>16.0f} {ref[op] / ns:>10.2f}")
    print("(x audioop > 1: clutchcall_core is cheaper per frame; batch rows are per frame of a 50-frame call)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", type=Path, help="prebuilt bench_g711 (default: build it)")
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD)
    parser.add_argument("--samples", type=int, default=4096, help="samples per call")
    parser.add_argument("--min-time", type=float, default=0.1, help="CPU seconds per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (best kept)")
    args = parser.parse_args()
    if args.samples <= 0 or args.min_time <= 0 or args.repeats <= 0:
        parser.error("--samples, --min-time and --repeats must be positive")

    binary = args.bin if args.bin is not None else build_binary(args.build_dir)
    if not binary.is_file():
        sys.exit(f"bench_g711.py: no benchmark binary at {binary}")
    core = run_core(binary, args.samples, args.min_time, args.repeats)
    ref = run_audioop(args.samples, args.min_time, args.repeats)
    paths = [p for p in ("scalar", "sse4.1", "avx2", "avx512bw") if (OPS[0], p) in core]

    print(f"G.711, {args.samples} samples per call, Msamples/s of thread CPU time, best of {args.repeats}")
    print(f"Python {sys.version.split()[0]}; audioop A<->mu rows are decode+encode (no direct call)")
    print()
    header = f"{'op':<13} {'path':<9} {'Msamples/s':>11} {'x scalar':>9} {'x audioop':>10}"
    print(header)
    print("-" * len(header))
    for op in OPS:
        print(f"{op:<13} {'audioop':<9} {ref[op]:>11.1f} {'':>9} {1.0:>10.2f}")
        for path in paths:
            rate = core[(op, path)]
            vs_scalar = rate / core[(op, "scalar")]
            print(f"{op:<13} {path:<9} {rate:>11.1f} {vs_scalar:>9.2f} {rate / ref[op]:>10.2f}")
    print()
    print("Note: audioop.lin2ulaw is not G.191 bit-exact (508 negative inputs differ); the core is.")
    print()
    print_frame_overhead(args.min_time, args.repeats)


if __name__ == "__main__":
    main()
