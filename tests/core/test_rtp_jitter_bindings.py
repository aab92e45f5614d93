"""RTP parse/build and the jitter buffer through the pybind11 module and the C ABI (cffi): the
same packets and the same tick sequences, and errors that name their reason."""

from __future__ import annotations

import random
from types import ModuleType
from typing import Any

import pytest

FIELDS = ["marker", "payload_type", "sequence", "timestamp", "ssrc", "csrc", "extension_profile", "extension"]


def need(core: ModuleType, component: str) -> None:
    if component not in core.components:
        pytest.skip(f"component {component} not built")


CASES = [
    {"payload": b"\x01\x02\x03", "payload_type": 0, "sequence": 1, "timestamp": 160, "ssrc": 0x11223344},
    {
        "payload": bytes(range(160)),
        "payload_type": 111,
        "sequence": 65535,
        "timestamp": 0xFFFFFFFF,
        "ssrc": 7,
        "marker": True,
        "csrc": [1, 2, 0xDEADBEEF],
        "extension_profile": 0xBEDE,
        "extension": b"\x10\xaa\x00\x00",
        "padding_len": 4,
    },
    {"payload": b"", "payload_type": 8, "sequence": 0, "timestamp": 0, "ssrc": 0, "csrc": list(range(15))},
]


@pytest.mark.parametrize("case", CASES)
def test_rtp_build_parse_agree(core: ModuleType, ffi: ModuleType, case: dict[str, object]) -> None:
    need(core, "rtp")
    kwargs = {k: v for k, v in case.items() if k != "payload"}
    a = core.rtp.build(case["payload"], **kwargs)
    b = ffi.rtp_write(case["payload"], **kwargs)
    assert a == b
    p, q = core.rtp.parse(a), ffi.rtp_read(a)
    for field in FIELDS:
        assert getattr(p, field) == q[field], field
    assert p.payload == q["payload"] == case["payload"]
    assert p.padding_len == q["padding_len"] == case.get("padding_len", 0)
    assert p.header_len == q["header_len"]
    assert p.sequence == case["sequence"] and p.csrc == list(case.get("csrc", []))  # type: ignore[call-overload]


def test_rtp_golden_bytes(core: ModuleType) -> None:
    need(core, "rtp")
    packet = core.rtp.build(
        b"\xff", payload_type=0, sequence=0x1234, timestamp=0x01020304, ssrc=0xCAFEBABE, marker=True
    )
    assert packet == bytes.fromhex("80 80 1234 01020304 cafebabe ff")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "truncated"),
        (b"\x80\x00\x00", "truncated"),
        (bytes.fromhex("40000000000000000000000000"), "bad_version"),
        (bytes.fromhex("82000000000000000000000000"), "truncated_csrc"),
        (bytes.fromhex("90000000000000000000000000beed0001"), "truncated_extension"),
        (bytes.fromhex("a000000000000000000000000000"), "bad_padding"),
    ],
)
def test_rtp_errors_name_the_reason(core: ModuleType, ffi: ModuleType, data: bytes, reason: str) -> None:
    need(core, "rtp")
    with pytest.raises(ValueError, match=f"rtp: {reason}"):
        core.rtp.parse(data)
    with pytest.raises(ffi.FfiError, match=reason):
        ffi.rtp_read(data)


def test_rtp_fuzzed_inputs_agree(core: ModuleType, ffi: ModuleType) -> None:
    need(core, "rtp")
    rng = random.Random(4)
    for _ in range(3000):
        data = bytes([0x80 | rng.randrange(0x40)]) + rng.randbytes(rng.randrange(40))
        try:
            p = core.rtp.parse(data)
        except ValueError as e:
            with pytest.raises(ffi.FfiError) as info:
                ffi.rtp_read(data)
            assert str(e).removeprefix("rtp: ") == info.value.name
            continue
        q = ffi.rtp_read(data)
        assert [getattr(p, f) for f in FIELDS] == [q[f] for f in FIELDS]
        assert p.payload == q["payload"]


def scenario(rng: random.Random) -> list[tuple[int, int, bytes, int]]:
    """(sequence, timestamp, payload, arrival_us) with jitter, reordering, duplicates and a wrap."""
    events = []
    for i in range(300):
        seq = (65500 + i) & 0xFFFF
        arrival = i * 20_000 + rng.randrange(0, 30_000)
        events.append((seq, i * 160, bytes([i & 0xFF]) * 20, arrival))
        if rng.random() < 0.05:
            events.append((seq, i * 160, bytes([i & 0xFF]) * 20, arrival + 1000))  # duplicate
    events = [e for e in events if rng.random() > 0.03]  # losses
    return sorted(events, key=lambda e: e[3])


