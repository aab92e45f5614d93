"""Many threads on one object of every stateful kind, through the pybind11 module and the C ABI.

The contract (stubs, C header, READMEs): every object is safe to share; calls on one object run one
after another, each as if alone. With the same input on every call, the k-th call in lock order
returns what the k-th call of a single-threaded run returns, so the outputs of all threads together,
as a multiset, must equal the single-threaded outputs. Before the locks, sharing a Resampler crashed
the process and sharing an Opus object aborted inside libopus.

The same kinds are hammered in C++ under ThreadSanitizer (core/shared/threads_test.cc, and the relay
control in core/relay/relay_test.cc).
"""

from __future__ import annotations

import math
import struct
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

THREADS = 8
# Loopback, below the kernel's ephemeral range (32768-60999): sockets other tests open on port 0 never take these.
PORT_LO, PORT_HI = 21000, 21999


@pytest.fixture(autouse=True)
def frequent_switches() -> Iterator[None]:
    """Switch threads every 10 us, so Python-level interleavings are many."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def tone(frames: int, rate: int) -> bytes:
    return b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(frames))


def run_threads(work: Callable[[int], None], n: int = THREADS) -> None:
    """Runs work(t) on n threads started together; re-raises the first failure."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def body(t: int) -> None:
        try:
            barrier.wait()
            work(t)
        except BaseException as e:  # handed to the main thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(t,)) for t in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]


def expect_serialized(make: Callable[[], Any], step: Callable[[Any], Any], calls: int) -> None:
    """`calls` calls of step: alone on one object, then spread over THREADS threads on another."""
    alone_obj = make()
    alone = [repr(step(alone_obj)) for _ in range(calls)]
    shared = make()
    got: list[list[str]] = [[] for _ in range(THREADS)]

    def work(t: int) -> None:
        for _ in range(t, calls, THREADS):
            got[t].append(repr(step(shared)))

    run_threads(work)
    together = [r for g in got for r in g]
    assert Counter(together) == Counter(alone)
    assert len(set(alone)) > 1  # the outputs depend on the call's position: the check can fail


PCM441 = tone(441, 48000)  # not a whole number of output periods: the filter phase moves
PCM960 = tone(960, 48000)
PCM160 = tone(160, 8000)
OPUS48 = {"codec": "opus", "sample_rate": 48000, "channels": 1, "frame_ms": 20}
PCM8K = {"codec": "pcm16", "sample_rate": 8000, "channels": 1, "frame_ms": 20}


def opus_packet(core: ModuleType) -> bytes:
    enc = core.opus.Encoder(48000, 1, 20)
    for _ in range(4):
        enc.encode(PCM960)
    packet: bytes = enc.encode(PCM960)
    return packet


def test_shared_resampler(core: ModuleType, ffi: ModuleType) -> None:
    for make in (lambda: core.resample.Resampler(48000, 16000), lambda: ffi.Resampler(48000, 16000)):
        expect_serialized(make, lambda r: r.process(PCM441), 400)


def test_shared_opus_encoder(core: ModuleType, ffi: ModuleType) -> None:
    for make in (lambda: core.opus.Encoder(48000, 1, 20), lambda: ffi.OpusEncoder(48000, 1, 20)):
        expect_serialized(make, lambda e: e.encode(PCM960), 120)


def test_shared_opus_decoder(core: ModuleType, ffi: ModuleType) -> None:
    packet = opus_packet(core)

    def fed(d: Any) -> Any:  # concealment after real audio fades out call by call
        d.decode(packet)
        return d

    for make in (lambda: core.opus.Decoder(48000), lambda: ffi.OpusDecoder(48000)):
        expect_serialized(make, lambda d: d.decode(packet), 160)
        expect_serialized(lambda make=make: fed(make()), lambda d: d.decode_lost(960), 80)


def test_shared_transcoder(core: ModuleType, ffi: ModuleType) -> None:
    for make in (lambda: core.transcode.Transcoder(PCM8K, OPUS48), lambda: ffi.Transcoder(PCM8K, OPUS48)):
        expect_serialized(make, lambda t: t.process(PCM160), 120)


def frame_of(f: Any) -> tuple[str, int, bytes | None]:
    """(kind, ext_seq, payload) of a tick, from either binding."""
    if isinstance(f, dict):
        return f["kind"], f["ext_seq"], f["payload"]
    return f.kind, f.ext_seq, f.payload


