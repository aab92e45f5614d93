"""The C ABI itself: the cffi cdef is the header's declaration block, the library exports exactly
the header's functions (nothing else), the version and status names, and the error contract
(null pointers, small buffers, unknown names) on raw calls."""

from __future__ import annotations

import ast
import os
import re
import socket
import struct
import subprocess
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = ROOT / "bindings" / "c" / "include" / "clutchcall_core_ffi.h"
CFFI_SOURCE = ROOT / "bindings" / "cffi" / "clutchcall_core_ffi.py"


def normalize(c_text: str) -> str:
    """Declarations without comments, the export marker and whitespace differences."""
    text = re.sub(r"/\*.*?\*/", " ", c_text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = text.replace("CC_FFI_API", " ")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([(),;{}=*])\s*", r"\1", text).strip()


def header_cdef() -> str:
    text = HEADER.read_text()
    m = re.search(r"/\* CC_FFI_CDEF_BEGIN \*/(.*)/\* CC_FFI_CDEF_END \*/", text, flags=re.S)
    assert m, "CC_FFI_CDEF_BEGIN/END markers missing from the header"
    return m.group(1)


def binding_cdef() -> str:
    tree = ast.parse(CFFI_SOURCE.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CDEF" for t in node.targets):
            value = node.value
            assert isinstance(value, ast.Constant) and isinstance(value.value, str)
            return value.value
    raise AssertionError("no CDEF string in the cffi binding")


def header_functions() -> set[str]:
    return set(re.findall(r"\b(cc_\w+)\(", normalize(header_cdef())))


def test_cdef_matches_header() -> None:
    assert normalize(binding_cdef()) == normalize(header_cdef())


def test_exports_exactly_the_header_functions(ffi: ModuleType) -> None:
    lib_path = Path(ffi.library_path())
    out = subprocess.run(["nm", "-D", "--defined-only", str(lib_path)], capture_output=True, text=True, check=True)
    exported = {line.split()[-1].split("@")[0] for line in out.stdout.splitlines() if " T " in line}
    assert exported == header_functions()
    versions = {line.split()[-1] for line in out.stdout.splitlines() if " A " in line}
    assert versions == {"CLUTCHCALL_CORE_FFI_1"}


def test_version(ffi: ModuleType) -> None:
    text = HEADER.read_text()
    major = int(re.search(r"#define CC_FFI_VERSION_MAJOR (\d+)", text).group(1))  # type: ignore[union-attr]
    minor = int(re.search(r"#define CC_FFI_VERSION_MINOR (\d+)", text).group(1))  # type: ignore[union-attr]
    assert ffi.version() == (major, minor)
    assert ffi.lib.cc_ffi_version() == (major << 16) | minor


def test_status_names(ffi: ModuleType) -> None:
    names = {}
    for key in dir(ffi.lib):
        if key.startswith("CC_ERR_") or key == "CC_OK":
            code = getattr(ffi.lib, key)
            name = ffi.ffi.string(ffi.lib.cc_strerror(code)).decode()
            assert name == key.removeprefix("CC_ERR_").removeprefix("CC_").lower(), key
            names[code] = name
    assert len(names) >= 16
    assert ffi.ffi.string(ffi.lib.cc_strerror(-999)) == b"unknown"


def test_components(ffi: ModuleType, core: ModuleType) -> None:
    assert ffi.has("g711")
    assert not ffi.has("g71") and not ffi.has("") and not ffi.has("nonexistent")
    assert not ffi.lib.cc_ffi_has(ffi.ffi.NULL)
    # The ABI carries every component the module does, the relay's control surface included.
    for comp in core.components:
        assert ffi.has(comp), comp


def test_g711_error_contract(ffi: ModuleType) -> None:
    lib, f = ffi.lib, ffi.ffi
    pcm = f.new("int16_t[]", [0, 100, -100, 32767])
    out = f.new("uint8_t[]", 8)
    assert lib.cc_ulaw_encode(pcm, 4, out, 3) == lib.CC_ERR_BUFFER_TOO_SMALL
    assert bytes(f.buffer(out, 8)) == bytes(8)  # nothing written on error
    assert lib.cc_ulaw_encode(f.NULL, 4, out, 8) == lib.CC_ERR_NULL_ARG
    assert lib.cc_ulaw_encode(pcm, 4, f.NULL, 8) == lib.CC_ERR_NULL_ARG
    assert lib.cc_ulaw_encode(f.NULL, 0, f.NULL, 0) == lib.CC_OK  # NULL is fine with count 0
    assert lib.cc_ulaw_encode(pcm, 4, out, 8) == lib.CC_OK
    codes = f.new("uint8_t[]", [0xFF, 0x00, 0x7F, 0x80])
    assert lib.cc_ulaw_to_alaw(codes, 4, codes, 4) == lib.CC_OK  # in place is allowed
    assert lib.cc_simd_force(b"mmx") == lib.CC_ERR_INVALID_ARG
    assert lib.cc_simd_force(f.NULL) == lib.CC_ERR_NULL_ARG
    assert lib.cc_simd_supported(b"scalar") == 1
    assert lib.cc_simd_supported(b"mmx") == 0
    assert lib.cc_simd_force(b"scalar") == lib.CC_OK
    assert ffi.simd_level() == "scalar"
    lib.cc_simd_reset()
    with pytest.raises(ffi.FfiError, match="invalid_arg"):
        ffi.force_simd_level("mmx")


# ---- Relay engine over the C ABI (loopback, socket backends) ----

# A port range of this process's own, so parallel runs on the machine do not collide.
RELAY_LO = 42000 + (os.getpid() % 400) * 20
RELAY_HI = RELAY_LO + 19


def rtp(seq: int, ssrc: int, payload: bytes) -> bytes:
    return struct.pack("!BBHII", 0x80, 0, seq, seq * 160, ssrc) + payload


def peer() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5.0)
    return s


def wait_for(read: Any, expected: Any) -> Any:
    """Counters are bumped by the shard thread just after it sends: poll briefly, then compare."""
    deadline = time.monotonic() + 3.0
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.01)
        value = read()
    return value


