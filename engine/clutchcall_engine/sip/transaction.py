"""SIP transports (UDP, TCP) and the transaction layer of RFC 3261 section 17 with timers A to K.

The layer matches responses to client transactions by branch and method (17.1.3) and requests to
server transactions by branch, sent-by and method (17.2.3; RFC 2543 requests without the magic
cookie by Call-ID, From tag, CSeq and top Via). What no transaction takes goes to the transaction
user (the gateway): new requests, 2xx retransmissions and ACKs for 2xx.

Reliable transports (TCP) skip the retransmission timers (A, E, G) and the absorb timers (D, I, J, K).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from .message import (
    COMPACT,
    MAX_MESSAGE_BYTES,
    REASONS,
    Headers,
    Request,
    Response,
    SipParseError,
    parse,
    parse_name_addr,
    parse_via,
    response_to,
    split_list,
    unfold,
)

log = logging.getLogger("clutchcall.engine.sip")

Addr = tuple[str, int]
MAGIC_COOKIE = "z9hG4bK"
LOCAL_TIMEOUT = "No Response (Timer B/F)"
"""The reason phrase of the 408 a client transaction reports when its peer never answered (17.1.1.2, 17.1.2.2)."""


@dataclass(frozen=True)
class Timers:
    """RFC 3261 Table 4; tests shorten T1 to keep scenario timeouts small."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0


class State(Enum):
    CALLING = "calling"
    TRYING = "trying"
    PROCEEDING = "proceeding"
    ACCEPTED = "accepted"  # RFC 6026: a server INVITE transaction that sent 2xx and waits for the ACK
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


_PORT_ATTEMPTS = 20  # free UDP ports tried, when any port will do, before one's TCP twin is free too


class Transport:
    """Where messages leave: one UDP socket, and TCP connections by peer address."""

    def __init__(self, on_datagram: Callable[[bytes, Addr, bool], None]) -> None:
        self._on_datagram = on_datagram
        self.udp: asyncio.DatagramTransport | None = None
        self.tcp_server: asyncio.Server | None = None
        self.tcp_writers: dict[Addr, asyncio.StreamWriter] = {}
        self.local: Addr = ("127.0.0.1", 0)
        self.tcp_port = 0
        self.max_tcp_connections = 1024
        self._readers: set[asyncio.Task[None]] = set()
        self.dropped_tcp_connections = 0

    async def start(self, host: str, port: int, *, tcp: bool = True) -> None:
        loop = asyncio.get_running_loop()
        on_datagram = self._on_datagram

        class Protocol(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
                on_datagram(data, (str(addr[0]), int(addr[1])), False)

            def error_received(self, exc: Exception) -> None:  # ICMP unreachable and friends: nothing to do
                log.debug("sip udp error: %s", exc)

        # SIP listens on one port number for UDP and TCP. Asked for any port (0), the kernel picks a free UDP port
        # whose TCP twin may be taken (an outgoing connection's ephemeral port, say): then try another one.
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self.udp, _ = await loop.create_datagram_endpoint(Protocol, local_addr=(host, port))
            sockname = self.udp.get_extra_info("sockname")
            self.local = (host, int(sockname[1]))
            if not tcp:
                return
            try:
                self.tcp_server = await asyncio.start_server(self._tcp_connection, host, self.local[1])
                return
            except OSError as exc:
                self.udp.close()
                self.udp = None
                if port != 0 or exc.errno != errno.EADDRINUSE or attempt == _PORT_ATTEMPTS:
                    raise
                log.info("sip: TCP port %d is taken; choosing another port for UDP and TCP", self.local[1])

    async def _tcp_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        addr: Addr = (str(peer[0]), int(peer[1]))
        if len(self.tcp_writers) >= self.max_tcp_connections:
            self.dropped_tcp_connections += 1
            writer.close()
            return
        self.tcp_writers[addr] = writer
        await self._read_stream(reader, writer, addr)

    async def connect(self, addr: Addr) -> None:
        """A TCP connection to `addr` (the trunk), kept and read like an accepted one; reused while it lasts."""
        if addr in self.tcp_writers:
            return
        reader, writer = await asyncio.open_connection(*addr)
        self.tcp_writers[addr] = writer
        task = asyncio.create_task(self._read_stream(reader, writer, addr))
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)

    async def _read_stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, addr: Addr) -> None:
        try:
            while True:
                data = await read_stream_message(reader)
                if data is None:
                    break
                self._on_datagram(data, addr, True)
        except SipParseError as exc:  # framing is lost: answer if we can, then close
            log.info("sip tcp %s: %s", addr, exc.reason)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.tcp_writers.pop(addr, None)
            writer.close()

    def send(self, data: bytes, addr: Addr, reliable: bool = False) -> None:
        writer = self.tcp_writers.get(addr) if reliable else None
        if writer is not None:
            writer.write(data)
        elif self.udp is not None:
            self.udp.sendto(data, addr)

    def close(self) -> None:
        if self.udp is not None:
            self.udp.close()
        if self.tcp_server is not None:
            self.tcp_server.close()
        for writer in list(self.tcp_writers.values()):
            writer.close()
        for task in list(self._readers):
            task.cancel()


