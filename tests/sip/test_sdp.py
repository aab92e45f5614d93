"""SDP offer/answer (RFC 3264) for the gateway's codecs: PCMU, PCMA, Opus and telephone-event."""

from __future__ import annotations

import pytest
from clutchcall import Codec
from clutchcall_engine.sip import sdp
from clutchcall_engine.sip.message import SipParseError


def offer(lines: str) -> bytes:
    head = "v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    return (head + lines.replace("\n", "\r\n")).encode()


def test_our_offer_round_trips_every_codec_with_the_preferred_first() -> None:
    for preferred in (Codec.G711_ULAW, Codec.G711_ALAW, Codec.OPUS):
        body = sdp.build("127.0.0.1", 20000, 7, sdp.offer_formats(preferred))
        media = sdp.parse(body)
        assert (media.host, media.port, media.direction) == ("127.0.0.1", 20000, "sendrecv")
        assert media.codec_of(media.payload_types[0]) == preferred
        assert {media.codec_of(pt) for pt in media.payload_types[:3]} == {Codec.G711_ULAW, Codec.G711_ALAW, Codec.OPUS}
        assert media.telephone_event_pt() == sdp.TELEPHONE_EVENT_PT
        assert sdp.choose(media) == (preferred, media.payload_types[0])


def test_answer_follows_the_offerers_order_and_static_types_without_rtpmap() -> None:
    media = sdp.parse(offer("m=audio 4000 RTP/AVP 18 8 0\n"))  # G.729 unsupported, PCMA before PCMU
    assert sdp.choose(media) == (Codec.G711_ALAW, 8)
    assert sdp.choose(media, preferred=Codec.G711_ULAW) == (Codec.G711_ULAW, 0)
    assert sdp.choose(sdp.parse(offer("m=audio 4000 RTP/AVP 18 9\n"))) is None  # nothing in common -> 488


def test_dynamic_opus_and_telephone_event_by_rtpmap() -> None:
    media = sdp.parse(offer("m=audio 4000 RTP/AVP 96 97\na=rtpmap:96 OPUS/48000/2\na=rtpmap:97 telephone-event/8000\n"))
    assert sdp.choose(media) == (Codec.OPUS, 96)
    assert media.telephone_event_pt() == 97


@pytest.mark.parametrize(
    ("attr", "held", "answer"),
    [("", False, "sendrecv"), ("a=sendonly\n", True, "recvonly"), ("a=inactive\n", True, "inactive"),
     ("a=recvonly\n", False, "sendonly")],
)  # fmt: skip
def test_hold_directions(attr: str, held: bool, answer: str) -> None:
    media = sdp.parse(offer("m=audio 4000 RTP/AVP 0\n" + attr))
    assert media.on_hold is held
    assert sdp.answer_direction(media) == answer


def test_rfc2543_hold_by_zero_address() -> None:
    media = sdp.parse(offer("m=audio 4000 RTP/AVP 0\nc=IN IP4 0.0.0.0\n"))
    assert media.on_hold


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"v=0\r\nc=IN IP4 192.0.2.1\r\nm=video 4000 RTP/AVP 31\r\n", 488),  # no audio
        (b"v=0\r\nm=audio 4000 RTP/AVP 0\r\n", 400),  # no connection address
        (b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n", 400),
        (b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP zero\r\n", 400),
        (b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 UDP/TLS 0\r\n", 488),
        (b"garbage\r\n", 400),
        (b"\xff\xfe", 400),
    ],
)
def test_bad_sdp_is_refused_with_a_status(body: bytes, status: int) -> None:
    with pytest.raises(SipParseError) as err:
        sdp.parse(body)
    assert err.value.status == status
