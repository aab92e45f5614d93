"""Benchmark: the generated Python wire codecs (MoQT data and control streams, the RPC envelope
stream) against a peer copy of the same package, in one process, interleaved.

The peer is another `generated/python` tree (for example the package as it was before a change
to the python backend: `git archive REV generated/python | tar -x -C /tmp/peer`). Both trees are
imported side by side (each its own `clutchcall` module objects) and each case is timed
alternately, keeping the minimum of `--repeats` timeit runs; the ratio is ours / peer (below 1:
ours is faster). `--rounds N` repeats the whole measurement N times, ours first in one round and
the peer first in the next, and prints each round and the medians. `--count CASE --calls N` runs
one case of one tree untimed, for an instruction counter (load-independent on a shared machine).
Not a test: run it as a script.

    python benchmarks/bench_python_wire.py --peer /tmp/peer/generated/python [--repeats 40] [--rounds 5]
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benchmarks/bench_python_wire.py --ours TREE --count encode_data_object --calls 200
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ITEMS = 100  # items per timed call; figures are per item


def _load(root: Path) -> tuple[ModuleType, ModuleType]:
    """Import `clutchcall.wire` from `root` as fresh module objects (the previous import stays usable)."""
    for name in [k for k in sys.modules if k == "clutchcall" or k.startswith("clutchcall.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module("clutchcall.wire.moqt_d14"), importlib.import_module("clutchcall.wire.envelope")
    finally:
        sys.path.remove(str(root))


class _Payload:
    def encode(self) -> bytes:
        return bytes(64)


def _cases(moqt: Any, env: Any) -> dict[str, Callable[[], object]]:
    header = moqt.SubgroupHeader(type_=0x10, track_alias=1, group_id=2, publisher_priority=3)
    obj = moqt.SubgroupObject(object_id_delta=0, payload=bytes(160))
    stream = moqt.encode_data(header, [obj] * ITEMS)
    head, one = header.encode(), moqt.encode_data_object(header, obj)
    request = moqt.MaxRequestId(request_id=100)
    control = moqt.encode_control(request) * ITEMS
    rpc = env.encode_rpc(env.Envelope.request(7, 1, _Payload())) * ITEMS

    def data_one_feed() -> None:
        parser = moqt.DataParser()
        parser.feed(stream)
        parser.close()

    def data_feed_per_object() -> None:
        parser = moqt.DataParser()
        parser.feed(head)
        for _ in range(ITEMS):
            parser.feed(one)
        parser.close()

    def control_one_feed() -> None:
        parser = moqt.ControlParser()
        parser.feed(control)
        parser.close()

    def rpc_one_feed() -> None:
        parser = env.RpcParser()
        parser.feed(rpc)
        parser.close()

    def encode_objects() -> None:
        for _ in range(ITEMS):
            moqt.encode_data_object(header, obj)

    def encode_frames() -> None:
        for _ in range(ITEMS):
            moqt.encode_control(request)

    return {
        "data: 160-byte objects, one feed": data_one_feed,
        "data: one feed per object": data_feed_per_object,
        "control: frames, one feed": control_one_feed,
        "rpc: 64-byte envelopes, one feed": rpc_one_feed,
        "encode_data_object": encode_objects,
        "encode_control": encode_frames,
    }


def _round(
    ours: dict[str, Callable[[], object]], peer: dict[str, Callable[[], object]], repeats: int, flip: bool
) -> dict[str, tuple[float, float]]:
    """Per case, (ours, peer) seconds per item: the minimum of `repeats` timeit runs, the two sides
    alternating (the peer first when `flip`)."""
    best = {name: [float("inf"), float("inf")] for name in ours}
    sides = [(1, peer), (0, ours)] if flip else [(0, ours), (1, peer)]
    for _ in range(repeats):
        for name in ours:
            for side, cases in sides:
                best[name][side] = min(best[name][side], timeit.timeit(cases[name], number=20) / 20 / ITEMS)
    return {name: (a, b) for name, (a, b) in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", type=Path, help="the other generated/python tree")
    parser.add_argument("--ours", type=Path, default=ROOT / "generated" / "python")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=1, help="whole measurements, each side first in turn; medians")
    parser.add_argument("--count", metavar="CASE", help="no timing: call the case of --ours whose name starts so")
    parser.add_argument("--calls", type=int, default=100, help="with --count: how many times (each ITEMS items)")
    args = parser.parse_args()
    if args.count is not None:
        # for an instruction counter: `valgrind --tool=callgrind` at two --calls, the difference / (calls * ITEMS)
        found = [f for name, f in _cases(*_load(args.ours)).items() if name.startswith(args.count)]
        if len(found) != 1:
            parser.error(f"--count {args.count!r} names {len(found)} cases")
        for _ in range(args.calls):
            found[0]()
        return
    if args.peer is None:
        parser.error("--peer is needed to time")
    ours, peer = _cases(*_load(args.ours)), _cases(*_load(args.peer))
    rounds = [_round(ours, peer, args.repeats, flip=i % 2 == 1) for i in range(args.rounds)]
    print(f"python {sys.version.split()[0]}; ours: {args.ours}; peer: {args.peer}; min of {args.repeats} runs")
    print(f"{'case':34s} {'ours':>10s} {'peer':>10s} {'ours/peer':>10s}" + ("  per round" if args.rounds > 1 else ""))
    for name in ours:
        a = statistics.median(r[name][0] for r in rounds)
        b = statistics.median(r[name][1] for r in rounds)
        ratio = statistics.median(r[name][0] / r[name][1] for r in rounds)
        each = " ".join(f"{r[name][0] * 1e9:.0f}/{r[name][1] * 1e9:.0f}" for r in rounds) if args.rounds > 1 else ""
        print(f"{name:34s} {a * 1e9:8.0f}ns {b * 1e9:8.0f}ns {ratio:9.2f}x  {each}".rstrip())
    if args.rounds > 1:
        print(f"(medians over {args.rounds} rounds; per round: ours/peer ns an item)")


if __name__ == "__main__":
    main()
