"""Benchmark (b): the generated Python codec against upb, the official protobuf runtime.

One run, same data on both sides: encode, decode and field access for one realistic `Call`
and for a `ListCallsResponse` of 1,000 such calls. Each figure is the minimum over REPEATS
timeit runs (the least disturbed one), in ns per operation; ratio = ours / upb (lower is better
for us). Not a test: run it as a script.

    python benchmarks/bench_python_codec.py [--repeats N]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import platform
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from google.protobuf import __version__ as protobuf_version  # noqa: E402
from google.protobuf.internal import api_implementation  # noqa: E402

from apirpc_compiler.backends.base import all_backends  # noqa: E402
from apirpc_compiler.generate import produce, write_tree  # noqa: E402
from apirpc_compiler.pipeline import compile_idl  # noqa: E402


def _load_vectors_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_dto_vectors", ROOT / "tests" / "vectors" / "make_dto_vectors.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _load_sdk(out: Path) -> ModuleType:
    backends = all_backends()
    if "python" not in backends:
        raise SystemExit("the python backend is not registered")
    ir = compile_idl(str(ROOT / "api" / "clutchcall.json"), backends.values())
    write_tree(out, produce(ir, {"python": backends["python"]}, {}))
    sys.path.insert(0, str(out / "python"))
    return importlib.import_module("clutchcall.messages")


def _time(fn: Callable[[], Any], repeats: int, budget_s: float = 0.02) -> float:
    """Minimum ns per call over `repeats` runs, each long enough (about budget_s) to time well."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(1, int(number * budget_s / 0.2))
    return min(timer.repeat(repeat=repeats, number=number)) / number * 1e9


def _read_call(c: Any) -> tuple[Any, ...]:
    # Works on both: the generated classes spell `from` as `from_`, upb only via getattr.
    return (
        c.sid,
        c.status,
        c.audio.sample_rate,
        c.agent.turn_detection.vad.threshold,
        c.agent.metadata[0].value,
        c.quality.mos,
        c.quality.level_dbov[-1],
        c.created_at_ms,
        c.answered_at_ms,
    )


def _read_list(resp: Any) -> int:
    n = 0
    for c in resp.calls:
        n += c.status + c.audio.sample_rate + len(c.sid)
    return n


def _fmt_ns(ns: float) -> str:
    return f"{ns / 1e6:,.2f} ms" if ns >= 1e6 else f"{ns / 1e3:,.2f} us" if ns >= 1e4 else f"{ns:,.0f} ns"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=15, help="timeit runs per figure; the minimum is reported")
    args = ap.parse_args()

    vec = _load_vectors_module()
    upb, _ = vec.load_message_classes()
    with tempfile.TemporaryDirectory() as tmp:
        msgs = _load_sdk(Path(tmp))
        upb_call = vec.realistic_call(upb)
        upb_list = vec.realistic_list(upb, 1000)
        call_bytes = upb_call.SerializeToString(deterministic=True)
        list_bytes = upb_list.SerializeToString(deterministic=True)
        ours_call = msgs.Call.decode(call_bytes)
        ours_list = msgs.ListCallsResponse.decode(list_bytes)
        # Same data on both sides, and both codecs agree on it.
        assert ours_call.encode() == call_bytes and ours_list.encode() == list_bytes
        assert _read_call(ours_call) == _read_call(upb_call)
        assert _read_list(ours_list) == _read_list(upb_list)

        UpbCall, UpbList = upb["Call"], upb["ListCallsResponse"]
        rows: list[tuple[str, str, Callable[[], Any], Callable[[], Any]]] = [
            ("Call", "encode", ours_call.encode, lambda: upb_call.SerializeToString()),
            ("Call", "decode", lambda: msgs.Call.decode(call_bytes), lambda: UpbCall.FromString(call_bytes)),
            ("Call", "read 9 fields", lambda: _read_call(ours_call), lambda: _read_call(upb_call)),
            (
                "Call",
                "decode + read",
                lambda: _read_call(msgs.Call.decode(call_bytes)),
                lambda: _read_call(UpbCall.FromString(call_bytes)),
            ),
            ("List x1000", "encode", ours_list.encode, lambda: upb_list.SerializeToString()),
            (
                "List x1000",
                "decode",
                lambda: msgs.ListCallsResponse.decode(list_bytes),
                lambda: UpbList.FromString(list_bytes),
            ),
            ("List x1000", "read 3 fields/call", lambda: _read_list(ours_list), lambda: _read_list(upb_list)),
        ]

        print(
            f"python {platform.python_version()} ({platform.machine()}), protobuf {protobuf_version}, "
            f"runtime implementation: {api_implementation.Type()}"
        )
        print(
            f"Call: {len(call_bytes)} bytes; ListCallsResponse: {len(list_bytes):,} bytes (1,000 calls); "
            f"min of {args.repeats} runs"
        )
        print()
        header = f"{'message':<11} {'operation':<19} {'generated':>12} {'upb':>12} {'ours/upb':>9}"
        print(header)
        print("-" * len(header))
        for msg_name, op, ours_fn, upb_fn in rows:
            ours_ns = _time(ours_fn, args.repeats)
            upb_ns = _time(upb_fn, args.repeats)
            print(f"{msg_name:<11} {op:<19} {_fmt_ns(ours_ns):>12} {_fmt_ns(upb_ns):>12} {ours_ns / upb_ns:>8.2f}x")


if __name__ == "__main__":
    main()