def test_jitter_buffer_agrees(core: ModuleType, ffi: ModuleType) -> None:
    need(core, "jitter")
    a, b = core.jitter.JitterBuffer(), ffi.JitterBuffer()
    events = scenario(random.Random(9))
    kinds = []
    t, i = 0, 0
    while t < 300 * 20_000 + 200_000:
        while i < len(events) and events[i][3] <= t:
            seq, ts, payload, arrival = events[i]
            assert a.insert(seq, ts, 42, payload, arrival) == b.insert(seq, ts, 42, payload, arrival)
            i += 1
        fa, fb = a.tick(), b.tick()
        assert fa.kind == fb["kind"] and fa.payload == fb["payload"]
        if fa.kind != "wait":
            assert fa.sequence == fb["sequence"] and fa.ext_seq == fb["ext_seq"]
        kinds.append(fa.kind)
        t += 20_000
    assert a.stats() == b.stats()
    stats = a.stats()
    assert kinds.count("frame") == stats["released"] > 250
    assert stats["duplicates"] > 0 and 2 <= stats["target_depth"] <= 6
    released = [k for k in kinds if k == "frame"]
    assert len(released) == stats["released"]


def target_depths(jb: Any, events: list[tuple[int, int, bytes, int]]) -> list[int]:
    """The buffer's target depth after each tick of `events` played in real time."""
    seen, t, i = [], 0, 0
    while t < 300 * 20_000:
        while i < len(events) and events[i][3] <= t:
            seq, ts, payload, arrival = events[i]
            jb.insert(seq, ts, 42, payload, arrival)
            i += 1
        jb.tick()
        seen.append(jb.stats()["target_depth"])
        t += 20_000
    return seen


def test_jitter_target_quantile_setting(core: ModuleType, ffi: ModuleType) -> None:
    """The target covers the asked quantile of the packets' relative delay: a higher one holds more frames.

    The C ABI takes the quantile through cc_jbuf_create_quantile and must follow it tick for tick."""
    need(core, "jitter")
    events = scenario(random.Random(9))
    targets: dict[int, list[int]] = {}
    for permille in (500, 999):
        shape = {"initial_depth": 2, "max_depth": 10}
        targets[permille] = target_depths(core.jitter.JitterBuffer(target_quantile_permille=permille, **shape), events)
        via_abi = target_depths(ffi.JitterBuffer(target_quantile_permille=permille, **shape), events)
        assert via_abi == targets[permille]
    assert max(targets[500]) < max(targets[999])
    assert all(lo <= hi for lo, hi in zip(targets[500], targets[999], strict=True))
    default = target_depths(ffi.JitterBuffer(initial_depth=2, max_depth=10), events)
    assert default == target_depths(core.jitter.JitterBuffer(initial_depth=2, max_depth=10), events)
    for bad in (499, 1000):
        with pytest.raises(ffi.FfiError, match="invalid_arg"):
            ffi.JitterBuffer(target_quantile_permille=bad)


def test_jitter_insert_rtp_and_errors(core: ModuleType, ffi: ModuleType) -> None:
    need(core, "jitter")
    a, b = core.jitter.JitterBuffer(max_payload=100), ffi.JitterBuffer(max_payload=100)
    packet = core.rtp.build(b"x" * 10, payload_type=0, sequence=5, timestamp=800, ssrc=9)
    assert a.insert_rtp(packet, 0) == b.insert_rtp(packet, 0) == "inserted"
    assert a.insert_rtp(packet, 10) == b.insert_rtp(packet, 10) == "duplicate"
    with pytest.raises(ValueError, match="jitter: too_large"):
        a.insert(6, 960, 9, b"x" * 101, 20_000)
    with pytest.raises(ffi.FfiError, match="input_too_large"):
        b.insert(6, 960, 9, b"x" * 101, 20_000)
    with pytest.raises(ValueError, match="rtp: truncated"):
        a.insert_rtp(b"\x80", 0)
    with pytest.raises(ValueError, match=r"capacity: 100 is not a power of two in 16\.\.32768"):
        core.jitter.JitterBuffer(capacity=100)
    with pytest.raises(ffi.FfiError, match="invalid_arg"):
        ffi.JitterBuffer(capacity=100)
    with pytest.raises(TypeError, match="unknown setting 'depth'"):
        core.jitter.JitterBuffer(depth=3)
