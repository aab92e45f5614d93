"""A publisher killed in the middle of a group: its subscribers get what it sent and then the end of the
track (PUBLISH_DONE ends their iteration); a track of another publisher flows on without a gap."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from clutchcall_engine.server import EngineServer
from moqt_support import client, collect, engine_config, moqt_url, run, token

# A publisher in its own process, so it can be SIGKILLed: no CONNECTION_CLOSE, no PUBLISH_DONE of its own.
PUBLISHER = """
import asyncio, sys
from clutchcall_runtime.moqt.client import connect

async def main() -> None:
    pub = await connect(sys.argv[1], sys.argv[2], insecure=True)
    writer = await pub.publish(("voice", "doomed"), "uplink", objects_per_group=50)
    print("READY", flush=True)
    await asyncio.sleep(0.5)  # the subscriber attaches
    for i in range(1000):
        group, obj = writer.write(b"%08d" % i)
        print(group, obj, flush=True)
        await asyncio.sleep(0.01)

asyncio.run(main())
"""


def test_publisher_killed_mid_group(tmp_path: Path) -> None:
    async def main() -> None:
        # a killed peer is noticed by the QUIC idle timeout; its track is then ended after the hold timeout
        config = engine_config(tmp_path, idle_timeout_s=3.0, held_subscribe_timeout_s=0.5)
        async with EngineServer(config) as srv:
            url, tok = moqt_url(srv), token(config)
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", PUBLISHER, url, tok, stdout=asyncio.subprocess.PIPE
            )
            assert proc.stdout is not None
            assert (await asyncio.wait_for(proc.stdout.readline(), 15)).strip() == b"READY"
            # One subscriber of both tracks: the other track's traffic also keeps its connection from idling out
            # while the relay waits out the dead publisher's idle timeout.
            other_pub, watcher = await client(url, tok), await client(url, tok)
            doomed = await watcher.subscribe(("voice", "doomed"), "uplink")
            other_writer = await other_pub.publish(("voice", "other"), "uplink", objects_per_group=50)
            other = await watcher.subscribe(("voice", "other"), "uplink")
            other_sent: list[bytes] = []

            async def write_other() -> None:
                for i in range(300):
                    other_sent.append(b"o%07d" % i)
                    other_writer.write(other_sent[-1])
                    await asyncio.sleep(0.01)

            other_writing = asyncio.create_task(write_other())

            written: list[tuple[int, int]] = []
            while len(written) < 75:  # one whole group of 50, then half of the next
                group, obj = (await asyncio.wait_for(proc.stdout.readline(), 10)).split()
                written.append((int(group), int(obj)))
            proc.kill()
            await proc.wait()
            assert written[-1][1] == 24  # killed in the middle of its second group

            # the subscriber gets what was sent, then its iteration ends (PUBLISH_DONE)
            received: list[tuple[int, int]] = []

            async def drain() -> None:
                async for obj in doomed:
                    received.append((obj.group, obj.object_id))

            await asyncio.wait_for(drain(), 10)
            first = written.index(received[0])  # a subscriber starts at the latest object
            assert received == written[first : first + len(received)]
            assert len(received) >= len(written) - first - 2  # at most the last writes were still in flight
            assert srv.relay.tracks.get(((b"voice", b"doomed"), b"uplink")) is None

            # the other track never stopped: every object, in order
            await other_writing
            got = await collect(other, len(other_sent), timeout=10)
            assert [o.payload for o in got] == other_sent
            for c in (watcher, other_pub):
                await c.close()

    run(main(), timeout=60)