@pytest.mark.parametrize("binding", ["pybind11", "cffi"])
def test_shared_jitter_buffer(core: ModuleType, ffi: ModuleType, binding: str) -> None:
    """Inserters and tickers on one buffer: each frame carries its own sequence number as payload, no
    frame comes out twice, and the counters obey the buffer's conservation law."""
    jb = core.jitter.JitterBuffer() if binding == "pybind11" else ffi.JitterBuffer()
    inserters, packets = 4, 4000
    released: list[int] = []
    bad: list[tuple[int, bytes | None]] = []

    def work(t: int) -> None:
        if t < inserters:
            for i in range(t, packets, inserters):
                jb.insert(i & 0xFFFF, i * 160, 7, struct.pack("<I", i), i * 20000)
        else:
            for _ in range(packets // (THREADS - inserters)):
                kind, ext, payload = frame_of(jb.tick())
                if kind == "frame":
                    released.append(ext)
                    if payload is None or struct.unpack("<I", payload)[0] & 0xFFFF != ext & 0xFFFF:
                        bad.append((ext, payload))

    run_threads(work)
    assert bad == []
    assert len(released) == len(set(released)), "a frame was released twice"
    s = jb.stats()
    assert s["received"] == packets
    assert s["received"] == (
        s["released"] + s["late_losses"] + s["duplicates"] + s["reset_dropped"] + s["discarded"] + s["buffered"]
    )
    assert s["released"] == len(released) > 0


def test_stateless_calls_from_many_threads(core: ModuleType, ffi: ModuleType) -> None:
    """RTP, G.711 and the generated codecs keep no state: concurrent calls give the single-threaded results."""
    rtp = core.rtp.build(b"\x01\x02\x03", payload_type=0, sequence=7, timestamp=160, ssrc=9)
    ulaw = core.g711.ulaw_encode(PCM960)
    names = core.codec.message_names() if "codec" in core.components else []
    jsons = {n: core.codec.message_to_json(n, b"") for n in names[:20]}

    def work(_t: int) -> None:
        for i in range(200):
            assert core.rtp.build(b"\x01\x02\x03", payload_type=0, sequence=7, timestamp=160, ssrc=9) == rtp
            assert core.rtp.parse(rtp).payload == b"\x01\x02\x03"
            assert core.g711.ulaw_encode(PCM960) == ulaw
            assert ffi.ulaw_encode(PCM960) == ulaw
            name = names[i % len(names)] if jsons else None
            if name in jsons:
                assert core.codec.message_to_json(name, b"") == jsons[name]

    run_threads(work)


def leg(port: int) -> dict[str, Any]:
    return {"local": ("127.0.0.1", port), "remote": ("127.0.0.1", 5000), "codec": "g711_ulaw"}


@pytest.mark.parametrize("binding", ["pybind11", "cffi"])
def test_shared_relay_engine_control(core: ModuleType, ffi: ModuleType, binding: str) -> None:
    """Adds, removes and stats readers race; every call ends where its thread left it. Then stop()
    races with itself and with more adds, which are refused by name (never a crash)."""
    if binding == "pybind11":
        engine = core.relay.Engine(backend="recvmmsg", port_lo=PORT_LO, port_hi=PORT_HI, shards=2, pin=False)

        def add(cid: int, port: int) -> None:
            a, b = leg(port), leg(port + 1)
            engine.add_call(cid, core.relay.Leg(**a), core.relay.Leg(**b))

        stopped: tuple[type[BaseException], ...] = (ValueError, RuntimeError)
    else:
        engine = ffi.RelayEngine(backend="recvmmsg", port_lo=PORT_LO, port_hi=PORT_HI, shards=2, pin=0)

        def add(cid: int, port: int) -> None:
            engine.add_call(cid, leg(port), leg(port + 1))

        stopped = (ffi.FfiError,)
    per_thread = 30

    def work(t: int) -> None:
        for i in range(per_thread):
            k = t * per_thread + i
            add(k + 1, PORT_LO + 2 * k)
            assert engine.call_stats(k + 1)["id"] == k + 1
            assert len(engine.shard_stats()) == 2
            if i % 2:
                engine.remove_call(k)  # the previous (even) one: the odd ones stay

    run_threads(work)
    expect = sorted(t * per_thread + i + 1 for t in range(THREADS) for i in range(1, per_thread, 2))
    assert engine.call_ids() == expect
    assert sum(s["calls"] for s in engine.shard_stats()) == len(expect)

    def race(t: int) -> None:
        if t < 2:
            engine.stop()
            return
        for i in range(10):
            k = 1000 + t * 10 + i
            try:
                add(k, PORT_LO + 2 * (k - 700))
            except stopped as e:
                assert "stopped" in str(e), str(e)

    run_threads(race)
    with pytest.raises(stopped, match="stopped"):
        add(5000, PORT_LO + 900)
