"""The AudioBridge on the PUBLISH_NAMESPACE path: the relay subscribes upstream to the announcer, learns the
track's shape from its SUBSCRIBE_OK and puts a transcoding stage between it and a subscriber asking another."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import ModuleType

import numpy as np
from bridge_support import Codecs, dominant_hz, rms_dbfs, sine
from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.bridge import AudioFormat
from clutchcall_runtime.moqt.session import OutboundTrack, OutObject, capability_params
from moqt_support import client, collect, engine_config, moqt_url, raw_session, run, token, until

NS = (b"voice", b"CA40")
G711U = AudioFormat.of("g711_ulaw")
PCM16_16K = AudioFormat.of("pcm16", 16000)


def test_namespace_publisher_g711_heard_as_pcm16_16k(core: ModuleType, tmp_path: Path) -> None:
    codecs = Codecs(core)

    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            origin, rec = await raw_session(srv, token(config))
            await origin.request(
                lambda rid: wire.PublishNamespace(
                    request_id=rid, track_namespace=wire.TrackNamespace(fields=list(NS)), parameters=[]
                )
            )
            app = await client(moqt_url(srv), token(config))
            pending = asyncio.ensure_future(app.subscribe(NS, "uplink", capability=PCM16_16K.tag))
            # a second subscriber, in the source's own shape, before the upstream answers: one upstream SUBSCRIBE
            gateway = await client(moqt_url(srv), token(config))
            pending_raw = asyncio.ensure_future(gateway.subscribe(NS, "uplink", capability=G711U.tag))
            await until(lambda: any(c == wire.ControlMessageType.SUBSCRIBE for c, _ in rec.messages), what="upstream")
            (up,) = [m for c, m in rec.messages if c == wire.ControlMessageType.SUBSCRIBE]
            assert (up.track_namespace.fields, up.track_name) == (list(NS), b"uplink")
            origin.send(
                wire.SubscribeOk(
                    request_id=up.request_id,
                    track_alias=7,
                    expires=0,
                    group_order=wire.GroupOrder.ASCENDING,
                    content_exists=0,
                    parameters=capability_params(G711U.tag),  # the announcer serves G.711 mu-law
                )
            )
            heard_sub = await asyncio.wait_for(pending, 5)
            raw_sub = await asyncio.wait_for(pending_raw, 5)
            assert sum(c == wire.ControlMessageType.SUBSCRIBE for c, _ in rec.messages) == 1
            assert len(srv.relay.bridge.stages) == 1
            out = OutboundTrack(origin, up.request_id, 7)
            origin.add_outbound(out)
            frames = codecs.encode(G711U, sine(8000, 1.0, freq=1000.0))
            heard: list[bytes] = []

            async def listen() -> None:
                async for obj in heard_sub:
                    heard.append(obj.payload)
                    if len(heard) >= 45:
                        return

            listener = asyncio.create_task(listen())
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i, frame in enumerate(frames):  # in real time: the stage plays out on the engine's clock
                await asyncio.sleep(max(0.0, start + i * 0.02 - loop.time()))
                out.push(
                    OutObject(
                        group=1,
                        subgroup=0,
                        object_id=i,
                        publisher_priority=128,
                        stream_type=0x14,
                        payload=frame,
                        prev_object_id=i - 1 if i else None,
                    )
                )
            await asyncio.wait_for(listener, 10)
            raw = await collect(raw_sub, len(frames))
            assert [o.payload for o in raw] == frames  # the source's own shape: the track itself, untouched
            assert all(len(f) == PCM16_16K.frame_bytes for f in heard)
            pcm = np.frombuffer(b"".join(heard), dtype="<i2")
            steady = pcm[len(pcm) // 2 :]
            assert abs(dominant_hz(steady, 16000) - 1000.0) <= 2 * 16000 / len(steady)
            assert abs(rms_dbfs(steady) - rms_dbfs(sine(8000, 1.0))) < 1.5
            frames_out = srv.metrics.registry.get_sample_value("clutchcall_bridge_frames_out_total")
            assert frames_out is not None and frames_out >= len(heard)
            await app.close()
            await gateway.close()
            origin.close()

    run(main(), timeout=60)
