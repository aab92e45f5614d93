"""Interop with aiomoqt 0.5.3 (PyPI; an independent draft-14 implementation on qh3) as a client of our relay.

The six cases of the MoQT interop runner come from aiomoqt's own runner client
(`aiomoqt.examples.moq_interop_client`, TAP output), over raw QUIC and WebTransport. Objects then go
from one aiomoqt client to another through our relay, and between aiomoqt and our client both ways,
over WebTransport (aiomoqt opens data streams only there). aiomoqt runs as a subprocess (`aiomoqt_peer.py`)
and never sends a token, so the engine grants token-less sessions everything (anonymous_*), as
moq-relay's --auth-public does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import sys
from pathlib import Path

import pytest
from clutchcall_engine.config import EngineConfig
from clutchcall_engine.server import EngineServer
from moqt_support import client, collect, engine_config, moqt_url, run, token, wt_url

PEER = str(Path(__file__).with_name("aiomoqt_peer.py"))
RUNNER_CASES = [
    "setup-only",
    "announce-only",
    "publish-namespace-done",
    "subscribe-error",
    "announce-subscribe",
    "subscribe-before-announce",
]
COUNT, PER_GROUP = 30, 10


def payload(i: int) -> bytes:
    return f"{i:08d}".encode().ljust(160, b".")  # as aiomoqt_peer.payload


def open_config(tmp_path: Path) -> EngineConfig:
    # subscribe-error waits 2 s for SUBSCRIBE_ERROR; a held SUBSCRIBE must give up before that
    return dataclasses.replace(
        engine_config(tmp_path, held_subscribe_timeout_s=1.0), anonymous_publish=("",), anonymous_subscribe=("",)
    )


async def spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
    await proc.wait()


async def expect_line(proc: asyncio.subprocess.Process, wanted: str, timeout: float = 15.0) -> None:
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout)).decode().strip()
        if line == wanted:
            return
        if not line and proc.stdout.at_eof():
            stderr = (await proc.stderr.read()).decode()[-2000:] if proc.stderr else ""
            raise AssertionError(f"aiomoqt peer ended before {wanted!r}: {stderr}")


def summary(out: bytes, err: bytes) -> str:
    """What an aiomoqt peer printed, without the payloads: its verdict lines and the end of its log."""
    lines = out.decode().splitlines()
    objects = [" ".join(line.split()[:3]) for line in lines if line.startswith("OBJ")]
    verdicts = [line for line in lines if not line.startswith("OBJ")]
    return f"objects {objects}; {verdicts}; log: {err.decode()[-1500:]}"


def parse_objects(stdout: str) -> list[tuple[int, int, bytes]]:
    return [
        (int(m[1]), int(m[2]), bytes.fromhex(m[3])) for m in re.finditer(r"^OBJ (\d+) (\d+) ([0-9a-f]*)$", stdout, re.M)
    ]


def expected_objects(count: int = COUNT) -> list[tuple[int, int, bytes]]:
    return [(i // PER_GROUP, i % PER_GROUP, payload(i)) for i in range(count)]


@pytest.mark.parametrize("case", RUNNER_CASES)
@pytest.mark.parametrize("transport", ["quic", "webtransport"])
def test_interop_runner_case(tmp_path: Path, transport: str, case: str) -> None:
    async def main() -> tuple[int | None, str]:
        async with EngineServer(open_config(tmp_path)) as srv:
            url = moqt_url(srv) if transport == "quic" else wt_url(srv)
            proc = await spawn(
                "-m", "aiomoqt.examples.moq_interop_client", "--relay", url, "--tls-disable-verify", "--test", case
            )
            out, _ = await proc.communicate()
            return proc.returncode, out.decode()

    returncode, tap = run(main(), timeout=60)
    assert re.search(rf"^ok 1 - {re.escape(case)}$", tap, re.M), tap
    assert returncode == 0, tap


def test_objects_aiomoqt_to_aiomoqt(tmp_path: Path) -> None:
    async def main() -> str:
        async with EngineServer(open_config(tmp_path)) as srv:
            url = wt_url(srv)
            pub = await spawn(
                PEER, "publish", url, "interop/a", "t", "--count", str(COUNT), "--per-group", str(PER_GROUP)
            )
            try:
                await expect_line(pub, "READY")
                sub = await spawn(PEER, "subscribe", url, "interop/a", "t", "--count", str(COUNT), "--timeout", "15")
                out, err = await sub.communicate()
                assert sub.returncode == 0, summary(out, err)
                return out.decode()
            finally:
                await stop(pub)

    assert parse_objects(run(main(), timeout=60)) == expected_objects()


def test_objects_aiomoqt_to_our_client(tmp_path: Path) -> None:
    async def main() -> list[tuple[int, int, bytes]]:
        config = open_config(tmp_path)
        async with EngineServer(config) as srv:
            url = wt_url(srv)
            pub = await spawn(
                PEER, "publish", url, "interop/b", "t", "--count", str(COUNT), "--per-group", str(PER_GROUP)
            )
            try:
                await expect_line(pub, "READY")
                ours = await client(url, token(config))
                got = await collect(await ours.subscribe(("interop", "b"), "t"), COUNT, timeout=15)
                await ours.close()
                return [(o.group, o.object_id, o.payload) for o in got]
            finally:
                await stop(pub)

    assert run(main(), timeout=60) == expected_objects()


@pytest.mark.parametrize("transport", ["quic", "webtransport"])
def test_objects_our_client_to_aiomoqt(tmp_path: Path, transport: str) -> None:
    """Our client publishes (PUBLISH) over either transport; aiomoqt subscribes over WebTransport."""

    async def main() -> tuple[str, list[tuple[int, int]]]:
        config = open_config(tmp_path)
        async with EngineServer(config) as srv:
            ours = await client(moqt_url(srv) if transport == "quic" else wt_url(srv), token(config))
            writer = await ours.publish(("interop", "c"), "t", capability="voice/pcmu", objects_per_group=PER_GROUP)
            sub = await spawn(
                PEER, "subscribe", wt_url(srv), "interop/c", "t", "--count", str(COUNT), "--timeout", "15"
            )
            await expect_line(sub, "OK")
            locations = []
            for i in range(COUNT):
                locations.append(writer.write(payload(i)))
                await asyncio.sleep(0.005)
            out, err = await sub.communicate()
            await ours.close()
            assert sub.returncode == 0, summary(out, err)
            return out.decode(), locations

    out, locations = run(main(), timeout=60)
    got = parse_objects(out)
    assert [p for _, _, p in got] == [payload(i) for i in range(COUNT)]
    assert [(g, o) for g, o, _ in got] == locations
