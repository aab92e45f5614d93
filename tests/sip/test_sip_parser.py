"""The parser against RFC 4475 torture messages (fixtures written from the RFC's text; SDP bodies trimmed
where the RFC's point is in the head) and against fuzzed input: the right 4xx/5xx or a parse, never a crash;
then the gateway itself over UDP: malformed datagrams are answered or dropped and the gateway keeps serving,
and an INVITE flood past the configured rate gets 503 with Retry-After."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket

import pytest
from clutchcall_engine.sip.message import Request, Response, SipParseError, parse, parse_name_addr
from clutchcall_engine.sip.metrics import SipCollector
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from sip_support import LOOPBACK, RecordingEvents, free_port, gateway, sip_config


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8", "surrogateescape")


SDP = "v=0\no=mhandley 29739 7272939 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 49217 RTP/AVP 0 12\n"

# RFC 4475 3.1.1: valid messages every element must accept.
VALID = {
    "3.1.1.1 wsinv": (
        "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\n"
        "TO :\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\n"
        'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>\n  ;\n  tag = 98asjd8\n'
        "MaX-fOrWaRdS: 0068\nCall-ID: wsinv.ndaksdj@192.0.2.1\nContent-Length   : 0\n"
        "cseq: 0009\n  INVITE\nVia  : SIP  /   2.0\n /UDP\n    192.0.2.2;rport;branch=390skdjuw\ns :\n"
        "NewFangledHeader:   newfangled value\n continued newfangled value\n"
        "UnknownHeaderWithUnusualValue: ;;,,;;,;\nContent-Type: application/sdp\n"
        "Route:\n <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\n"
        "v:  SIP  / 2.0  / TCP     spindle.example.com   ;\n  branch  =   z9hG4bK9ikj8  ,\n"
        " SIP  /    2.0   / UDP  192.168.255.111   ; branch=\n z9hG4bK30239\n"
        'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =\n      newvalue ;\n'
        "  secondparam ; q = 0.33\n\n"
    ),
    "3.1.1.3 esc01": (
        "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0\nTo: sip:%75se%72@example.com\n"
        "From: <sip:I%20have%20spaces@example.net>;tag=938\nMax-Forwards: 87\n"
        "i: esc01.239409asdfakjkn23onasd0-3234\nCSeq: 234234 INVITE\n"
        "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw\nC: application/sdp\n"
        "Contact:\n  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>\nContent-Length: 0\n\n"
    ),
    "3.1.1.5 esc02": (
        "RE%47IST%45R sip:registrar.example.com SIP/2.0\n"
        'To: "%Z%45" <sip:resource@example.com>\nFrom: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23\n'
        "Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf\n"
        "Via: SIP/2.0/TCP host.example.com;rport;branch=z9hG4bK209%fzsnel234\nCSeq: 29344 RE%47IST%45R\n"
        "Max-Forwards: 70\nContact: <sip:alias1@host1.example.com>\nC%6Fntact: <sip:alias2@host2.example.com>\n"
        "Contact: <sip:alias3@host3.example.com>\nl: 0\n\n"
    ),
    "3.1.1.8 dblreq": (
        "REGISTER sip:example.com SIP/2.0\nTo: sip:j.user@example.com\nFrom: sip:j.user@example.com;tag=43251j3j324\n"
        "Max-Forwards: 8\nI: dblreq.0ha0isndaksdj99sdfafnl3lk233412\nContact: sip:j.user@host.example.com\n"
        "CSeq: 8 REGISTER\nVia: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492\nContent-Length: 0\n\n"
        "INVITE sip:joe@example.com SIP/2.0\nt: sip:joe@example.com\n"
    ),
    "3.1.1.9 semiuri": (
        "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0\nTo: sip:j_user@example.com\n"
        "From: sip:caller@example.org;tag=33242\nMax-Forwards: 3\nCall-ID: semiuri.0ha0isndaksdj\nCSeq: 8 OPTIONS\n"
        "Accept: application/sdp, application/pkcs7-mime,\n        multipart/mixed, multipart/signed,\n"
        "        message/sip, message/sipfrag\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw\nl: 0\n\n"
    ),
    "3.1.1.11 mpart01 (leading CRLFs)": (
        "\n\nOPTIONS sip:user@example.com SIP/2.0\nTo: sip:user@example.com\nFrom: <sip:caller@example.com>;tag=323\n"
        "Max-Forwards: 70\nCall-ID: transports.kijh4akdnaqjkwendsasfdj\nAccept: application/sdp\nCSeq: 60 OPTIONS\n"
        "Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw\nVia: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf\n"
        "Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj\nl: 0\n\n"
    ),
    "3.1.1.13 noreason": (
        "SIP/2.0 100 \nVia: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\nCall-ID: noreason.asndj203insdf99223ndf\n"
        "CSeq: 35 INVITE\nFrom: <sip:user@example.com>;tag=39ansfi3\nTo: <sip:user@example.edu>;tag=902jndnke3\n"
        "Content-Length: 0\nContact: <sip:user@host105.example.com>\n\n"
    ),
}

# RFC 4475 3.1.2: invalid messages, with the status a UAS answers.
INVALID = {
    "3.1.2.2 clerr (Content-Length larger than the message)": (
        400,
        "INVITE sip:user@example.com SIP/2.0\nMax-Forwards: 80\nTo: sip:j.user@example.com\n"
        "From: sip:caller@example.net;tag=93942939o2\nContact: <sip:caller@hungry.example.net>\n"
        "Call-ID: clerr.0ha0isndaksdjweiafasdk3\nCSeq: 8 INVITE\n"
        "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523\n"
        "Content-Type: application/sdp\nContent-Length: 9999\n\n" + SDP,
    ),
    "3.1.2.3 ncl (negative Content-Length)": (
        400,
        "INVITE sip:user@example.com SIP/2.0\nMax-Forwards: 254\nTo: sip:j.user@example.com\n"
        "From: sip:caller@example.net;tag=32394234\nCall-ID: ncl.0ha0isndaksdj2193423r542w35\nCSeq: 0 INVITE\n"
        "Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw\nContact: <sip:caller@example53.example.net>\n"
        "Content-Type: application/sdp\nContent-Length: -999\n\n" + SDP,
    ),
    "3.1.2.4 scalar02 (overlarge CSeq, Max-Forwards)": (
        400,
        "REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3\n"
        "To: <sip:user@example.com>\nFrom: <sip:user@example.com>;tag=239232jh3\nCSeq: 36893488147419103232 REGISTER\n"
        "Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32\nMax-Forwards: 300\nExpires: 1000000\n"
        "Contact: <sip:user@host129.example.com>\n  ;expires=280297596632815\nContent-Length: 0\n\n",
    ),
    "3.1.2.6 quotbal (unterminated quoted string)": (
        400,
        'INVITE sip:user@example.com SIP/2.0\nTo: "Mr. J. User <sip:j.user@example.com>\n'
        "From: sip:caller@example.net;tag=93334\nMax-Forwards: 10\nCall-ID: quotbal.aksdj\n"
        "Contact: <sip:caller@host59.example.net>\nCSeq: 8 INVITE\n"
        "Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234\n"
        "Content-Type: application/sdp\nContent-Length: 0\n\n",
    ),
    "3.1.2.7 ltgtruri (<> around the Request-URI)": (
        400,
        "INVITE <sip:user@example.com> SIP/2.0\nTo: sip:user@example.com\nFrom: sip:caller@example.net;tag=39291\n"
        "Max-Forwards: 23\nCall-ID: ltgtruri.1@192.0.2.5\nCSeq: 1 INVITE\nVia: SIP/2.0/UDP 192.0.2.5\n"
        "Contact: <sip:caller@host5.example.net>\nContent-Type: application/sdp\nContent-Length: 0\n\n",
    ),
    "3.1.2.8 lwsruri (LWS inside the Request-URI)": (
        400,
        "INVITE sip:user@example.com; lr SIP/2.0\nTo: sip:user@example.com;tag=3xfe-9921883-z9f\n"
        "From: sip:caller@example.net;tag=231413434\nMax-Forwards: 5\n"
        "Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423\n"
        "CSeq: 2130706432 INVITE\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395\n"
        "Contact: <sip:caller@host1.example.net>\nContent-Length: 0\n\n",
    ),
    "3.1.2.9 lwsstart (multiple SP in the request line)": (
        400,
        "INVITE  sip:user@example.com  SIP/2.0\nMax-Forwards: 8\nTo: sip:user@example.com\n"
        "From: sip:caller@example.net;tag=8814\n"
        "Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com\nCSeq: 1893884 INVITE\n"
        "Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923\nContact: <sip:caller@host1.example.net>\n"
        "Content-Length: 0\n\n",
    ),
    "3.1.2.10 trws (SP at the end of the request line)": (
        400,
        "OPTIONS sip:remote-target@example.com SIP/2.0  \nVia: SIP/2.0/TCP host1.example.com;branch=z9hG4bK299342093\n"
        "To: <sip:remote-target@example.com>\nFrom: <sip:local-resource@example.com>;tag=329429089\n"
        "Call-ID: trws.oicu34958239neffasdhr2345r\nAccept: application/sdp\nCSeq: 238923 OPTIONS\nMax-Forwards: 70\n"
        "Content-Length: 0\n\n",
    ),
    "3.1.2.13 regbadct (addr-spec with ',' outside <>)": (
        400,
        "REGISTER sip:example.com SIP/2.0\nTo: sip:user@example.com\n"
        "From: sip:user@example.com,sip:other@example.com;tag=998332\n"
        "Max-Forwards: 70\nCall-ID: regbadct.k345asrl3fdbv@10.0.0.1\nCSeq: 1 REGISTER\n"
        "Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw\nContact: sip:user@host.example.com\nl: 0\n\n",
    ),
    "3.1.2.14 badaspec (spaces inside <>)": (
        400,
        "OPTIONS sip:user@example.org SIP/2.0\nVia: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234\n"
        'Max-Forwards: 70\nFrom: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423\n'
        'To: "Watson, Thomas" < sip:t.watson@example.org x>\nCall-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3\n'
        "Accept: application/sdp\nCSeq: 3923239 OPTIONS\nl: 0\n\n",
    ),
    "3.1.2.15 baddn (non-token display name)": (
        400,
        "OPTIONS sip:t.watson@example.org SIP/2.0\nVia: SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw\n"
        "Max-Forwards: 70\nFrom: Bell, Alexander <sip:a.g.bell@example.com>;tag=43\n"
        "To: Watson, Thomas <sip:t.watson@example.org>\nCall-ID: baddn.31415@c.example.com\nAccept: application/sdp\n"
        "CSeq: 3923239 OPTIONS\nl: 0\n\n",
    ),
    "3.1.2.16 badvers (SIP/7.0)": (
        505,
        "OPTIONS sip:t.watson@example.org SIP/7.0\n"
        "Via: SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\nMax-Forwards: 70\n"
        "From: A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe\nTo: T. Watson <sip:t.watson@example.org>\n"
        "Call-ID: badvers.31417@c.example.com\nCSeq: 1 OPTIONS\nl: 0\n\n",
    ),
    "3.1.2.17 mismatch01 (CSeq method differs)": (
        400,
        "OPTIONS sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\nFrom: sip:caller@example.net;tag=34525\n"
        "Max-Forwards: 6\nCall-ID: mismatch01.dj0234sxdfl3\nCSeq: 8 INVITE\n"
        "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw\n"
        "l: 0\n\n",
    ),
    "3.1.2.19 bigcode (response code 4294967301)": (
        400,
        "SIP/2.0 4294967301 better not break the receiver\nVia: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\n"
        "Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i\nCSeq: 353494 INVITE\n"
        "From: <sip:user@example.com>;tag=39ansfi3\nTo: <sip:user@example.edu>;tag=902jndnke3\nContent-Length: 0\n"
        "Contact: <sip:user@host105.example.com>\n\n",
    ),
    "3.3.15 unksm2 (unknown URI scheme)": (
        416,
        "REGISTER sip:example.com SIP/2.0\nTo: isbn:2983792873\nFrom: <http://www.example.com>;tag=3234233\n"
        "Call-ID: unksch.fdkj3h4h5n6d8qslkf9\nCSeq: 4233 REGISTER\n"
        "Max-Forwards: 32\nVia: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\n"
        "Contact: <name:John_Smith>\nl: 0\n\n",
    ),
}
INVALID["3.3.15 unksm2 (unknown URI scheme)"] = (
    416,
    INVALID["3.3.15 unksm2 (unknown URI scheme)"][1]
    .replace("REGISTER sip:example.com", "OPTIONS isbn:2983792873", 1)
    .replace("4233 REGISTER", "4233 OPTIONS"),
)


@pytest.mark.parametrize("name", sorted(VALID))
def test_rfc4475_valid_messages_parse(name: str) -> None:
    msg = parse(crlf(VALID[name]))
    assert msg.call_id
    if isinstance(msg, Request):
        assert msg.cseq[1] == msg.method


def test_rfc4475_wsinv_details() -> None:
    msg = parse(crlf(VALID["3.1.1.1 wsinv"]))
    assert isinstance(msg, Request)
    assert msg.cseq == (9, "INVITE")
    assert msg.headers.get("max-forwards") == "0068"
    assert [v.split(";")[0].split()[-1] for v in msg.headers.get_all("via")][:1] == ["192.0.2.2"]
    assert len(msg.headers.get_all("via")) == 3
    assert parse_name_addr(msg.headers.get("to") or "", "To").tag == "1918181833n"
    assert msg.headers.get("newfangledheader") == "newfangled value continued newfangled value"


def test_rfc4475_dblreq_keeps_only_the_first_message() -> None:
    msg = parse(crlf(VALID["3.1.1.8 dblreq"]))
    assert isinstance(msg, Request) and msg.method == "REGISTER" and msg.body == b""


@pytest.mark.parametrize("name", sorted(INVALID))
def test_rfc4475_invalid_messages_are_refused_with_their_status(name: str) -> None:
    status, text = INVALID[name]
    with pytest.raises(SipParseError) as err:
        parse(crlf(text))
    assert err.value.status == status, err.value.reason


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
    base = bytearray(crlf(VALID[data.draw(st.sampled_from(sorted(VALID)))]))
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


def test_gateway_answers_malformed_input_and_keeps_serving() -> None:
    async def main() -> None:
        async with gateway(sip_config(free_port()), RecordingEvents()) as gw:
            loop = asyncio.get_running_loop()
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.connect((LOOPBACK, gw.port))
            for name, (status, text) in sorted(INVALID.items()):
                reply = await loop.run_in_executor(None, _exchange, sock, crlf(text), 0.5)
                if text.startswith("SIP/"):
                    assert reply is None, name  # a response is never answered
                elif reply is not None:
                    assert reply.startswith(f"SIP/2.0 {status} ".encode()), (name, reply[:60])
            for junk in (b"\x00" * 100, b"INVITE\r\n\r\n", b"\xff\xfe garbage", b"SIP/2.0 200 OK\r\n\r\n"):
                assert await loop.run_in_executor(None, _exchange, sock, junk, 0.2) is None
            options = crlf(VALID["3.1.1.9 semiuri"])
            reply = await loop.run_in_executor(None, _exchange, sock, options, 2.0)
            assert reply is not None and reply.startswith(b"SIP/2.0 200 OK"), reply
            assert gw.layer.malformed >= len(INVALID)
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
            bases = [crlf(v) for v in VALID.values()] + [invite, _invite(2, port)]
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
            fresh = crlf(VALID["3.1.1.9 semiuri"]).replace(b"z9hG4bKkdjuw", b"z9hG4bKafterfuzz")  # a new transaction
            reply = await loop.run_in_executor(None, _exchange, check, fresh, 2.0)
            check.close()
            assert reply is not None and reply.startswith(b"SIP/2.0 200 OK")
            assert gw.layer.malformed > 100

    with caplog.at_level(logging.WARNING):
        run(main())
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors][:3]
