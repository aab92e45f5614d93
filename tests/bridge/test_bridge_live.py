"""The AudioBridge end to end over QUIC through the engine: a stand-in for the SIP gateway's leg publishes
G.711 uplink and subscribes G.711 downlink, as the gateway does; the application attaches in a few lines."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from bridge_support import Codecs, dominant_hz, rms_dbfs, sine
from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.bridge import AudioFormat, FrameError, UnsupportedShape, attach
from clutchcall_runtime.moqt.client import Client
from clutchcall_runtime.moqt.errors import RequestError
from moqt_support import client, engine_config, moqt_url, run, token, until

SID = "CA12"
NS = ("voice", SID)
G711U = AudioFormat.of("g711_ulaw")


async def paced(frames: Sequence[bytes], write: Callable[[bytes], Any], period: float = 0.02) -> None:
    """Write frames in real time: frame i at start + i * period."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i, frame in enumerate(frames):
        await asyncio.sleep(max(0.0, start + i * period - loop.time()))
        result = write(frame)
        if asyncio.iscoroutine(result):
            await result


async def take(it: Any, n: int, timeout: float = 10.0) -> list[bytes]:
    out: list[bytes] = []

    async def go() -> None:
        async for item in it:
            out.append(item if isinstance(item, bytes) else item.payload)
            if len(out) >= n:
                return

    await asyncio.wait_for(go(), timeout)
    return out


async def leg(srv: EngineServer, tok: str) -> tuple[Client, Any, asyncio.Task[Any]]:
    """The call's leg, as the SIP gateway runs it: uplink published and downlink subscribed in G.711 mu-law.
    The downlink SUBSCRIBE waits (held) until someone attaches and publishes it: await the task after that."""
    gw = await client(moqt_url(srv), tok)
    uplink = await gw.publish(NS, "uplink", capability=G711U.tag)
    downlink = asyncio.create_task(gw.subscribe(NS, "downlink", capability=G711U.tag))
    await asyncio.sleep(0.05)  # the SUBSCRIBE is out before the bridge attaches
    return gw, uplink, downlink


