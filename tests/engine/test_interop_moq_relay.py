"""Our client through moq-relay (crates.io, the moq-dev relay; IETF draft-14 over raw QUIC, ALPN moq-00).

`make test` builds it into a per-machine cache and sets $MOQ_RELAY. It runs on 127.0.0.1 only, with a
generated self-signed certificate and a static anonymous grant for voice/** (--auth-public): moq-relay
refuses a token it cannot verify, so our client connects without one. The grant is voice/**, not **,
because under ** moq-relay sends SUBSCRIBE_NAMESPACE with an empty prefix, which draft-14 forbids
(a Track Namespace has 1 to 32 fields) and our codec rightly refuses.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clutchcall_engine.process import moq_relay_binary
from clutchcall_runtime.moqt.client import Client
from clutchcall_runtime.moqt.errors import RequestError
from moqt_support import LOOPBACK, client, collect, run

MOQ_RELAY = moq_relay_binary()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def moq_relay(tmp_path: Path) -> Iterator[str]:
    """A moq-relay on 127.0.0.1; yields its moqt:// URL."""
    if MOQ_RELAY is None:
        if os.environ.get("CI"):
            pytest.fail("moq-relay is not built: `make moq-relay` builds it (make test does) and sets $MOQ_RELAY")
        pytest.skip("moq-relay is not built (`make moq-relay`)")
    port = free_udp_port()
    log = (tmp_path / "moq-relay.log").open("w")
    args = [
        "--listen",
        f"{LOOPBACK}:{port}",
        "--listen-tls-generate",
        "localhost",
        "--listen-version",
        "moq-transport-14",
    ]
    proc = subprocess.Popen(
        [str(MOQ_RELAY), *args, "--auth-public", "voice/**", "--log-level", "info"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"moqt://{LOOPBACK}:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def connected(url: str) -> Client:
    """Our client, retried while moq-relay is still binding (it prints nothing when ready)."""
    for _ in range(50):
        try:
            return await client(url, None, reconnect=False)
        except Exception:  # not listening yet: the handshake times out or is refused
            await asyncio.sleep(0.1)
    return await client(url, None, reconnect=False)


def test_setup_and_a_refused_subscribe_leave_the_session_up(moq_relay: str) -> None:
    """CLIENT_SETUP/SERVER_SETUP at 0xff00000e, then SUBSCRIBE to a track nobody publishes: moq-relay answers
    with SUBSCRIBE_ERROR (our client raises RequestError), twice on one session, so nothing was a violation."""

    async def main() -> list[int]:
        ours = await connected(moq_relay)
        codes = []
        for _ in range(2):
            with pytest.raises(RequestError) as refused:
                await ours.subscribe(("voice", "nobody"), "uplink")
            codes.append(refused.value.code)
        await ours.close()
        return codes

    assert len(run(main(), timeout=30)) == 2


def test_our_client_publishes_and_subscribes_through_moq_relay(moq_relay: str) -> None:
    """moq-relay refuses draft-14 PUBLISH (NOT_SUPPORTED); our writer then announces the namespace
    (PUBLISH_NAMESPACE) and serves moq-relay's SUBSCRIBE; our subscriber gets the objects in order."""

    async def main() -> list[bytes]:
        pub = await connected(moq_relay)
        sub = await connected(moq_relay)
        try:
            writer = await pub.publish(("voice", "CA12"), "uplink", objects_per_group=5)
            objects = await sub.subscribe(("voice", "CA12"), "uplink")

            async def write() -> None:
                for i in range(40):
                    writer.write(bytes([i]) * 160)
                    await asyncio.sleep(0.02)

            writing = asyncio.create_task(write())
            got = await collect(objects, 20, timeout=10)
            await writing
            return [o.payload for o in got]
        finally:
            await pub.close()
            await sub.close()

    payloads = run(main(), timeout=40)
    first = payloads[0][0]  # a late subscriber starts at the latest group
    assert payloads == [bytes([i]) * 160 for i in range(first, first + 20)]