async def read_stream_message(reader: asyncio.StreamReader) -> bytes | None:
    """One message from a stream: the head up to the empty line, then Content-Length bytes (18.3)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise SipParseError(400, "stream ended inside a message head") from None
        return None
    except asyncio.LimitOverrunError:
        raise SipParseError(513, "message head longer than the stream buffer") from None
    length: int | None = None
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            if not value.strip().isdigit():
                raise SipParseError(400, f"Content-Length: not a number: {value.strip()[:20]!r}")
            length = int(value.strip())
    if length is None:
        raise SipParseError(400, "Content-Length is required over TCP")
    if len(head) + length > MAX_MESSAGE_BYTES:
        raise SipParseError(513, f"message of {len(head) + length} bytes exceeds {MAX_MESSAGE_BYTES}")
    return head + await reader.readexactly(length)


def server_key(req: Request) -> tuple[str, ...]:
    via = req.top_via
    method = "INVITE" if req.method == "ACK" else req.method
    if via.branch.startswith(MAGIC_COOKIE):
        return (via.branch, via.host, str(via.port or 5060), method)
    from_tag = parse_name_addr(req.headers.get("from") or "", "From").tag or ""
    return ("rfc2543", req.call_id, from_tag, str(req.cseq[0]), via.host, method)


class ClientTransaction:
    """17.1.1 (INVITE: timers A, B, D) and 17.1.2 (non-INVITE: timers E, F, K)."""

    def __init__(
        self,
        layer: TransactionLayer,
        request: Request,
        addr: Addr,
        on_response: Callable[[Response], None],
        reliable: bool = False,
    ) -> None:
        self.layer = layer
        self.request = request
        self.addr = addr
        self.reliable = reliable
        self.on_response = on_response
        self.invite = request.method == "INVITE"
        self.state = State.CALLING if self.invite else State.TRYING
        self.branch = request.top_via.branch
        self._data = request.serialize()
        self._retransmit: asyncio.TimerHandle | None = None
        self._timeout: asyncio.TimerHandle | None = None
        self._interval = layer.timers.t1
        self.ack: bytes | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.branch, self.request.method

    def start(self) -> None:
        self.layer.client[self.key] = self
        self._send()
        loop = asyncio.get_running_loop()
        if not self.reliable:
            self._retransmit = loop.call_later(self._interval, self._on_retransmit)
        self._timeout = loop.call_later(64 * self.layer.timers.t1, self._on_timeout)  # B or F

    def _send(self) -> None:
        self.layer.transport.send(self._data, self.addr, self.reliable)

    def _on_retransmit(self) -> None:
        if self.state not in (State.CALLING, State.TRYING, State.PROCEEDING):
            return
        self.layer.retransmissions += 1
        self._send()
        t = self.layer.timers
        if self.invite:
            self._interval *= 2  # A doubles without a cap
        else:
            self._interval = t.t2 if self.state == State.PROCEEDING else min(2 * self._interval, t.t2)  # E
        self._retransmit = asyncio.get_running_loop().call_later(self._interval, self._on_retransmit)

    def _on_timeout(self) -> None:
        if self.invite and self.state != State.CALLING:
            return  # Timer B only bounds the wait for the first response
        if not self.invite and self.state not in (State.TRYING, State.PROCEEDING):
            return
        self._terminate()
        timeout = response_to(self.request, 408, LOCAL_TIMEOUT)
        self.on_response(timeout)

    def receive(self, resp: Response) -> None:
        if self.state in (State.COMPLETED, State.TERMINATED):
            if self.ack is not None and resp.status >= 300:
                self.layer.transport.send(self.ack, self.addr, self.reliable)  # a retransmitted final (D)
            return
        if resp.status < 200:
            if self.state in (State.CALLING, State.TRYING):
                self.state = State.PROCEEDING
                if self.invite and self._retransmit is not None:
                    self._retransmit.cancel()
            self.on_response(resp)
            return
        if self.invite and resp.status < 300:
            self._terminate()  # 2xx: the TU acknowledges it and absorbs its retransmissions
            self.on_response(resp)
            return
        if self.invite:
            self.ack = build_non2xx_ack(self.request, resp).serialize()
            self.layer.transport.send(self.ack, self.addr, self.reliable)
        self._cancel_timers()
        self.state = State.COMPLETED
        linger = 0.0 if self.reliable else (32.0 if self.invite else self.layer.timers.t4)  # D or K
        self._retransmit = asyncio.get_running_loop().call_later(linger, self._terminate)
        self.on_response(resp)

    def _cancel_timers(self) -> None:
        for handle in (self._retransmit, self._timeout):
            if handle is not None:
                handle.cancel()

    def _terminate(self) -> None:
        self._cancel_timers()
        self.state = State.TERMINATED
        if self.layer.client.get(self.key) is self:
            del self.layer.client[self.key]


def build_non2xx_ack(invite: Request, resp: Response) -> Request:
    """17.1.1.3: the ACK of a non-2xx final, in the INVITE's transaction (same branch)."""
    headers = Headers()
    headers.add("via", invite.headers.get_all("via")[0])
    headers.add("max-forwards", "70")
    for name in ("from", "call-id"):
        headers.add(name, invite.headers.get(name) or "")
    headers.add("to", resp.headers.get("to") or "")
    headers.add("cseq", f"{invite.cseq[0]} ACK")
    for route in invite.headers.get_all("route"):
        headers.add("route", route)
    return Request(headers, b"", "ACK", invite.uri)


