"""The agent runtime's counters at a running engine's /metrics: turns, frames, refusals, kept after unbind."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import urllib.request
from pathlib import Path

import pytest
from clutchcall.messages import AgentBinding
from clutchcall_engine.agents import AgentBinder, AgentBindError, AgentStats, AudioPort, ReplayAgent
from clutchcall_engine.agents.metrics import AgentCollector
from clutchcall_engine.config import Address
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.bridge import attach
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from speech_fixtures import Fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from moqt_support import LOOPBACK, client, engine_config, moqt_url, run, token, until


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The engine's /metrics (HTTP/1.1 port), parsed: (sample name, sorted labels) -> value."""
    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_agent_counters_at_metrics(tmp_path: Path, scenarios: dict[str, Fixture]) -> None:
    async def main() -> None:
        config = dataclasses.replace(
            engine_config(tmp_path), rest_addr=Address(LOOPBACK, 0), rpc_addr=Address(LOOPBACK, 0)
        )
        async with EngineServer(config, calls=True) as srv:
            assert srv.agents is not None and srv.calls is not None
            if srv.metrics.registry.get_sample_value("clutchcall_agent_bindings") is None:
                srv.agents.register_metrics(srv.metrics.registry)  # until EngineServer wires it (server.py)
            binder = srv.agents.binder
            binder.settings = dataclasses.replace(binder.settings, max_bindings=1)
            port = srv.calls.rest_port

            before = await asyncio.to_thread(scrape, port)
            for name in AgentStats.COUNTERS:  # every counter is exported, from zero
                assert before[(f"clutchcall_agent_{name}_total", ())] == 0
            assert before[("clutchcall_agent_bindings", ())] == 0

            caller = await client(moqt_url(srv), token(config))
            bridge, session = await asyncio.gather(
                attach(caller, "CA91", role="attach_caller", codec="pcm16", sample_rate=16000),
                binder.bind("CA91", AgentBinding(agent_id="replay")),
            )
            with pytest.raises(AgentBindError, match="max_bindings"):
                await binder.bind("CA92", AgentBinding(agent_id="replay"))
            frames = scenarios["backchannels"].frames()[:100]  # "Can you hear me?" then silence
            for frame in frames:
                await bridge.send(frame)
                await asyncio.sleep(0.02)
            await until(lambda: session.stats.turns == 1, timeout=10, what="the turn")

            live = await asyncio.to_thread(scrape, port)
            assert live[("clutchcall_agent_bindings", ())] == 1
            assert live[("clutchcall_agent_turns_total", ())] == 1
            assert live[("clutchcall_agent_speech_started_total", ())] >= 1
            assert 0 < live[("clutchcall_agent_frames_in_total", ())] <= len(frames)
            assert live[("clutchcall_agent_bind_refused_total", (("reason", "max_bindings"),))] == 1
            assert live[("clutchcall_agent_bind_refused_total", (("reason", "attach_failed"),))] == 0

            await bridge.release()
            assert await binder.unbind("CA91")
            await until(lambda: not binder._unreaped, timeout=5, what="the binding reaped")
            after = await asyncio.to_thread(scrape, port)
            assert after[("clutchcall_agent_bindings", ())] == 0
            for name in AgentStats.COUNTERS:  # an ended binding's counts stay: counters never go down
                key = (f"clutchcall_agent_{name}_total", ())
                assert after[key] >= live[key], name
            assert after[("clutchcall_agent_frames_in_total", ())] == session.stats.frames_in
            assert after[("clutchcall_agent_turns_total", ())] == 1
            assert after[("clutchcall_agent_cut_offs_total", ())] == 0
            await caller.close()

    run(main(), timeout=60)


def test_attach_failures_counted_by_reason() -> None:
    async def no_audio(sid: str, sample_rate: int, frame_ms: int) -> AudioPort:
        raise ConnectionError(f"nobody publishes {sid}")

    async def main() -> None:
        binder = AgentBinder(no_audio, {"replay": lambda _binding: ReplayAgent()})
        registry = CollectorRegistry()
        registry.register(AgentCollector(binder))
        for _ in range(2):
            with pytest.raises(AgentBindError, match="retry once the call is answered"):
                await binder.bind("CA93", AgentBinding(agent_id="replay"))
        assert registry.get_sample_value("clutchcall_agent_bind_refused_total", {"reason": "attach_failed"}) == 2
        assert registry.get_sample_value("clutchcall_agent_bind_refused_total", {"reason": "max_bindings"}) == 0
        assert registry.get_sample_value("clutchcall_agent_bindings") == 0

    run(main())
