"""Routing on intent from the SDK: client.discover(prefix, capability=...) is offered only matching tracks
(the relay PUBLISHes them), each as a Subscription; after a relay restart the same Subscription resumes."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from clutchcall_engine.server import EngineServer
from moqt_support import LOOPBACK, client, collect, engine_config, run, token, until


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def test_discover_by_namespace_and_capability(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, moqt_port=free_udp_port())
        url = f"moqt://{LOOPBACK}:{config.moqt_addr.port}"
        srv = EngineServer(config)
        await srv.start()
        tok = token(config)
        pub = await client(url, tok)
        pcmu = await pub.publish(("voice", "CA1"), "uplink", capability="voice/pcmu")
        opus = await pub.publish(("voice", "CA2"), "uplink", capability="voice/opus")
        agent = await client(url, tok)
        offers = await agent.discover(("voice",), capability="voice/opus")
        track = await asyncio.wait_for(offers.__anext__(), 5)
        assert (track.namespace, track.track, track.capability) == ([b"voice", b"CA2"], b"uplink", "voice/opus")
        sent = [opus.write(bytes([i])) for i in range(3)]
        pcmu.write(b"\xff")
        got = await collect(track, 3)
        assert [(o.group, o.object_id) for o in got] == sent
        with_pcmu = asyncio.ensure_future(offers.__anext__())
        await asyncio.sleep(0.3)
        assert not with_pcmu.done()  # the pcmu track is never offered
        with_pcmu.cancel()

        await srv.stop()  # both clients reconnect; the relay offers the track again to the same Subscription
        srv = EngineServer(config)
        await srv.start()
        await until(lambda: agent.reconnects == 1 and pub.reconnects == 1, timeout=10, what="both back")
        key = ((b"voice", b"CA2"), b"uplink")
        await until(lambda: key in srv.relay.tracks and bool(srv.relay.tracks[key].subscribers), what="re-offered")
        later = [opus.write(bytes([i])) for i in range(3)]
        got = await collect(track, 3)
        assert [(o.group, o.object_id) for o in got] == later
        await pub.close()
        await agent.close()
        await srv.stop()

    run(main(), timeout=60)