def names(d: dict[str, Any]) -> dict[str, Any]:
    return {k: names(v) if isinstance(v, dict) else None for k, v in d.items()}


def leg_ffi(local_port: int, remote: socket.socket | None) -> dict[str, Any]:
    return {"local": ("127.0.0.1", local_port), "remote": remote.getsockname() if remote else None}


@pytest.mark.parametrize("backend", ["recvmmsg", "io_uring"])
def test_relay_call_through_the_abi(ffi: ModuleType, backend: str) -> None:
    lib, f = ffi.lib, ffi.ffi
    engine = ffi.RelayEngine(backend=backend, port_lo=RELAY_LO, port_hi=RELAY_HI, shards=1, pin=0)
    pa, pb = peer(), peer()
    try:
        assert (engine.backend, engine.fallback_reason, engine.xdp_mode, engine.shard_count) == (backend, "", "", 1)
        engine.add_call(7, leg_ffi(RELAY_LO, pa), leg_ffi(RELAY_LO + 1, pb))
        assert engine.call_ids() == [7]
        to_b, to_a = rtp(1, 0xA, bytes(range(160))), rtp(9, 0xB, bytes(160))
        pa.sendto(to_b, ("127.0.0.1", RELAY_LO))
        assert pb.recvfrom(2048) == (to_b, ("127.0.0.1", RELAY_LO + 1))  # forwarded byte for byte
        pb.sendto(to_a, ("127.0.0.1", RELAY_LO + 1))
        assert pa.recvfrom(2048) == (to_a, ("127.0.0.1", RELAY_LO))

        leg = {"rx_packets": 1, "rx_bytes": 172, "tx_packets": 1, "tx_bytes": 172}
        zeros = dict.fromkeys(
            ["malformed", "foreign_source", "tx_dropped", "ssrc_changes", "late_losses", "concealed",
             "transcode_errors", "handoff_out", "handoff_in", "ring_lost"], 0,
        )  # fmt: skip
        call = {"id": 7, "shard": 0, "transcoding": False, "a": leg | zeros, "b": leg | zeros}
        assert wait_for(lambda: engine.call_stats(7), call) == call
        # The backend's own counters (io) are published by the shard now and then: wait for them.
        io = {"rx_packets": 2, "rx_bytes": 344, "tx_packets": 2, "tx_bytes": 344, "rx_dropped": 0, "tx_dropped": 0}
        wait_for(lambda: {k: engine.shard_stats()[0]["io"][k] for k in io}, io)
        (shard,) = engine.shard_stats()
        assert shard["shard"] == 0 and shard["cpu"] == -1 and shard["calls"] == 1
        assert (shard["rx_packets"], shard["rx_bytes"], shard["tx_packets"], shard["tx_bytes"]) == (2, 344, 2, 344)
        assert (shard["unknown_port"], shard["tx_dropped"], shard["handoff_out"], shard["handoff_in"]) == (0, 0, 0, 0)
        assert {k: shard["io"][k] for k in io} == io
        assert (shard["kernel_rx_dropped"], shard["kernel_rx_ring_full"], shard["kernel_fill_ring_empty"]) == (0, 0, 0)

        assert engine.remove_call(7) == call  # the final counters
        assert engine.call_ids() == [] and engine.shard_stats()[0]["calls"] == 0

        # An unknown id has its own status, on every call that takes one.
        out = f.new("cc_relay_call_stats *")
        assert lib.cc_relay_remove_call(engine._h, 7, f.NULL) == lib.CC_ERR_UNKNOWN_CALL
        assert ffi.relay_last_error() == "no call 7"
        assert lib.cc_relay_get_call_stats(engine._h, 7, out) == lib.CC_ERR_UNKNOWN_CALL
        with pytest.raises(ffi.FfiError, match=r"unknown_call .*: no call 8") as err:
            engine.remove_call(8)
        assert err.value.status == lib.CC_ERR_UNKNOWN_CALL
    finally:
        engine.stop()
        pa.close()
        pb.close()
    # Stopped: the getters still answer, the rest says so.
    assert engine.backend == backend and ffi.ffi.string(lib.cc_relay_backend(engine._h)).decode() == backend
    with pytest.raises(ffi.FfiError, match=r"stopped .*the engine is stopped"):
        engine.call_ids()
    engine.stop()  # idempotent