class ServerTransaction:
    """17.2.1 (INVITE: timers G, H, I; 2xx retransmitted until the ACK as RFC 6026 says) and 17.2.2 (timer J)."""

    def __init__(self, layer: TransactionLayer, request: Request, addr: Addr, reliable: bool) -> None:
        self.layer = layer
        self.request = request
        self.addr = addr
        self.reliable = reliable
        self.invite = request.method == "INVITE"
        self.state = State.PROCEEDING if self.invite else State.TRYING
        self.key = server_key(request)
        self.last: bytes | None = None
        self.final_status = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timeout: asyncio.TimerHandle | None = None
        self._interval = layer.timers.t1
        self.on_ack_timeout: Callable[[], None] | None = None
        self.on_ack: Callable[[Request], None] | None = None

    def respond(self, resp: Response) -> None:
        if self.state in (State.COMPLETED, State.CONFIRMED, State.TERMINATED, State.ACCEPTED):
            return  # a final response was sent already
        self.last = resp.serialize()
        self._send()
        if resp.status < 200:
            return
        self.final_status = resp.status
        loop = asyncio.get_running_loop()
        t = self.layer.timers
        if not self.invite:
            self.state = State.COMPLETED
            self._timer = loop.call_later(0.0 if self.reliable else 64 * t.t1, self._terminate)  # J
            return
        self.state = State.ACCEPTED if resp.status < 300 else State.COMPLETED
        if not self.reliable:
            self._timer = loop.call_later(self._interval, self._on_retransmit)  # G
        self._timeout = loop.call_later(64 * t.t1, self._on_no_ack)  # H (L for 2xx)

    def _send(self) -> None:
        if self.last is not None:
            self.layer.transport.send(self.last, self.addr, self.reliable)

    def _on_retransmit(self) -> None:
        if self.state not in (State.COMPLETED, State.ACCEPTED):
            return
        self.layer.retransmissions += 1
        self._send()
        self._interval = min(2 * self._interval, self.layer.timers.t2)
        self._timer = asyncio.get_running_loop().call_later(self._interval, self._on_retransmit)

    def _on_no_ack(self) -> None:
        if self.state in (State.COMPLETED, State.ACCEPTED):
            accepted = self.state == State.ACCEPTED
            self._terminate()
            if accepted and self.on_ack_timeout is not None:
                self.on_ack_timeout()

    def receive_retransmission(self) -> None:
        self._send()

    def receive_ack(self, ack: Request) -> None:
        if self.state not in (State.COMPLETED, State.ACCEPTED):
            return
        accepted = self.state == State.ACCEPTED
        self._cancel_timers()
        self.state = State.CONFIRMED
        linger = 0.0 if self.reliable or accepted else self.layer.timers.t4  # I
        self._timer = asyncio.get_running_loop().call_later(linger, self._terminate)
        if accepted and self.on_ack is not None:
            self.on_ack(ack)

    def _cancel_timers(self) -> None:
        for handle in (self._timer, self._timeout):
            if handle is not None:
                handle.cancel()

    def _terminate(self) -> None:
        self._cancel_timers()
        self.state = State.TERMINATED
        if self.layer.server.get(self.key) is self:
            del self.layer.server[self.key]
        if self.invite:
            dialog_key = (self.request.call_id, self.request.cseq[0])
            if self.layer.accepted.get(dialog_key) is self:
                del self.layer.accepted[dialog_key]


