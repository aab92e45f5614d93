"""The parser against RFC 4475's torture messages (sections 3.1 and 3.3, `torture.py`: the RFC's text in its
own notation, decoded) and against fuzzed input: the right 4xx/5xx or a parse, never a crash; then each
torture message against a running gateway (its final status, or nothing), malformed and mutated datagrams
answered or dropped while the gateway keeps serving, and an INVITE flood past the configured rate gets 503
with Retry-After."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import socket

import pytest
from clutchcall_engine.sip.message import Request, Response, SipParseError, parse, parse_name_addr, parse_via
from clutchcall_engine.sip.metrics import SipCollector
from clutchcall_engine.sip.transaction import server_key
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from sip_support import LOOPBACK, RecordingEvents, free_port, gateway, sip_config
from torture import BY_NAME, DIRECTORY, TORTURES, decode, load


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


SDP = "v=0\no=mhandley 29739 7272939 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 49217 RTP/AVP 0 12\n"

ACCEPTED = [t.name for t in TORTURES if t.parse_status is None]
REFUSED = [t.name for t in TORTURES if t.parse_status is not None]


def test_every_message_of_sections_3_1_and_3_3_is_a_fixture() -> None:
    """RFC 4475 3.1.1 has 13 valid messages, 3.1.2 19 invalid ones, 3.3 15."""
    sections = [t.section for t in TORTURES]
    assert len(set(sections)) == len(sections) == len({t.name for t in TORTURES})
    assert sum(s.startswith("3.1.1.") for s in sections) == 13
    assert sum(s.startswith("3.1.2.") for s in sections) == 19
    assert sum(s.startswith("3.3.") for s in sections) == 15
    assert sorted(p.stem for p in DIRECTORY.glob("*.txt")) == sorted(BY_NAME)


def test_rfc_notation_is_decoded() -> None:
    assert decode("A<hex>00FF</hex>\n<allOneLine>\nB\nC\n</allOneLine>\n<repeat count=3>ab</repeat>\n") == (
        b"A\x00\xff\r\nBC\r\nababab\r\n"
    )
    assert load("trws").split(b"\r\n", 1)[0].endswith(b"SIP/2.0  ")
    assert b"NUL:\\\x00 DEL:\\\x7f" in load("intmeth")


@pytest.mark.parametrize("name", ACCEPTED)
def test_rfc4475_accepted_messages_parse(name: str) -> None:
    data = load(name)
    msg = parse(data)
    assert msg.call_id
    head_end = data.index(b"\r\n\r\n") + 4
    length = int(msg.headers.get("content-length") or "0")
    assert msg.body == data[head_end : head_end + length]
    if name != "dblreq":  # its datagram carries a second message after the first one's body
        assert len(data) - head_end == length, "the transcription's body must match its Content-Length"
    if isinstance(msg, Request):
        assert msg.cseq[1] == msg.method


@pytest.mark.parametrize("name", REFUSED)
def test_rfc4475_refused_messages_get_their_status(name: str) -> None:
    with pytest.raises(SipParseError) as err:
        parse(load(name))
    assert err.value.status == BY_NAME[name].parse_status, err.value.reason


def test_rfc4475_wsinv_details() -> None:
    msg = parse(load("wsinv"))
    assert isinstance(msg, Request)
    assert msg.uri == "sip:vivekg@chair-dnrc.example.com;unknownparam"
    assert msg.cseq == (9, "INVITE")
    assert msg.headers.get("max-forwards") == "0068"
    assert [parse_via(v).host for v in msg.headers.get_all("via")] == [
        "192.0.2.2",
        "spindle.example.com",
        "192.168.255.111",
    ]
    assert msg.top_via.branch == "390skdjuw"
    assert parse_name_addr(msg.headers.get("to") or "", "To").tag == "1918181833n"
    sender = parse_name_addr(msg.headers.get("from") or "", "From")
    assert sender.display == '"J Rosenberg \\\\\\""' and sender.tag == "98asjd8"
    contact = parse_name_addr(msg.headers.get("contact") or "", "Contact")
    assert contact.params == {"newparam": "newvalue", "secondparam": None, "q": "0.33"}
    assert msg.headers.get("newfangledheader") == "newfangled value continued newfangled value"
    assert msg.headers.get("subject") == ""
    assert len(msg.body) == 150


def test_rfc4475_intmeth_and_longreq_details() -> None:
    intmeth = parse(load("intmeth"))
    assert isinstance(intmeth, Request) and intmeth.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert intmeth.headers.get("extensionheader-!.%*+_`'~") == "\ufeff\u5927\u505c\u96fb"
    longreq = parse(load("longreq"))
    assert len(longreq.headers.get_all("via")) == 34
    assert longreq.call_id == "longreq.one" + "really" * 20 + "longcallid"


def test_rfc4475_mpart01_keeps_its_binary_multipart_body_byte_exact() -> None:
    """mpart01's second part is a detached S/MIME signature (DER, CMS SignedData) sent with
    Content-Transfer-Encoding: binary: its CR, LF and NUL octets must reach the body untouched."""
    msg = parse(load("mpart01"))
    assert isinstance(msg, Request) and msg.method == "MESSAGE"
    assert msg.headers.get("content-type") == "multipart/mixed;boundary=7a9cbec02ceef655"
    delimiter = b"\r\n--7a9cbec02ceef655"
    assert msg.body.startswith(delimiter[2:] + b"\r\n") and msg.body.endswith(delimiter + b"--\r\n")
    parts = msg.body[len(delimiter) - 2 : -len(delimiter) - 4].split(delimiter)
    heads_and_contents = [part.split(b"\r\n\r\n", 1) for part in parts]
    assert [head.split(b"\r\n")[1] for head, _ in heads_and_contents] == [
        b"Content-Type: text/plain",
        b"Content-Type: application/octet-stream",
    ]
    assert heads_and_contents[0][1] == b"Hello"
    signature = heads_and_contents[1][1]
    # DER: SEQUENCE with a two-octet length (0x82) spanning exactly the part, then the signedData OID
    assert signature[:2] == b"\x30\x82" and int.from_bytes(signature[2:4], "big") + 4 == len(signature) == 342
    assert signature[4:17] == bytes.fromhex("06092A864886F70D010702A082")
    assert {b"\r", b"\n", b"\x00"} <= {signature[i : i + 1] for i in range(len(signature))}


def test_rfc4475_dblreq_keeps_only_the_first_message() -> None:
    msg = parse(load("dblreq"))
    assert isinstance(msg, Request) and msg.method == "REGISTER" and msg.body == b""


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_fuzzed_bytes_parse_or_raise_sip_parse_error(data: bytes) -> None:
    try:
        msg = parse(data)
    except SipParseError as exc:
        assert 400 <= exc.status < 600 and exc.reason
    else:
        assert isinstance(msg, Request | Response)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_valid_messages_parse_or_raise_sip_parse_error(data: st.DataObject) -> None:
    base = bytearray(load(data.draw(st.sampled_from(ACCEPTED))))
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(base) - 1))
        op = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if op == "flip":
            base[pos] = data.draw(st.sampled_from(list(b' :;,<>"\r\n\t\\0@=%\x00\xff')))
        elif op == "delete":
            del base[pos : pos + data.draw(st.integers(1, 20))]
        else:
            base[pos:pos] = data.draw(st.binary(min_size=1, max_size=10))
        if not base:
            break
    try:
        parse(bytes(base))
    except SipParseError as exc:
        assert 400 <= exc.status < 600


def _exchange(sock: socket.socket, data: bytes, timeout: float = 1.0) -> bytes | None:
    sock.sendto(data, sock.getpeername())
    sock.settimeout(timeout)
    try:
        return sock.recv(65535)
    except TimeoutError:
        return None


def run(coro: object, timeout: float = 60.0) -> None:
    async def bounded() -> None:
        assert asyncio.iscoroutine(coro)
        await asyncio.wait_for(coro, timeout)

    asyncio.run(bounded())


_CALL_ID = re.compile(rb"^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)", re.MULTILINE | re.IGNORECASE)
_HEADER = re.compile(rb"^([A-Za-z-]+):[ \t]*(.*?)\r$", re.MULTILINE)


def _final_reply(sock: socket.socket, data: bytes, timeout: float) -> tuple[int, dict[bytes, bytes]] | None:
    """Send one datagram; the status and headers of the first final response to it (by Call-ID: earlier
    messages' final responses are retransmitted until an ACK we never send), or None within `timeout`.
    Read with regular expressions: a 400 copies the offending CSeq, which our own parser refuses."""
    call_id = _CALL_ID.search(data)
    sock.sendto(data, sock.getpeername())
    sock.settimeout(timeout)
    while True:
        try:
            reply = sock.recv(65535)
        except TimeoutError:
            return None
        reply_call_id = _CALL_ID.search(reply)
        same_call = (reply_call_id and reply_call_id[1]) == (call_id and call_id[1])  # insuf has no Call-ID
        # requests are the gateway's own (the BYE after an unacknowledged 2xx)
        if reply.startswith(b"SIP/2.0 ") and reply[8:9] != b"1" and same_call:
            return int(reply[8:11]), {m[1].lower(): m[2] for m in _HEADER.finditer(reply)}


def _batches_without_shared_transactions() -> list[list[str]]:
    """The fixtures in batches where no two requests share a server transaction key (several reuse the RFC's
    branch z9hG4bKkdjuw and sent-by), so no message is taken for another's retransmission."""
    batches: list[tuple[set[tuple[str, ...]], list[str]]] = []
    for torture in TORTURES:
        try:
            msg = parse(load(torture.name))
            key = server_key(msg) if isinstance(msg, Request) else (torture.name,)
        except SipParseError:
            key = (torture.name,)
        batch = next((b for b in batches if key not in b[0]), None)
        if batch is None:
            batch = (set(), [])
            batches.append(batch)
        batch[0].add(key)
        batch[1].append(torture.name)
    return [names for _, names in batches]


@pytest.mark.parametrize("batch", _batches_without_shared_transactions())
def test_gateway_gives_each_rfc4475_message_its_outcome(batch: list[str]) -> None:
    """Every fixture sent to a running gateway: the final status the table says, or nothing (a response of no
    transaction, a request with nothing to answer with); the gateway keeps serving after each."""

    async def main() -> None:
        async with gateway(sip_config(free_port()), RecordingEvents()) as gw:
            loop = asyncio.get_running_loop()
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.connect((LOOPBACK, gw.port))
            outcomes: dict[str, int | None] = {}
            for name in batch:
                expected = BY_NAME[name].gateway_status
                reply = await loop.run_in_executor(None, _final_reply, sock, load(name), 3.0 if expected else 0.5)
                outcomes[name] = None if reply is None else reply[0]
                if reply is not None and reply[0] == 420:
                    assert reply[1][b"unsupported"] == b"nothingSupportsThis, nothingSupportsThisEither"
                if reply is not None and reply[0] in (406, 415):
                    assert reply[1][b"accept"] == b"application/sdp"
            assert outcomes == {name: BY_NAME[name].gateway_status for name in batch}
            fresh = load("semiuri").replace(b"z9hG4bKkdjuw", b"z9hG4bKafterall")
            reply = await loop.run_in_executor(None, _final_reply, sock, fresh, 2.0)
            assert reply is not None and reply[0] == 200
            refused = [n for n in batch if BY_NAME[n].parse_status is not None]
            assert gw.layer.malformed >= len(refused)
            sock.close()

    run(main())


def test_gateway_drops_junk_and_keeps_serving() -> None:
    async def main() -> None:
        async with gateway(sip_config(free_port()), RecordingEvents()) as gw:
            loop = asyncio.get_running_loop()
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.connect((LOOPBACK, gw.port))
            for junk in (b"\x00" * 100, b"INVITE\r\n\r\n", b"\xff\xfe garbage", b"SIP/2.0 200 OK\r\n\r\n"):
                assert await loop.run_in_executor(None, _exchange, sock, junk, 0.2) is None
            reply = await loop.run_in_executor(None, _exchange, sock, load("semiuri"), 2.0)
            assert reply is not None and reply.startswith(b"SIP/2.0 200 OK"), reply
            sock.close()

    run(main())


def _invite(n: int, port: int) -> bytes:
    return crlf(
        f"INVITE sip:+15550199@{LOOPBACK} SIP/2.0\nVia: SIP/2.0/UDP {LOOPBACK}:{port};branch=z9hG4bKflood{n}\n"
        f"From: <sip:+1555{n:04d}@{LOOPBACK}>;tag=f{n}\nTo: <sip:+15550199@{LOOPBACK}>\nCall-ID: flood-{n}\n"
        f"CSeq: 1 INVITE\nMax-Forwards: 70\nContact: <sip:flood@{LOOPBACK}:{port}>\nContent-Length: 0\n\n"
    )


def test_invite_flood_gets_503_with_retry_after_past_the_rate() -> None:
    async def main() -> None:
        events = RecordingEvents()
        config = sip_config(free_port(), invite_rate=2.0, invite_burst=5)
        async with gateway(config, events) as gw:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((LOOPBACK, 0))
            port = sock.getsockname()[1]
            for n in range(30):
                sock.sendto(_invite(n, port), (LOOPBACK, gw.port))
            finals: dict[str, bytes] = {}
            sock.settimeout(0.2)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5
            while len(finals) < 30 and loop.time() < deadline:
                try:
                    data = await loop.run_in_executor(None, sock.recv, 65535)
                except TimeoutError:
                    continue
                msg = parse(data)
                if isinstance(msg, Response) and msg.status >= 200:
                    finals.setdefault(msg.call_id, data)
            sock.close()
            statuses = [parse(d) for d in finals.values()]
            refused = [m for m in statuses if isinstance(m, Response) and m.status == 503]
            accepted = [m for m in statuses if isinstance(m, Response) and m.status == 200]
            assert len(finals) == 30
            assert 5 <= len(accepted) <= 6 and len(refused) == 30 - len(accepted)  # the burst (+1 refilled)
            assert all(int(m.headers.get("retry-after") or "0") >= 1 for m in refused)
            assert gw.stats.refused_rate == len(refused)
            registry = CollectorRegistry()
            registry.register(SipCollector(gw))
            text = generate_latest(registry).decode()
            assert f'clutchcall_sip_refused_total{{bound="invite_rate"}} {float(len(refused))}' in text
            assert len(events.inbound) == len(accepted)

    run(main())


def _mutate(rng: random.Random, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(rng.randint(1, 6)):
        if not data:
            break
        pos = rng.randrange(len(data))
        op = rng.choice(["flip", "delete", "insert", "dup"])
        if op == "flip":
            data[pos] = rng.choice(b' :;,<>"\r\n\t\\0@=%\x00\xff')
        elif op == "delete":
            del data[pos : pos + rng.randint(1, 20)]
        elif op == "insert":
            data[pos:pos] = rng.randbytes(rng.randint(1, 10))
        else:
            line_end = data.find(b"\r\n", pos)
            line_start = data.rfind(b"\r\n", 0, pos) + 2
            if line_end > line_start:
                data[line_end:line_end] = data[line_start - 2 : line_end]  # a header line twice
    return bytes(data)


def test_gateway_survives_mutated_traffic(caplog: pytest.LogCaptureFixture) -> None:
    """Mutations of every valid fixture, of INVITEs with SDP and of in-dialog requests: answered or dropped,
    no exception escapes into the event loop, and the gateway still answers afterwards."""

    async def main() -> None:
        async with gateway(sip_config(free_port()), RecordingEvents()) as gw:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((LOOPBACK, 0))
            port = sock.getsockname()[1]
            sdp_body = SDP.replace("\n", "\r\n").encode()
            invite = _invite(1, port).replace(b"Content-Length: 0\r\n\r\n", b"")
            invite += b"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n" % len(sdp_body) + sdp_body
            bases = [load(name) for name in ACCEPTED] + [invite, _invite(2, port)]
            bases += [_invite(3, port).replace(b"INVITE", m).replace(b"+15550199>", b"+15550199>;tag=x") for m in
                      (b"BYE", b"ACK", b"CANCEL", b"REFER", b"NOTIFY", b"INFO")]  # fmt: skip
            rng = random.Random(4475)
            for n in range(600):
                sock.sendto(_mutate(rng, rng.choice(bases)), (LOOPBACK, gw.port))
                if n % 50 == 0:
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)
            sock.settimeout(0.05)
            with contextlib.suppress(TimeoutError):
                while sock.recv(65535):
                    pass
            sock.close()
            check = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            check.connect((LOOPBACK, gw.port))
            loop = asyncio.get_running_loop()
            fresh = load("semiuri").replace(b"z9hG4bKkdjuw", b"z9hG4bKafterfuzz")  # a new transaction
            reply = await loop.run_in_executor(None, _exchange, check, fresh, 2.0)
            check.close()
            assert reply is not None and reply.startswith(b"SIP/2.0 200 OK")
            assert gw.layer.malformed > 100

    with caplog.at_level(logging.WARNING):
        run(main())
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors][:3]