def test_relay_errors_are_named(ffi: ModuleType) -> None:
    lib, f = ffi.lib, ffi.ffi
    with pytest.raises(ffi.FfiError, match=r"invalid_arg .*port_lo/port_hi: bad port range 5000\.\.4000"):
        ffi.RelayEngine(backend="recvmmsg", port_lo=5000, port_hi=4000)
    with pytest.raises(ffi.FfiError, match=r"start_failed .*did not start: .*nosuchif0") as err:
        ffi.RelayEngine(backend="af_xdp", ifname="nosuchif0", port_lo=RELAY_LO, port_hi=RELAY_HI)
    assert err.value.status == lib.CC_ERR_START_FAILED
    config = f.new("cc_relay_config *")
    lib.cc_relay_config_default(config)
    assert (config.port_lo, config.port_hi, config.pin, config.max_calls, config.handoff_depth) == (
        16384, 32767, 1, 16384, 4096,
    )  # fmt: skip
    out = f.new("cc_relay **")
    config.backend = 9
    assert lib.cc_relay_start(config, out) == lib.CC_ERR_INVALID_ARG and out[0] == f.NULL
    assert ffi.relay_last_error().startswith("backend: 9 is not")
    config.backend, config.cpu_count = lib.CC_RELAY_RECVMMSG, 257
    assert lib.cc_relay_start(config, out) == lib.CC_ERR_INVALID_ARG
    assert ffi.relay_last_error() == "cpu_count: 257 > 256"
    config.cpu_count = 0
    f.memmove(config.ifname, b"x" * 16, 16)  # no NUL
    assert lib.cc_relay_start(config, out) == lib.CC_ERR_INVALID_ARG
    assert ffi.relay_last_error().startswith("ifname: not NUL-terminated")
    assert lib.cc_relay_start(f.NULL, out) == lib.CC_ERR_NULL_ARG
    assert lib.cc_relay_start(config, f.NULL) == lib.CC_ERR_NULL_ARG
    lib.cc_relay_destroy(f.NULL)  # a no-op

    with ffi.RelayEngine(backend="recvmmsg", port_lo=RELAY_LO, port_hi=RELAY_HI, shards=1, pin=0) as engine:
        assert ffi.relay_last_error() == ""  # a success clears it
        good = leg_ffi(RELAY_LO + 1, None)
        with pytest.raises(ffi.FfiError, match=r"invalid_arg .*a\.local_ip: not an IP address: '127\.0\.0\.300'"):
            engine.add_call(1, {"local": ("127.0.0.300", RELAY_LO)}, good)
        with pytest.raises(ffi.FfiError, match=r"invalid_arg .*b\.remote_ip: not an IP address: 'peer'"):
            engine.add_call(1, leg_ffi(RELAY_LO, None), {"local": ("127.0.0.1", RELAY_LO + 1), "remote": ("peer", 9)})
        with pytest.raises(ffi.FfiError, match=r"invalid_arg .*a\.codec: 9 is not"):
            engine.add_call(1, {"local": ("127.0.0.1", RELAY_LO), "codec": 9}, good)
        with pytest.raises(ffi.FfiError, match=r"call_refused .*local port 80 is outside the RTP range") as err:
            engine.add_call(1, leg_ffi(80, None), good)
        assert err.value.status == lib.CC_ERR_CALL_REFUSED
        engine.add_call(1, leg_ffi(RELAY_LO, None), good)
        with pytest.raises(ffi.FfiError, match=r"call_refused .*call 1 already exists"):
            engine.add_call(1, leg_ffi(RELAY_LO + 2, None), leg_ffi(RELAY_LO + 3, None))
        ids, n = f.new("uint64_t[]", 1), f.new("size_t *")
        assert lib.cc_relay_call_ids(engine._h, f.NULL, 0, n) == lib.CC_ERR_BUFFER_TOO_SMALL and n[0] == 1
        assert lib.cc_relay_call_ids(engine._h, ids, 1, n) == lib.CC_OK and (n[0], ids[0]) == (1, 1)
        assert lib.cc_relay_call_ids(engine._h, f.NULL, 1, n) == lib.CC_ERR_NULL_ARG and n[0] == 0
        shard = f.new("cc_relay_shard_stats *")
        assert lib.cc_relay_get_shard_stats(engine._h, 1, shard) == lib.CC_ERR_INVALID_ARG
        assert ffi.relay_last_error() == "index: 1 >= shard count 1"
        assert lib.cc_relay_add_call(engine._h, 2, f.NULL, f.NULL) == lib.CC_ERR_NULL_ARG
        assert lib.cc_relay_add_call(f.NULL, 2, ffi._relay_leg(good), ffi._relay_leg(good)) == lib.CC_ERR_NULL_ARG
        assert ffi.relay_last_error() == "engine: NULL"
        assert lib.cc_relay_get_call_stats(engine._h, 1, f.NULL) == lib.CC_ERR_NULL_ARG
        assert engine.remove_call(1)["id"] == 1


def test_relay_stats_field_names_match_the_module(ffi: ModuleType, core: ModuleType) -> None:
    """The ABI's stats structs carry exactly the fields clutchcall_core.relay reports."""
    with core.relay.Engine(backend="recvmmsg", port_lo=RELAY_LO, port_hi=RELAY_HI, shards=1, pin=False) as engine:
        engine.add_call(3, core.relay.Leg(("127.0.0.1", RELAY_LO)), core.relay.Leg(("127.0.0.1", RELAY_LO + 1)))
        module_call, module_shard = engine.call_stats(3), engine.shard_stats()[0]
    with ffi.RelayEngine(backend="recvmmsg", port_lo=RELAY_LO, port_hi=RELAY_HI, shards=1, pin=0) as fe:
        fe.add_call(3, leg_ffi(RELAY_LO, None), leg_ffi(RELAY_LO + 1, None))
        abi_call, abi_shard = fe.call_stats(3), fe.shard_stats()[0]
    assert names(abi_call) == names(module_call)
    assert names(abi_shard) == names(module_shard)
    assert list(abi_call["a"]) == list(module_call["a"])  # same order too