def test_attach_hears_pcm16_16k_and_is_heard_in_g711(core: ModuleType, tmp_path: Path) -> None:
    codecs = Codecs(core)

    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            app = await client(moqt_url(srv), token(config))
            # attach before the leg is up: its SUBSCRIBE waits (held) for the uplink's publisher
            attaching = asyncio.create_task(app.bridge.attach(SID, codec="pcm16", sample_rate=16000))
            gw, uplink, subscribing = await leg(srv, token(config))
            bridge = await attaching
            downlink = await subscribing
            caller = codecs.encode(G711U, sine(8000, 1.0, freq=1000.0))
            heard_task = asyncio.create_task(take(bridge, 45))
            await paced(caller, uplink.write)
            heard = np.frombuffer(b"".join(await heard_task), dtype="<i2")
            assert all(len(f) == 640 for f in [heard.tobytes()[i : i + 640] for i in range(0, len(heard) * 2, 640)])
            steady = heard[len(heard) // 2 :]
            assert abs(dominant_hz(steady, 16000) - 1000.0) <= 2 * 16000 / len(steady)
            assert abs(rms_dbfs(steady) - rms_dbfs(sine(8000, 1.0))) < 1.5

            answer = AudioFormat.of("pcm16", 16000)
            spoken = codecs.encode(answer, sine(16000, 1.0, freq=440.0, dbfs=-6.0))
            back_task = asyncio.create_task(take(downlink, 45))
            await paced(spoken, bridge.send)
            back = codecs.decode(G711U, await back_task)
            steady = back[len(back) // 2 :]
            assert abs(dominant_hz(steady, 8000) - 440.0) <= 2 * 8000 / len(steady)
            assert abs(rms_dbfs(steady) - rms_dbfs(sine(16000, 1.0, dbfs=-6.0))) < 1.5
            # A round misses only when the loop is held off past a whole period: a loaded machine's scheduler
            # can do that once or twice, while a bridge too slow for one leg misses nearly every round.
            clocks = srv.relay.bridge.clocks.values()
            assert sum(clock.rounds for clock in clocks) >= 90
            assert srv.relay.bridge.clock_missed == srv.relay.bridge.metrics.clock_missed._value.get() <= 2
            await bridge.release()
            subscribing.cancel()
            await gw.close()
            await app.close()

    run(main())


def _in_order_subsequence(got: Sequence[bytes], expected: Sequence[bytes]) -> bool:
    it = iter(expected)
    return all(any(g == e for e in it) for g in got)


def test_g711_at_8k_is_sample_exact_both_ways(core: ModuleType, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    codes = [rng.integers(0, 256, 160, dtype=np.uint8).tobytes() for _ in range(40)]
    pcm = [rng.integers(-32768, 32767, 160, dtype=np.int16).astype("<i2").tobytes() for _ in range(40)]

    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            gw, uplink, subscribing = await leg(srv, token(config))
            app = await client(moqt_url(srv), token(config))
            bridge = await attach(app, SID, codec="pcm16", sample_rate=8000)
            downlink = await subscribing
            heard_task = asyncio.create_task(take(bridge, 40))
            await paced(codes, uplink.write)
            heard = [f for f in await heard_task if any(f)]  # concealment (silence) aside
            expected = [core.g711.ulaw_decode(c) for c in codes]
            assert len(heard) >= 38 and _in_order_subsequence(heard, expected)
            back_task = asyncio.create_task(take(downlink, 40))
            await paced(pcm, bridge.send)
            silence = core.g711.ulaw_encode(bytes(320))
            back = [f for f in await back_task if f != silence]
            assert len(back) >= 38 and _in_order_subsequence(back, [core.g711.ulaw_encode(p) for p in pcm])
            await bridge.release()
            subscribing.cancel()
            await gw.close()
            await app.close()

    run(main())


def test_release_tears_down_both_tracks_and_the_stages(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            gw, uplink, subscribing = await leg(srv, token(config))
            app = await client(moqt_url(srv), token(config))
            bridge = await app.bridge.attach(SID, codec="opus", sample_rate=24000)
            downlink = await subscribing
            downlink_key = ((b"voice", SID.encode()), b"downlink")
            await until(lambda: len(srv.relay.bridge.stages) == 2, what="a stage each way")
            uplink.write(b"\xff" * 160)
            await bridge.release()
            await until(lambda: downlink_key not in srv.relay.tracks, what="downlink ended")
            await until(lambda: not srv.relay.bridge.stages, what="stages closed")
            with pytest.raises(RuntimeError):
                await bridge.send(b"\x00")
            async for _ in downlink:  # the gateway's downlink subscription ends (PUBLISH_DONE)
                pass
            await gw.close()
            await app.close()

    run(main())


def test_attach_caller_is_the_mirror_image(core: ModuleType, tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            agent = await client(moqt_url(srv), token(config))
            phone = await client(moqt_url(srv), token(config))
            server_side, softphone = await asyncio.gather(  # each one's SUBSCRIBE waits for the other's PUBLISH
                agent.bridge.attach(SID, codec="pcm16", sample_rate=8000),
                phone.bridge.attach(SID, role="attach_caller", codec="g711_alaw"),
            )
            keys = {k[1] for k in srv.relay.tracks}
            assert keys == {b"uplink", b"downlink"}
            frames = [core.g711.alaw_encode(bytes([i, 1]) * 160) for i in range(1, 20)]
            got = asyncio.create_task(take(server_side, 15))
            await paced(frames, softphone.send)
            heard = [f for f in await got if any(f)]
            assert _in_order_subsequence(heard, [core.g711.alaw_decode(f) for f in frames])
            await server_side.release()
            await softphone.release()
            await agent.close()
            await phone.close()

    run(main())


def test_unsupported_shapes_are_refused_both_sides(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            app = await client(moqt_url(srv), token(config))
            with pytest.raises(UnsupportedShape) as err:  # client side: before anything is sent
                await app.bridge.attach(SID, codec="pcm16", sample_rate=44100)
            assert err.value.field == "sample_rate"
            assert not srv.relay.tracks and not any(p.subscriptions or p.held for p in srv.relay.peers.values())
            raw = await client(moqt_url(srv), token(config))  # engine side: a client that skips the check
            with pytest.raises(RequestError) as refused:
                await raw.subscribe(NS, "uplink", capability="voice/g711_ulaw;rate=16000")
            assert refused.value.code == wire.SubscribeErrorCode.NOT_SUPPORTED
            assert "sample_rate" in refused.value.reason
            with pytest.raises(RequestError) as refused:
                await raw.publish(NS, "downlink", capability="voice/opus;frame_ms=30")
            assert refused.value.code == wire.PublishErrorCode.UNINTERESTED
            assert "frame_ms" in refused.value.reason
            registry = srv.metrics.registry
            assert registry.get_sample_value("clutchcall_bridge_refused_total", {"field": "sample_rate"}) == 1
            assert registry.get_sample_value("clutchcall_bridge_refused_total", {"field": "frame_ms"}) == 1
            await raw.close()
            await app.close()

    run(main())


def test_bad_frames_are_counted_and_the_leg_goes_on(core: ModuleType, tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            gw, uplink, subscribing = await leg(srv, token(config))
            app = await client(moqt_url(srv), token(config))
            bridge = await app.bridge.attach(SID, codec="pcm16", sample_rate=8000)
            good = [bytes([0x20 + i]) * 160 for i in range(30)]
            sent = [b"\x00" * 100 if i % 5 == 2 else f for i, f in enumerate(good)]  # wrong size: 6 of 30
            heard_task = asyncio.create_task(take(bridge, 28))
            await paced(sent, uplink.write)
            heard = [f for f in await heard_task if any(f)]
            kept = [core.g711.ulaw_decode(f) for i, f in enumerate(good) if i % 5 != 2]
            assert len(heard) >= 22 and _in_order_subsequence(heard, kept)
            registry = srv.metrics.registry
            assert registry.get_sample_value("clutchcall_bridge_rejected_total", {"reason": "frame_size"}) == 6
            with pytest.raises(FrameError):  # the client refuses a wrong frame before sending it
                await bridge.send(b"\x00" * 100)
            assert bridge.rejected == 1
            await bridge.release()
            subscribing.cancel()
            await gw.close()
            await app.close()

    run(main())


def test_a_client_that_stops_reading_gets_frames_dropped_bounded(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            gw, uplink, subscribing = await leg(srv, token(config))
            app = await client(moqt_url(srv), token(config))
            bridge = await app.bridge.attach(SID, codec="pcm16", sample_rate=16000, max_buffered_frames=5)
            await paced([b"\x55" * 160] * 40, uplink.write)  # 800 ms of audio, never read
            await until(lambda: bridge.dropped >= 20, what="drops counted")
            assert len(bridge._incoming._queue) <= 5
            got = await take(bridge, 5)
            assert len(got) == 5
            await bridge.release()
            subscribing.cancel()
            await gw.close()
            await app.close()

    run(main())


def test_a_failing_stage_is_closed_and_other_calls_go_on(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            pub = await client(moqt_url(srv), token(config))
            app = await client(moqt_url(srv), token(config))
            writers = [await pub.publish(("voice", sid), "uplink", capability=G711U.tag) for sid in ("CA1", "CA2")]
            b1 = await app.bridge.attach("CA1", codec="pcm16", sample_rate=16000)
            b2 = await app.bridge.attach("CA2", codec="pcm16", sample_rate=16000)
            stages = srv.relay.bridge.stages
            (broken,) = [s for s in stages.values() if s.source.key[0] == (b"voice", b"CA1")]

            class Exploding:
                def process(self, data: bytes) -> list[bytes]:
                    raise RuntimeError("boom")

                def process_lost(self) -> list[bytes]:
                    raise RuntimeError("boom")

            broken.transcoder = Exploding()
            got = asyncio.create_task(take(b2, 20))
            await paced([b"\x33" * 160] * 25, lambda f: [w.write(f) for w in writers])
            assert len(await got) == 20
            assert broken.closed and all(s is not broken for s in stages.values())
            await b1.release()
            await b2.release()
            await pub.close()
            await app.close()

    run(main())
