"""An agent bound in a running engine hears the caller through the relay and is heard back (AudioBridge, pcm16)."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path

from clutchcall.messages import AgentBinding
from clutchcall_engine.config import Address
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.bridge import attach
from speech_fixtures import Fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from moqt_support import LOOPBACK, client, engine_config, moqt_url, run, token, until


def test_replay_agent_through_the_engine(tmp_path: Path, scenarios: dict[str, Fixture]) -> None:
    async def main() -> None:
        config = dataclasses.replace(
            engine_config(tmp_path), rest_addr=Address(LOOPBACK, 0), rpc_addr=Address(LOOPBACK, 0)
        )
        async with EngineServer(config, calls=True) as srv:
            assert srv.agents is not None
            caller = await client(moqt_url(srv), token(config))
            # each side's SUBSCRIBE waits for the other's PUBLISH: attach both at once
            bridge, session = await asyncio.gather(
                attach(caller, "CA77", role="attach_caller", codec="pcm16", sample_rate=16000),
                srv.agents.binder.bind("CA77", AgentBinding(agent_id="replay")),
            )
            heard: list[bytes] = []

            async def listen() -> None:
                async for frame in bridge:
                    heard.append(frame)

            listener = asyncio.create_task(listen())
            frames = scenarios["backchannels"].frames()[:100]  # "Can you hear me?" then silence
            for frame in frames:
                await bridge.send(frame)
                await asyncio.sleep(0.02)
            await until(lambda: session.stats.turns == 1, timeout=10, what="the turn")
            wanted = session.stats.played_frames
            await until(lambda: len(heard) >= 30, timeout=10, what="the replay")
            sent = b"".join(frames)
            replay = b"".join(heard[:30])
            at = sent.find(replay)
            assert at >= 0 and at % 640 == 0  # sample-exact, frame-aligned: the caller's own words
            assert wanted > 0 and session.stats.bad_frames == 0
            listener.cancel()
            await bridge.release()
            assert await srv.agents.binder.unbind("CA77")
            await caller.close()
            assert session.stats.cut_off is None

    run(main(), timeout=60)