class TransactionUser:
    """What the gateway implements: requests and responses no transaction consumed, and parse errors."""

    def on_request(self, req: Request, tx: ServerTransaction | None, addr: Addr, reliable: bool) -> None: ...

    def on_stray_response(self, resp: Response, addr: Addr) -> None: ...


class TransactionLayer:
    def __init__(self, tu: TransactionUser, timers: Timers, *, max_transactions: int = 100_000) -> None:
        self.tu = tu
        self.timers = timers
        self.transport = Transport(self._received)
        self.client: dict[tuple[str, str], ClientTransaction] = {}
        self.server: dict[tuple[str, ...], ServerTransaction] = {}
        self.accepted: dict[tuple[str, int], ServerTransaction] = {}  # INVITE server tx in ACCEPTED by dialog
        self.max_transactions = max_transactions
        self.retransmissions = 0
        self.malformed = 0
        self.refused_overload = 0

    def _received(self, data: bytes, addr: Addr, reliable: bool) -> None:
        if not data.strip(b"\r\n"):
            return  # keep-alive CRLFs (RFC 5626)
        try:
            msg = parse(data, stream=reliable)
        except SipParseError as exc:
            self.malformed += 1
            self._reject(data, exc, addr, reliable)
            return
        if isinstance(msg, Response):
            self._response(msg, addr)
        else:
            self._request(msg, addr, reliable)

    def _reject(self, data: bytes, exc: SipParseError, addr: Addr, reliable: bool) -> None:
        """Answer a malformed request with its status when the fields a response needs can be read; else drop."""
        log.info("sip from %s:%d: %s", addr[0], addr[1], exc)
        try:
            head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "surrogateescape")
        except ValueError:
            return
        if head.startswith("SIP/") or head.startswith("ACK "):
            return  # never answer a response or an ACK
        headers = Headers()
        for line in unfold(head)[1:]:
            name, colon, value = line.partition(":")
            key = name.strip().lower()
            key = COMPACT.get(key, key)
            if colon and key in ("via", "from", "to", "call-id", "cseq"):
                headers.add(key, value.strip())
        if not all(headers.get(k) for k in ("via", "from", "to", "call-id", "cseq")):
            return
        resp = Response(headers, b"", exc.status, REASONS.get(exc.status, "Error"))
        resp.headers.add("warning", f'399 clutchcall "{_quote(exc.reason)}"')
        try:  # a reply needs a Via with a sent-by; its parameters may be what is malformed (RFC 4475 3.1.2.1)
            parse_via(split_list(headers.get("via") or "")[0].split(";", 1)[0])
        except (SipParseError, IndexError):
            return
        self.transport.send(resp.serialize(), addr, reliable)  # to the source address (RFC 3581)

    def _response(self, resp: Response, addr: Addr) -> None:
        try:
            key = (resp.top_via.branch, resp.cseq[1])
        except SipParseError:
            self.malformed += 1
            return
        if key[1] == "ACK":
            return
        tx = self.client.get(key)
        try:
            if tx is not None:
                tx.receive(resp)
            else:
                self.tu.on_stray_response(resp, addr)
        except SipParseError as exc:  # a header the parser leaves opaque (Contact, Record-Route) is malformed
            self.malformed += 1
            log.info("sip response from %s:%d: %s", addr[0], addr[1], exc)

    def _request(self, req: Request, addr: Addr, reliable: bool) -> None:
        key = server_key(req)
        tx = self.server.get(key)
        if req.method == "ACK":
            if tx is not None and tx.invite and tx.state == State.COMPLETED:
                tx.receive_ack(req)
                return
            accepted = self.accepted.get((req.call_id, req.cseq[0]))
            if accepted is not None:
                accepted.receive_ack(req)
                return
            self.tu.on_request(req, None, addr, reliable)  # an ACK for a 2xx nobody waits for
            return
        if tx is not None:
            self.layer_retransmission(tx)
            return
        if len(self.server) >= self.max_transactions:
            self.refused_overload += 1
            return
        tx = ServerTransaction(self, req, addr, reliable)
        self.server[key] = tx
        if tx.invite:
            self.accepted[(req.call_id, req.cseq[0])] = tx
        try:
            self.tu.on_request(req, tx, addr, reliable)
        except SipParseError as exc:  # a header the parser leaves opaque (Contact, Refer-To, ...) is malformed
            self.malformed += 1
            resp = response_to(req, exc.status, REASONS.get(exc.status, "Error"))
            resp.headers.add("warning", f'399 clutchcall "{_quote(exc.reason)}"')
            tx.respond(resp)

    def layer_retransmission(self, tx: ServerTransaction) -> None:
        self.retransmissions += 1
        tx.receive_retransmission()

    def find_invite(self, cancel: Request) -> ServerTransaction | None:
        """9.2: the INVITE server transaction a CANCEL names (same branch, sent-by)."""
        key = server_key(cancel)
        return self.server.get((*key[:-1], "INVITE"))

    def send_request(
        self, req: Request, addr: Addr, on_response: Callable[[Response], None], reliable: bool = False
    ) -> ClientTransaction:
        tx = ClientTransaction(self, req, addr, on_response, reliable)
        tx.start()
        return tx

    def send_stateless(self, msg: Request | Response, addr: Addr, reliable: bool = False) -> None:
        self.transport.send(msg.serialize(), addr, reliable)

    def close(self) -> None:
        for ctx in list(self.client.values()):
            ctx._terminate()
        for stx in list(self.server.values()):
            stx._terminate()
        with contextlib.suppress(Exception):
            self.transport.close()


def _quote(text: str) -> str:
    return "".join(c for c in text if c.isprintable() and c not in '"\\')[:200]
