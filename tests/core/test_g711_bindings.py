"""clutchcall_core.g711 (pybind11) and the C ABI (cffi): bit-exact to the ITU-T G.191 vectors on
every SIMD path, exhaustively, and equal to each other; buffer-protocol variants, out=, batch
calls, errors, and GIL release."""

from __future__ import annotations

import array
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

OPS = ["ulaw_encode", "ulaw_decode", "alaw_encode", "alaw_decode", "ulaw_to_alaw", "alaw_to_ulaw"]
ALL_PCM = b"".join(v.to_bytes(2, "little", signed=True) for v in range(-32768, 32768))
ALL_CODES = bytes(range(256))


def low_bytes(words: bytes) -> bytes:
    """The G.191 code files store each code byte in a little-endian 16-bit word."""
    return words[0::2]


@pytest.fixture(scope="module")
def vectors(g711_reference: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in g711_reference.iterdir() if p.name.startswith("sweep")}


@pytest.fixture(params=["scalar", "sse4.1", "avx2", "avx512bw"])
def level(request: pytest.FixtureRequest, core: ModuleType, ffi: ModuleType) -> Iterator[str]:
    """Force one SIMD path in BOTH libraries (each links its own copy of the core)."""
    name: str = request.param
    if name not in core.g711.supported_simd_levels():
        pytest.skip(f"{name} not supported on this CPU")
    core.g711.force_simd_level(name)
    ffi.force_simd_level(name)
    try:
        yield name
    finally:
        core.g711.reset_simd_level()
        ffi.reset_simd_level()


def test_surface(core: ModuleType) -> None:
    import clutchcall_core.g711 as g711_mod  # the exact import path

    for op in OPS:
        assert callable(getattr(g711_mod, op))
    assert core.simd_level() in {"scalar", "sse4.1", "avx2", "avx512bw"}
    assert core.simd_level() == core.g711.supported_simd_levels()[-1]


def test_forced_level_is_reported(core: ModuleType, ffi: ModuleType, level: str) -> None:
    assert core.simd_level() == level
    assert core.g711.simd_level() == level
    assert ffi.simd_level() == level


@pytest.mark.parametrize("impl", ["pybind11", "cffi"])
def test_itu_vectors_every_path(
    core: ModuleType, ffi: ModuleType, vectors: dict[str, bytes], level: str, impl: str
) -> None:
    g = core.g711 if impl == "pybind11" else ffi
    src = vectors["sweep.src"]
    assert src == ALL_PCM  # the sweep is every 16-bit value once: exhaustive encode
    ulaw, alaw = low_bytes(vectors["sweep-r.u"]), low_bytes(vectors["sweep-r.a"])
    assert set(ulaw) == set(range(256)) and set(alaw) == set(range(256))  # every code decoded
    assert g.ulaw_encode(src) == ulaw
    assert g.alaw_encode(src) == alaw
    assert g.ulaw_decode(ulaw) == vectors["sweep-r.u-u"]
    assert g.alaw_decode(alaw) == vectors["sweep-r.a-a"]
    # Direct conversions are defined as decode-then-encode through the reference.
    assert g.ulaw_to_alaw(ALL_CODES) == g.alaw_encode(g.ulaw_decode(ALL_CODES))
    assert g.alaw_to_ulaw(ALL_CODES) == g.ulaw_encode(g.alaw_decode(ALL_CODES))


def test_pybind11_equals_cffi_every_path(core: ModuleType, ffi: ModuleType, level: str) -> None:
    for op in ("ulaw_encode", "alaw_encode"):
        assert getattr(core.g711, op)(ALL_PCM) == getattr(ffi, op)(ALL_PCM), op
    for op in ("ulaw_decode", "alaw_decode", "ulaw_to_alaw", "alaw_to_ulaw"):
        assert getattr(core.g711, op)(ALL_CODES) == getattr(ffi, op)(ALL_CODES), op


def test_lengths_and_empty(core: ModuleType) -> None:
    g = core.g711
    ref = g.ulaw_encode(ALL_PCM[:2000])
    for n in (0, 1, 7, 31, 32, 33, 63, 64, 65, 159, 160, 161, 999):
        assert g.ulaw_encode(ALL_PCM[: 2 * n]) == ref[:n]
        assert g.ulaw_decode(ref[:n]) == g.ulaw_decode(ref)[: 2 * n]
    assert g.alaw_decode(b"") == b""


def test_buffer_protocol_variants(core: ModuleType) -> None:
    g = core.g711
    pcm = ALL_PCM[: 2 * 320]
    want = g.ulaw_encode(pcm)
    samples = array.array("h", pcm)  # native int16 (little-endian here)
    assert g.ulaw_encode(bytearray(pcm)) == want
    assert g.ulaw_encode(memoryview(pcm)) == want
    assert g.ulaw_encode(memoryview(pcm).cast("h")) == want
    assert g.ulaw_encode(samples) == want
    assert isinstance(g.ulaw_encode(samples), bytes)
    # An odd byte offset gives a misaligned int16 pointer: still correct (copied internally).
    shifted = bytearray(1) + bytearray(pcm)
    assert g.ulaw_encode(memoryview(shifted)[1:]) == want
    assert g.ulaw_decode(bytearray(want)) == g.ulaw_decode(want)
    assert g.ulaw_decode(memoryview(want)) == g.ulaw_decode(want)


