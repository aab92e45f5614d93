"""The barge mixing's cost per 20 ms tick (engine/clutchcall_engine/sip/conference.py), beside the core's
Transcoder converting the same streams per tick (call to supervisor, supervisor to call, and one in the
call's codec; a pair of equal codecs is its passthrough) without mixing.

    PYTHONPATH=build/bindings/pkg python benchmarks/calls/bench_conference.py [--ticks N] [--repeats R]

Per row: microseconds of CPU per tick (the minimum of R runs of N ticks), the ratio to the peer, and how
many barged calls one core could mix in real time (20 ms / tick cost).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from clutchcall import BargeMode, Codec
from clutchcall_engine.sip.conference import Mixer


def frames(codec: int, count: int, seed: int) -> list[bytes]:
    import clutchcall_core.g711 as g711
    import clutchcall_core.opus as opus

    rng = np.random.default_rng(seed)
    if codec == Codec.OPUS:
        encoder = opus.Encoder(48000, 1, 20)
        return [encoder.encode(rng.normal(0, 4000, 960).astype("<i2").tobytes()) for _ in range(count)]
    encode = g711.ulaw_encode if codec == Codec.G711_ULAW else g711.alaw_encode
    return [encode(rng.normal(0, 4000, 160).astype("<i2").tobytes()) for _ in range(count)]


def cpu_per_tick(step: Callable[[int], object], ticks: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for k in range(ticks):
            step(k)
        best = min(best, (time.process_time() - start) / ticks)
    return best


def main() -> None:
    from clutchcall_core.transcode import Transcoder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    pool = 50
    rows = []
    for label, call_codec, supervisor_codec in (
        ("PCMU call, PCMU supervisor", Codec.G711_ULAW, Codec.G711_ULAW),
        ("PCMU call, PCMA supervisor", Codec.G711_ULAW, Codec.G711_ALAW),
        ("PCMU call, Opus supervisor", Codec.G711_ULAW, Codec.OPUS),
    ):
        caller, agent = frames(call_codec, pool, 1), frames(call_codec, pool, 2)
        supervisor = frames(supervisor_codec, pool, 3)
        mixer = Mixer(BargeMode.BARGE, call_codec, supervisor_codec)
        ours = cpu_per_tick(
            lambda k, m=mixer, c=caller, a=agent, s=supervisor: m.tick(c[k % pool], a[k % pool], s[k % pool]),
            args.ticks,
            args.repeats,
        )
        # the peer: the same three conversions per tick (two in the call's codec, one in the supervisor's)
        shape = {Codec.G711_ULAW: "g711_ulaw", Codec.G711_ALAW: "g711_alaw", Codec.OPUS: "opus"}
        rate = {Codec.G711_ULAW: 8000, Codec.G711_ALAW: 8000, Codec.OPUS: 48000}
        to_supervisor = Transcoder(
            {"codec": shape[call_codec], "sample_rate": rate[call_codec]},
            {"codec": shape[supervisor_codec], "sample_rate": rate[supervisor_codec]},
        )
        from_supervisor = Transcoder(
            {"codec": shape[supervisor_codec], "sample_rate": rate[supervisor_codec]},
            {"codec": shape[call_codec], "sample_rate": rate[call_codec]},
        )
        other = "g711_alaw" if call_codec == Codec.G711_ULAW else "g711_ulaw"
        within_call = Transcoder(
            {"codec": shape[call_codec]} | {"sample_rate": 8000}, {"codec": other, "sample_rate": 8000}
        )

        conversions = ((to_supervisor, caller), (from_supervisor, supervisor), (within_call, caller))
        peer = cpu_per_tick(
            lambda k, steps=conversions: [t.process(f[k % pool]) for t, f in steps], args.ticks, args.repeats
        )
        rows.append((label, ours, peer))
    header = ("barge mode, 3 listeners per tick", "ours us/tick", "peer us/tick", "ours/peer", "calls/core")
    print(f"{header[0]:32} {header[1]:>12} {header[2]:>12} {header[3]:>9} {header[4]:>10}")
    for label, ours, peer in rows:
        print(f"{label:32} {ours * 1e6:12.1f} {peer * 1e6:12.1f} {ours / peer:9.2f} {0.02 / ours:10.0f}")
    print("peer: clutchcall_core.transcode.Transcoder on the same streams (equal codecs: passthrough), no mixing")


if __name__ == "__main__":
    main()
