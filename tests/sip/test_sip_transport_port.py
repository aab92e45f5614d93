"""The SIP transport listens on one port number for UDP and TCP. Asked for any port, it must not fail when the
kernel's free UDP port has its TCP twin taken (an ephemeral port of some outgoing connection: seen in CI as
"address already in use"); asked for a given port, that is a real error."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from clutchcall_engine.sip.transaction import Transport
from sip_support import LOOPBACK


def _taken_tcp_port() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen()
    return listener


def test_any_port_moves_past_a_udp_port_whose_tcp_twin_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        listener = _taken_tcp_port()
        taken = int(listener.getsockname()[1])
        real = loop.create_datagram_endpoint
        asked: list[int] = []

        async def first_gets_the_taken_port(factory: Any, local_addr: tuple[str, int], **kw: Any) -> Any:
            # the kernel's first pick is the port whose TCP twin is busy; later picks are its own
            port = taken if not asked else local_addr[1]
            asked.append(local_addr[1])
            return await real(factory, local_addr=(local_addr[0], port), **kw)

        monkeypatch.setattr(loop, "create_datagram_endpoint", first_gets_the_taken_port)
        transport = Transport(lambda data, addr, reliable: None)
        await transport.start(LOOPBACK, 0)
        try:
            assert len(asked) == 2 and asked == [0, 0]
            port = transport.local[1]
            assert port != taken
            assert transport.tcp_server is not None
            assert transport.tcp_server.sockets[0].getsockname()[1] == port  # one number for both
            await asyncio.sleep(0)  # the first UDP socket closes on the next iteration
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.bind((LOOPBACK, taken))  # it was let go, not leaked
        finally:
            assert transport.udp is not None
            transport.udp.close()
            transport.tcp_server.close()
            listener.close()

    asyncio.run(main())


def test_a_given_port_whose_tcp_twin_is_taken_is_an_error() -> None:
    async def main() -> None:
        listener = _taken_tcp_port()
        taken = int(listener.getsockname()[1])
        transport = Transport(lambda data, addr, reliable: None)
        try:
            with pytest.raises(OSError, match="address already in use"):
                await transport.start(LOOPBACK, taken)
            assert transport.udp is None
            await asyncio.sleep(0)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.bind((LOOPBACK, taken))  # the UDP half was closed again
        finally:
            listener.close()

    asyncio.run(main())
