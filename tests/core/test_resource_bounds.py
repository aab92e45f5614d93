"""What the core asks of the machine, and the bounds it announces.

- The resampler's announced output bound holds for flush() at every supported rate pair, quality and
  channel count, whatever filter phase earlier input left, through the C ABI and the Python module.
- A jitter buffer of capacity 32768 x max_payload 65535 and an engine with max_calls 2**24 cost
  (almost) nothing at construction.
- Relay engine memory after construction grows linearly with the shard count, and settings it cannot
  honour are refused at once, naming the setting and the memory needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

RATES = (8000, 12000, 16000, 24000, 48000)
QUALITIES = range(11)
PRIOR = (0, 1, 7, 160, 479)  # frames processed before the flush: different filter phases
PORT_LO, PORT_HI = 23000, 23999


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_resample_flush_fits_the_announced_bound_cffi(ffi: ModuleType) -> None:
    lib, c = ffi.lib, ffi.ffi
    guard = 64
    for in_rate in RATES:
        for out_rate in RATES:
            for q in QUALITIES:
                for ch in (1, 2):
                    for prior in PRIOR:
                        where = f"{in_rate}->{out_rate} q{q} ch{ch} after {prior}"
                        h = c.new("cc_resample **")
                        assert lib.cc_resample_create(in_rate, out_rate, ch, q, h) == lib.CC_OK, where
                        r = c.gc(h[0], lib.cc_resample_destroy)
                        got = c.new("size_t *")
                        if prior:
                            pcm = c.new("int16_t[]", [1000] * (prior * ch))
                            out = c.new("int16_t[]", (prior * out_rate // in_rate + 8) * ch)
                            status = lib.cc_resample_process(r, pcm, prior, out, prior * out_rate // in_rate + 8, got)
                            assert status == lib.CC_OK, where
                        cap = c.new("size_t *")
                        assert lib.cc_resample_max_output(r, 0, cap) == lib.CC_OK
                        tail = c.new("int16_t[]", cap[0] * ch + guard)
                        for i in range(cap[0] * ch, cap[0] * ch + guard):
                            tail[i] = 0x5A5A
                        status = lib.cc_resample_flush(r, tail, cap[0], got)
                        assert status == lib.CC_OK, f"{where}: {c.string(lib.cc_strerror(status)).decode()}"
                        assert 0 < got[0] <= cap[0], where
                        assert all(tail[i] == 0x5A5A for i in range(cap[0] * ch, cap[0] * ch + guard)), where


def test_resample_flush_fits_the_announced_bound_python(core: ModuleType) -> None:
    for in_rate in RATES:
        for out_rate in RATES:
            for q in QUALITIES:
                for ch in (1, 2):
                    for prior in PRIOR:
                        r = core.resample.Resampler(in_rate, out_rate, ch, q)
                        r.process(b"\x10\x00" * prior * ch)
                        tail = r.flush()  # raised output_too_small at quality 10 downsampling before
                        bound = (r.input_latency * out_rate + in_rate - 1) // in_rate + 2
                        assert 0 < len(tail) <= bound * ch * 2, (in_rate, out_rate, q, ch, prior)


def test_large_jitter_buffer_costs_only_what_it_holds(core: ModuleType, ffi: ModuleType) -> None:
    before = rss_bytes()
    jb = core.jitter.JitterBuffer(capacity=32768, max_payload=65535)
    fjb = ffi.JitterBuffer(capacity=32768, max_payload=65535)
    grown = rss_bytes() - before
    assert grown < 32 << 20, f"{grown >> 20} MiB resident after constructing two 2 GiB-capable buffers"
    for b in (jb, fjb):
        b.insert(1, 160, 7, b"\xab" * 65535, 0)
        b.insert(2, 320, 7, b"\xcd" * 100, 20000)
    assert rss_bytes() - before < 48 << 20  # two slots written: a few pages each
    for b in (jb, fjb):
        b.insert(3, 480, 7, b"\xef" * 10, 40000)
        while True:
            f = b.tick()
            kind = f["kind"] if isinstance(f, dict) else f.kind
            if kind == "frame":
                payload = f["payload"] if isinstance(f, dict) else f.payload
                assert payload == b"\xab" * 65535
                break


def test_engine_with_max_calls_2_24_costs_nothing_up_front(core: ModuleType) -> None:
    before = rss_bytes()
    with core.relay.Engine(
        backend="recvmmsg", port_lo=PORT_LO, port_hi=PORT_HI, shards=1, pin=False, max_calls=2**24
    ) as engine:
        grown = rss_bytes() - before
        assert grown < 32 << 20, f"{grown >> 20} MiB"
        a = core.relay.Leg(local=("127.0.0.1", PORT_LO), remote=("127.0.0.1", 5000))
        b = core.relay.Leg(local=("127.0.0.1", PORT_LO + 1), remote=("127.0.0.1", 5002))
        engine.add_call(1, a, b)
        assert engine.call_ids() == [1]


# One engine per fresh process, so each figure is that engine's alone.
MEASURE = """
import json, os, sys
sys.path[:0] = json.loads(sys.argv[2])
import clutchcall_core
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
before = rss()
e = clutchcall_core.relay.Engine(backend="recvmmsg", port_lo=43000, port_hi=43999, shards=int(sys.argv[1]), pin=False)
print(json.dumps({"shards": e.shard_count, "rss": rss() - before}))
e.stop()
"""


def engine_rss(core: ModuleType, shards: int) -> int:
    paths = [str(Path(core.__file__).resolve().parents[1]), *sys.path]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(shards), json.dumps(paths)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["shards"] == shards
    return int(out["rss"])


def test_engine_memory_is_linear_in_shards(core: ModuleType) -> None:
    """Default handoff_depth 4096: a shard's inbound rings hold 4096 frags of 2 KiB together, so each
    shard adds about 8 MiB of rings (at most; pages untouched until used are not resident) plus its
    buffers, never shards^2 (before: 16 shards 2 GiB, 32 shards failed with bad_alloc at 6 GiB)."""
    rss = {n: engine_rss(core, n) for n in (1, 2, 4, 8, 16, 32)}
    print("engine RSS after construction (MiB):", {n: round(v / 2**20, 1) for n, v in rss.items()})
    per_shard = 10 << 20  # 8 MiB of rings (one shard has none) + buffers and a thread, generously
    for n, v in rss.items():
        assert v <= rss[1] + n * per_shard, f"{n} shards: {v >> 20} MiB"
    # Linear, not quadratic: the 16 shards from 16 to 32 cost per shard what the 8 from 8 to 16 did.
    assert (rss[32] - rss[16]) / 16 <= 1.5 * (rss[16] - rss[8]) / 8 + (1 << 20)


def test_engine_refuses_what_it_cannot_honour_at_once(core: ModuleType) -> None:
    def start(**kw: int) -> None:
        core.relay.Engine(backend="recvmmsg", port_lo=PORT_LO, port_hi=PORT_HI, pin=False, **kw)

    with pytest.raises(RuntimeError, match=r"handoff_depth must be a power of two in \[16, 262144\], got 100"):
        start(shards=2, handoff_depth=100)
    with pytest.raises(RuntimeError, match=r"handoff_depth 64 is too small for 6 shards.*use at least 128"):
        start(shards=6, handoff_depth=64)
    ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    need = 64 * 63 * (4096 * 32 + 4098 * 2048)  # 64 shards, rings of 2**18 / 64 frags
    if need <= ram:
        pytest.skip(f"this machine has {ram >> 20} MiB, enough for {need >> 20} MiB of rings")
    with pytest.raises(RuntimeError, match=r"handoff_depth 262144 with 64 shards needs \d+ MiB of hand-off rings"):
        start(shards=64, handoff_depth=2**18)
