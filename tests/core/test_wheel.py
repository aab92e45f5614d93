"""The engine wheel: ``pip wheel bindings/`` builds it, it installs into a fresh virtual
environment, and a smoke test passes there with no compiler on PATH. Its shared objects need
nothing from the machine but glibc: speexdsp and libstdc++ are linked in statically; libopus,
libxdp, libbpf, liburing and libbpf's libelf and libz (Debian's archives are not PIC) are bundled
in clutchcall_core/lib and found through RUNPATH $ORIGIN, which must win over the system copies."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_NEEDED = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "ld-linux-x86-64.so.2"}
# Shared libraries the wheel carries in clutchcall_core/lib (their archives are not PIC on Debian).
BUNDLED = {"libopus.so.0", "libxdp.so.1", "libbpf.so.1", "liburing.so.2", "libelf.so.1", "libz.so.1"}

SMOKE = textwrap.dedent(
    """
    import shutil, sys, sysconfig
    PYTHON_ONLY = set()  # every component, the relay included, is in the C ABI too
    from pathlib import Path
    for cc in ("cc", "gcc", "g++", "c++", "clang", "clang++"):
        assert shutil.which(cc) is None, f"a compiler is on PATH: {cc}"
    import clutchcall_core
    import clutchcall_core.g711 as g711
    from clutchcall_core import clutchcall_core_ffi as ffi
    site = Path(sysconfig.get_paths()["platlib"])
    assert Path(clutchcall_core.__file__).is_relative_to(site), clutchcall_core.__file__
    assert ffi.library_path().is_file() and ffi.library_path().is_relative_to(site)
    pcm = b"".join(v.to_bytes(2, "little", signed=True) for v in range(-32768, 32768, 3))
    for op in ("ulaw", "alaw"):
        codes = getattr(g711, op + "_encode")(pcm)
        assert codes == getattr(ffi, op + "_encode")(pcm)
        assert getattr(g711, op + "_decode")(codes) == getattr(ffi, op + "_decode")(codes)
    assert g711.ulaw_decode(bytes([0x00, 0x7F, 0x80, 0xFF])) == bytes.fromhex("8482 0000 7c7d 0000")
    assert g711.ulaw_encode(bytes.fromhex("0000 ff7f 0080")) == bytes([0xFF, 0x80, 0x00])
    assert ffi.version()[0] == 1 and ffi.has("g711")
    for comp in set(clutchcall_core.components) - PYTHON_ONLY:
        assert ffi.has(comp), comp
    if "transcode" in clutchcall_core.components:  # exercises the bundled libopus
        t = clutchcall_core.transcode.Transcoder(
            {"codec": "g711_ulaw", "sample_rate": 8000, "channels": 1, "frame_ms": 20}, {"codec": "opus"}
        )
        packets = [p for _ in range(5) for p in t.process(bytes([255]) * 160)]
        assert packets and all(ffi.opus_packet_frames(p, 48000) == 960 for p in packets)
    if "relay" in clutchcall_core.components:  # exercises the bundled liburing, libxdp, libbpf
        import ctypes, os, socket
        from clutchcall_core import relay
        if os.geteuid() == 0:  # AF_XDP on the loopback of a private network namespace
            assert ctypes.CDLL(None, use_errno=True).unshare(0x40000000) == 0, "unshare(CLONE_NEWNET)"
            with relay.Engine(backend="af_xdp", ifname="lo", port_lo=40000, port_hi=40099, shards=1, pin=False) as e:
                assert e.backend == "af_xdp" and e.xdp_mode, (e.backend, e.fallback_reason)
            lo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a fresh namespace's lo is down
            ifr = b"lo".ljust(16, b"\\0") + (0x1 | 0x8).to_bytes(2, "little") + bytes(22)
            import fcntl
            fcntl.ioctl(lo.fileno(), 0x8914, ifr)  # SIOCSIFFLAGS: IFF_UP | IFF_LOOPBACK
        for backend in ("io_uring", "recvmmsg"):
            with relay.Engine(backend=backend, port_lo=40000, port_hi=40099, shards=1, pin=False) as e:
                assert e.backend == backend, (backend, e.fallback_reason)
                a, b = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
                a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0)); b.settimeout(5)
                e.add_call(1, relay.Leg(("127.0.0.1", 40000), a.getsockname()),
                           relay.Leg(("127.0.0.1", 40002), b.getsockname()))
                rtp = bytes([0x80, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4]) + bytes(160)
                a.sendto(rtp, ("127.0.0.1", 40000))
                assert b.recvfrom(2048) == (rtp, ("127.0.0.1", 40002)), backend
                st = e.remove_call(1)
                assert st["a"]["rx_packets"] == 1 and st["b"]["tx_packets"] == 1, st
    print("smoke ok:", clutchcall_core.simd_level(), ",".join(clutchcall_core.components))
    """
)


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done  # type: ignore[no-any-return]


def needed_libraries(so: Path) -> set[str]:
    out = run(["readelf", "-d", str(so)]).stdout
    return {line.split("[")[1].split("]")[0] for line in out.splitlines() if "(NEEDED)" in line}


@pytest.mark.slow
def test_wheel_builds_installs_and_runs_without_a_compiler(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", str(ROOT / "bindings"), "-w", str(dist), "--no-deps"])
    wheels = list(dist.glob("clutchcall_core-*.whl"))
    assert len(wheels) == 1, wheels

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    run([str(py), "-m", "pip", "install", "--quiet", str(wheels[0])])

    site = Path(run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['platlib'])"]).stdout.strip())
    pkg = site / "clutchcall_core"
    objects = sorted(p for p in pkg.rglob("*.so*") if p.is_file())
    bundled = {p.name for p in (pkg / "lib").iterdir() if p.name != "clutchcall_core_ffi.so"}
    assert bundled <= BUNDLED, bundled
    for so in objects:
        assert needed_libraries(so) <= ALLOWED_NEEDED | bundled, (so.name, needed_libraries(so))
        if so.name in bundled:
            # A bundled library has no RUNPATH; its own needs (libbpf's libelf, libz) are met at
            # run time by the copies our objects already loaded from lib/ (they link them too).
            continue
        resolved = run(["ldd", str(so)]).stdout
        for lib in bundled:
            if lib in needed_libraries(so):
                assert f"{lib} => {pkg / 'lib' / lib}" in resolved, resolved
    assert (site / "clutchcall_core" / "py.typed").is_file()
    assert (site / "clutchcall_core" / "include" / "clutchcall_core_ffi.h").is_file()

    env = {"PATH": str(venv / "bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    done = run([str(py), "-I", "-c", SMOKE], env=env, cwd=tmp_path)
    assert "smoke ok:" in done.stdout
    assert os.environ.get("PATH")  # the outer environment is untouched
