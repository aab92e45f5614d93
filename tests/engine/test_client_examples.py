"""The example publisher and subscriber programs (engine/examples/) against an in-process engine,
with the certificate pinned by its SHA-256, through `from clutchcall import connect`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from clutchcall_engine.server import EngineServer
from moqt_support import engine_config, moqt_url, run, token, until, wt_url

EXAMPLES = Path(__file__).resolve().parents[2] / "engine" / "examples"
FRAMES = 60


@pytest.mark.parametrize("webtransport", [False, True], ids=["quic", "webtransport"])
def test_example_publisher_reaches_example_subscriber(tmp_path: Path, webtransport: bool) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            assert srv.cert is not None
            url = wt_url(srv) if webtransport else moqt_url(srv)
            args = [url, token(config), srv.cert.sha256, str(FRAMES)]
            sub = await asyncio.create_subprocess_exec(
                sys.executable, str(EXAMPLES / "subscriber.py"), *args, stdout=asyncio.subprocess.PIPE
            )
            await until(lambda: any(p.held for p in srv.relay.peers.values()), timeout=15, what="subscriber waiting")
            pub = await asyncio.create_subprocess_exec(sys.executable, str(EXAMPLES / "publisher.py"), *args)
            out, _ = await asyncio.wait_for(sub.communicate(), 30)
            assert await asyncio.wait_for(pub.wait(), 30) == 0
            assert sub.returncode == 0
            lines = [line.split() for line in out.decode().splitlines()]
            assert len(lines) == FRAMES
            assert [int(object_id) for _, object_id, _, _ in lines] == [i % 50 for i in range(FRAMES)]
            assert {(cap, size) for _, _, cap, size in lines} == {("voice/pcmu", "160")}
            assert len({group for group, _, _, _ in lines}) == 2  # 50 frames per group

    run(main(), timeout=60)
