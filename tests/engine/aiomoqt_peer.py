"""An aiomoqt 0.5.3 peer for the interop tests, run as a subprocess (its own event loop and QUIC stack, qh3).

    python aiomoqt_peer.py publish URL NAMESPACE TRACK --count N [--per-group G] [--rate R]
    python aiomoqt_peer.py subscribe URL NAMESPACE TRACK --count N [--timeout S]

URL is https://host:port/moq (WebTransport; aiomoqt cannot open data streams over raw QUIC) or
moqt://host:port for control-only use. The publisher announces NAMESPACE (PUBLISH_NAMESPACE), answers
the relay's SUBSCRIBE with SUBSCRIBE_OK and writes N objects, G per group (one subgroup stream per
group); payload i is `payload(i)`. Lines on stdout: `READY`, `SUBSCRIBED`, `SENT n`; the subscriber
prints `OK` after SUBSCRIBE_OK, then `OBJ group object payload-hex` per object, and exits 0 once N
arrived (1 on an error or timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any
from urllib.parse import urlsplit

from aiomoqt.client import MOQTClient
from aiomoqt.messages import SubgroupHeader, SubscribeError, SubscribeOk
from aiomoqt.types import MOQTMessageType

PAYLOAD_BYTES = 160


def payload(i: int) -> bytes:
    """Object i's payload: its index, then padding to one 20 ms G.711 frame."""
    return f"{i:08d}".encode().ljust(PAYLOAD_BYTES, b".")


def say(line: str) -> None:
    print(line, flush=True)


def client_for(url: str) -> MOQTClient:
    parts = urlsplit(url)
    quic = parts.scheme == "moqt"
    endpoint = parts.path.lstrip("/") or "moq"
    return MOQTClient(
        parts.hostname or "127.0.0.1", parts.port or 443, endpoint=endpoint, use_quic=quic, verify_tls=False
    )


async def publish(args: argparse.Namespace) -> int:
    client = client_for(args.url)
    done = asyncio.Event()

    async def on_subscribe(session: Any, msg: Any) -> None:
        ok = session.subscribe_ok(request_msg=msg)
        say("SUBSCRIBED")
        header: Any = None
        stream_id = -1
        for i in range(args.count):
            if i % args.per_group == 0:
                if header is not None:
                    session._quic.send_stream_data(stream_id, b"", end_stream=True)
                stream_id = session._h3.create_webtransport_stream(
                    session_id=session._session_id, is_unidirectional=True
                )
                header = SubgroupHeader(track_alias=ok.track_alias, group_id=i // args.per_group, subgroup_id=0)
                session._quic.send_stream_data(stream_id, header.serialize().data, end_stream=False)
            session._quic.send_stream_data(stream_id, header.next_object(payload=payload(i)).data, end_stream=False)
            session.transmit()
            await asyncio.sleep(1 / args.rate)
        session._quic.send_stream_data(stream_id, b"", end_stream=True)
        session.transmit()
        say(f"SENT {args.count}")
        done.set()

    client.register_handler(MOQTMessageType.SUBSCRIBE, on_subscribe)
    async with client.connect() as session:
        await session.client_session_init()
        await session.publish_namespace(namespace=args.namespace, wait_response=True)
        say("READY")
        await asyncio.wait_for(done.wait(), args.timeout)
        await asyncio.sleep(args.linger)
        session.close()
    return 0


async def subscribe(args: argparse.Namespace) -> int:
    client = client_for(args.url)
    received = 0
    finished = asyncio.Event()

    def on_object(msg: Any, size: int, now: float, group_id: int, subgroup_id: int | None) -> None:
        nonlocal received
        data = getattr(msg, "payload", b"") or b""
        if not data:
            return  # a status object (end of group), not a payload
        received += 1
        say(f"OBJ {group_id} {msg.object_id} {bytes(data).hex()}")
        if received >= args.count:
            finished.set()

    async with client.connect() as session:
        await session.client_session_init()
        session.on_object_received = on_object
        response = await session.subscribe(namespace=args.namespace, track_name=args.track, wait_response=True)
        if isinstance(response, SubscribeError):
            say(f"ERROR {response.error_code} {response.reason}")
            return 1
        if not isinstance(response, SubscribeOk):
            say(f"ERROR unexpected {type(response).__name__}")
            return 1
        say("OK")
        try:
            await asyncio.wait_for(finished.wait(), args.timeout)
        except TimeoutError:
            say(f"TIMEOUT after {received} objects")
            return 1
        session.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["publish", "subscribe"])
    parser.add_argument("url")
    parser.add_argument("namespace")
    parser.add_argument("track")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--per-group", type=int, default=10)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--linger", type=float, default=1.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    return asyncio.run(publish(args) if args.role == "publish" else subscribe(args))


if __name__ == "__main__":
    sys.exit(main())
