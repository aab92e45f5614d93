"""Faults at scale, against the engine in its own process (EngineProcess): a relay restart under 100
clients, 1,000 concurrent sessions, and the relay's memory (RSS) under waves of SUBSCRIBE floods."""

from __future__ import annotations

import asyncio
import resource
import time
from pathlib import Path
from types import SimpleNamespace

from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.auth import load_or_create_dev_key, mint_token
from clutchcall_engine.config import DEFAULT_AUDIENCE
from clutchcall_engine.process import EngineProcess
from clutchcall_runtime.moqt.client import Client, Subscription, TrackWriter
from moqt_support import LOOPBACK, client, expect_answers, raw_session, run, subscribe_msg

Code = wire.SessionTerminationCode


def dev_token(state: Path) -> str:
    return mint_token(
        load_or_create_dev_key(state), tenant="t", publish=[""], subscribe=[""], ttl_s=3600, audience=DEFAULT_AUDIENCE
    )


def test_relay_restart_under_100_clients(tmp_path: Path) -> None:
    """50 publishers and 50 subscribers; the engine is stopped and started again on the same ports; every
    subscriber receives objects its publisher wrote after the restart, within a bound."""
    pairs = 50

    async def main() -> list[float]:
        engine = EngineProcess(tmp_path).start()
        url, tok = f"moqt://{LOOPBACK}:{engine.moqt_port}", dev_token(tmp_path)
        try:
            pubs: list[Client] = list(await asyncio.gather(*(client(url, tok) for _ in range(pairs))))
            subs: list[Client] = list(await asyncio.gather(*(client(url, tok) for _ in range(pairs))))
            writers: list[TrackWriter] = list(
                await asyncio.gather(*(p.publish(("voice", f"r{i}"), "uplink") for i, p in enumerate(pubs)))
            )
            iters: list[Subscription] = list(
                await asyncio.gather(*(s.subscribe(("voice", f"r{i}"), "uplink") for i, s in enumerate(subs)))
            )
            restarted_at = 0.0
            after: list[float] = [0.0] * pairs  # when each subscriber first got an object written after the restart

            async def write(i: int) -> None:
                n = 0
                while not after[i]:
                    writers[i].write(b"%f" % time.monotonic())
                    n += 1
                    await asyncio.sleep(0.05)

            async def read(i: int) -> None:
                async for obj in iters[i]:
                    if restarted_at and float(obj.payload) > restarted_at:
                        after[i] = time.monotonic()
                        return

            tasks = [asyncio.create_task(write(i)) for i in range(pairs)]
            readers = [asyncio.create_task(read(i)) for i in range(pairs)]
            await asyncio.sleep(1.0)
            engine.stop()
            engine.start()  # same ports: they were learned at the first start
            restarted_at = time.monotonic()
            await asyncio.wait_for(asyncio.gather(*readers), 30)
            await asyncio.gather(*tasks)
            await asyncio.gather(*(c.close() for c in pubs + subs))
            return [t - restarted_at for t in after]
        finally:
            engine.stop()

    delays = sorted(run(main(), timeout=90))
    assert all(d > 0 for d in delays)  # every one of the 50 flows again (an object written after the restart)
    assert delays[int(0.95 * len(delays))] < 10.0, delays


def test_1000_concurrent_sessions(tmp_path: Path) -> None:
    """1,000 sessions at once on loopback; a publish/subscribe pair still flows among them."""
    sessions = 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))

    async def main() -> tuple[int, int]:
        with EngineProcess(tmp_path, "--limit", f"max_sessions={sessions + 10}") as engine:
            url, tok = f"moqt://{LOOPBACK}:{engine.moqt_port}", dev_token(tmp_path)
            before = engine.rss_bytes()
            clients: list[Client] = []
            for start in range(0, sessions, 50):  # handshakes in bounded batches
                clients += await asyncio.gather(*(client(url, tok) for _ in range(min(50, sessions - start))))
            per_session = (engine.rss_bytes() - before) // sessions
            writer = await clients[0].publish(("voice", "busy"), "uplink")
            objects = await clients[-1].subscribe(("voice", "busy"), "uplink")
            sent = [b"%d" % i for i in range(20)]
            for p in sent:
                writer.write(p)
            got = [o.payload async for o in _take(objects, len(sent))]
            assert got == sent
            alive = sum(1 for c in clients if c.session is not None and not c.session.closed.done())
            await asyncio.gather(*(c.close() for c in clients))
            return alive, per_session

    alive, per_session = run(main(), timeout=240)
    assert alive == sessions
    assert per_session < 512 * 1024  # memory per idle session is bounded (benchmarks/relay reports the figure)


async def _take(it: Subscription, n: int) -> object:
    async for obj in it:
        yield obj
        n -= 1
        if n == 0:
            return


def test_memory_stays_bounded_under_subscribe_floods(tmp_path: Path) -> None:
    """Waves of sessions that each send 1,000 SUBSCRIBEs without waiting for request IDs: each is closed
    with TOO_MANY_REQUESTS, and the engine's RSS after the last wave is within a few MiB of the first."""
    waves, per_wave = 4, 10

    async def main() -> list[int]:
        flags = ["--limit", "max_request_id_window=16", "--limit", "max_subscriptions_per_session=20"]
        with EngineProcess(tmp_path, *flags) as engine:
            tok = dev_token(tmp_path)
            target = SimpleNamespace(moqt_port=engine.moqt_port, http_port=engine.http_port)  # what raw_session reads
            rss = []
            flood = b"".join(
                wire.encode_control(subscribe_msg(rid, (b"voice", b"x"), b"f%d" % rid)) for rid in range(0, 2000, 2)
            )
            for _ in range(waves):
                floods = [await raw_session(target, tok) for _ in range(per_wave)]  # type: ignore[arg-type]
                for session, _rec in floods:
                    expect_answers(session, range(0, 2000, 2))
                    session.transport.send_control(flood)
                    session.transport.transmit()
                codes = [(await asyncio.wait_for(rec.closed, 10))[0] for _, rec in floods]
                assert codes == [Code.TOO_MANY_REQUESTS] * per_wave
                await asyncio.sleep(0.5)
                rss.append(engine.rss_bytes())
            return rss

    rss = run(main(), timeout=120)
    assert rss[-1] - rss[0] < 8 * 1024 * 1024, [r // 1024 for r in rss]
    assert rss[-1] < 200 * 1024 * 1024, rss[-1]