def test_numpy_arrays(core: ModuleType) -> None:
    np = pytest.importorskip("numpy")
    g = core.g711
    pcm = np.arange(-32768, 32768, 7, dtype=np.int16)
    want = g.ulaw_encode(pcm.tobytes())
    assert g.ulaw_encode(pcm) == want
    assert g.ulaw_encode(pcm.astype("<i2")) == want
    frames = pcm[: 160 * 4].reshape(4, 160)  # 2-D: all frames in one call
    assert g.ulaw_encode(frames) == want[:640]
    codes = np.frombuffer(want, dtype=np.uint8)
    assert g.ulaw_decode(codes) == g.ulaw_decode(want)
    out = np.empty(len(want), dtype=np.int16)
    assert g.ulaw_decode(codes, out=out) is out
    assert out.tobytes() == g.ulaw_decode(want)
    with pytest.raises(ValueError, match="C-contiguous"):
        g.ulaw_encode(pcm[::2])
    with pytest.raises(ValueError, match="little-endian int16"):
        g.ulaw_encode(pcm.astype(">i2"))
    with pytest.raises(ValueError, match="little-endian int16"):
        g.ulaw_encode(pcm.astype(np.float32))
    with pytest.raises(ValueError, match="item size 1"):
        g.ulaw_decode(pcm)  # codes must be bytes, not int16


def test_out_argument(core: ModuleType) -> None:
    g = core.g711
    pcm = ALL_PCM[: 2 * 160]
    codes = g.alaw_encode(pcm)
    out = bytearray(160)
    assert g.alaw_encode(pcm, out=out) is out
    assert bytes(out) == codes
    big = bytearray(1000)  # larger buffers are fine: the result is written to the start
    assert g.alaw_decode(codes, out=big) is big
    assert bytes(big[:320]) == pcm_roundtrip(core, codes) and big[320:] == bytes(680)
    odd = bytearray(321)
    assert bytes(g.alaw_decode(codes, out=memoryview(odd)[1:])[:320]) == pcm_roundtrip(core, codes)
    with pytest.raises(ValueError, match="too small; 160 bytes needed"):
        g.alaw_encode(pcm, out=bytearray(159))
    with pytest.raises(TypeError, match="writable"):
        g.alaw_encode(pcm, out=bytes(160))
    # In-place code conversion.
    buf = bytearray(codes)
    assert g.alaw_to_ulaw(buf, out=buf) is buf
    assert bytes(buf) == g.alaw_to_ulaw(codes)


def pcm_roundtrip(core: ModuleType, codes: bytes) -> bytes:
    return bytes(core.g711.alaw_decode(codes))


def test_errors_are_clear(core: ModuleType) -> None:
    g = core.g711
    with pytest.raises(ValueError, match="odd byte length 3; PCM is little-endian int16"):
        g.ulaw_encode(b"abc")
    with pytest.raises(TypeError, match="bytes-like"):
        g.ulaw_encode("text")
    with pytest.raises(TypeError, match="bytes-like"):
        g.ulaw_decode(12)
    with pytest.raises(ValueError, match="unknown SIMD level 'mmx'"):
        g.force_simd_level("mmx")
    with pytest.raises(ValueError, match=r"frames\[1\]: odd byte length"):
        g.ulaw_encode_batch([b"\x00\x00", b"\x00"])
    assert g.simd_level() == g.supported_simd_levels()[-1]  # failed calls changed nothing


def test_batch(core: ModuleType) -> None:
    g = core.g711
    frames = [ALL_PCM[i * 320 : (i + 1) * 320] for i in range(50)] + [b""]
    encoded = g.ulaw_encode_batch(frames)
    assert encoded == [g.ulaw_encode(f) for f in frames]
    assert g.ulaw_decode_batch(encoded) == [g.ulaw_decode(c) for c in encoded]
    assert g.alaw_encode_batch(frames) == [g.alaw_encode(f) for f in frames]
    a = g.alaw_encode_batch(frames)
    assert g.alaw_decode_batch(a) == [g.alaw_decode(c) for c in a]
    assert g.alaw_to_ulaw_batch(a) == [g.alaw_to_ulaw(c) for c in a]
    assert g.ulaw_to_alaw_batch(encoded) == [g.ulaw_to_alaw(c) for c in encoded]
    assert g.ulaw_decode_batch([]) == []
    assert g.ulaw_encode_batch([bytearray(frames[0]), memoryview(frames[1])]) == encoded[:2]


def test_gil_is_released_inside_kernels(core: ModuleType) -> None:
    """While one thread is inside a long encode, another thread keeps running Python code.

    The worker stamps the time right before and right after ONE kernel call; the main thread
    stamps the time on every loop iteration (sleep(0) lets the worker back in when it returns).
    If the kernel held the GIL, no main-thread stamp could fall strictly inside the call."""
    g = core.g711
    g.force_simd_level("scalar")  # the slowest path: a long call
    try:
        pcm = ALL_PCM * 256  # 16 Msamples
        window: list[float] = []
        started, done = threading.Event(), threading.Event()

        def worker() -> None:
            started.set()
            t0 = time.perf_counter()
            g.ulaw_encode(pcm)
            t1 = time.perf_counter()
            window.extend((t0, t1))
            done.set()

        stamps: list[float] = []
        t = threading.Thread(target=worker)
        t.start()
        started.wait()
        while not done.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0)
        t.join()
    finally:
        g.reset_simd_level()
    t0, t1 = window
    inside = [s for s in stamps if t0 < s < t1]
    assert len(inside) >= 10, f"only {len(inside)} main-thread steps during a {1e3 * (t1 - t0):.1f} ms call"
