"""SDP (RFC 4566) for one audio stream, and offer/answer (RFC 3264) over PCMU, PCMA, Opus and telephone-event.

The codec ints are the IDL's `clutchcall.Codec` values; a leg's codec is the first payload format of
the answer that we support, in the offerer's order of preference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clutchcall import Codec

from .message import SipParseError


@dataclass(frozen=True)
class RtpFormat:
    codec: int  # clutchcall.Codec
    encoding: str  # rtpmap encoding name
    clock_rate: int
    channels: int
    static_pt: int | None


FORMATS = (
    RtpFormat(Codec.G711_ULAW, "PCMU", 8000, 1, 0),
    RtpFormat(Codec.G711_ALAW, "PCMA", 8000, 1, 8),
    RtpFormat(Codec.OPUS, "opus", 48000, 2, None),
)
OPUS_PT = 111
TELEPHONE_EVENT = "telephone-event"
TELEPHONE_EVENT_PT = 101
_BY_CODEC = {f.codec: f for f in FORMATS}
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


def codec_name(codec: int) -> str:
    """The capability tag's codec name: the IDL value's name in lower case (voice/g711_ulaw)."""
    return Codec(codec).name.lower()


@dataclass
class AudioMedia:
    """One m=audio line with what it says about the stream."""

    host: str
    port: int
    payload_types: list[int]
    rtpmap: dict[int, tuple[str, int, int]] = field(default_factory=dict)  # pt -> (encoding, rate, channels)
    direction: str = "sendrecv"

    def codec_of(self, pt: int) -> int | None:
        encoding = self.rtpmap.get(pt)
        for f in FORMATS:
            if (encoding and encoding[0].lower() == f.encoding.lower() and encoding[1] == f.clock_rate) or (
                encoding is None and f.static_pt == pt
            ):
                return f.codec
        return None

    def telephone_event_pt(self) -> int | None:
        return next((pt for pt, enc in self.rtpmap.items() if enc[0].lower() == TELEPHONE_EVENT), None)

    @property
    def on_hold(self) -> bool:
        """RFC 3264 8.4: sendonly/inactive, or the RFC 2543 style c=0.0.0.0."""
        return self.direction in ("sendonly", "inactive") or self.host == "0.0.0.0"


def parse(body: bytes) -> AudioMedia:
    """The first audio stream of an SDP body; SipParseError(488) if there is none or it is malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError(400, "SDP: not UTF-8") from None
    session_host = ""
    session_direction = "sendrecv"
    media: AudioMedia | None = None
    in_audio = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if len(line) < 2 or line[1] != "=":
            raise SipParseError(400, f"SDP line {number}: not 'x=value': {line[:40]!r}")
        kind, value = line[0], line[2:]
        if kind == "m":
            parts = value.split()
            in_audio = media is None and len(parts) >= 4 and parts[0] == "audio"
            if in_audio:
                if not parts[1].isdigit() or int(parts[1]) > 65_535:
                    raise SipParseError(400, f"SDP line {number}: bad port {parts[1]!r}")
                if not parts[2].startswith("RTP/"):
                    raise SipParseError(488, f"SDP line {number}: transport {parts[2]} is not RTP")
                if not all(p.isdigit() and int(p) < 128 for p in parts[3:]):
                    raise SipParseError(400, f"SDP line {number}: bad payload types {parts[3:]}")
                media = AudioMedia(session_host, int(parts[1]), [int(p) for p in parts[3:]], {}, session_direction)
        elif kind == "c":
            parts = value.split()
            if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
                raise SipParseError(400, f"SDP line {number}: bad connection {value!r}")
            host = parts[2].split("/", 1)[0]
            if media is None:
                session_host = host
            elif in_audio:
                media.host = host
        elif kind == "a":
            name, _, attr = value.partition(":")
            if name in DIRECTIONS:
                if media is None:
                    session_direction = name
                elif in_audio:
                    media.direction = name
            elif name == "rtpmap" and in_audio and media is not None:
                pt_text, _, encoding = attr.partition(" ")
                enc = encoding.split("/")
                if not pt_text.isdigit() or len(enc) < 2 or not enc[1].isdigit():
                    raise SipParseError(400, f"SDP line {number}: bad rtpmap {attr!r}")
                channels = int(enc[2]) if len(enc) > 2 and enc[2].isdigit() else 1
                media.rtpmap[int(pt_text)] = (enc[0], int(enc[1]), channels)
    if media is None:
        raise SipParseError(488, "SDP: no audio stream")
    if not media.host:
        raise SipParseError(400, "SDP: no connection address for the audio stream")
    return media


def choose(offer: AudioMedia, preferred: int | None = None) -> tuple[int, int] | None:
    """(codec, payload type) to answer with: `preferred` if offered, else the offer's first supported format."""
    supported = [(pt, c) for pt in offer.payload_types if (c := offer.codec_of(pt)) is not None]
    for pt, codec in supported:
        if codec == preferred:
            return codec, pt
    return (supported[0][1], supported[0][0]) if supported else None


def build(
    host: str,
    port: int,
    session_id: int,
    formats: list[tuple[int, int]],
    *,
    telephone_event_pt: int | None = TELEPHONE_EVENT_PT,
    direction: str = "sendrecv",
    version: int = 0,
) -> bytes:
    """An SDP body with one audio stream offering or answering `formats` [(codec, payload type)]."""
    pts = [pt for _, pt in formats] + ([telephone_event_pt] if telephone_event_pt is not None else [])
    lines = [
        "v=0",
        f"o=clutchcall {session_id} {version} IN IP4 {host}",
        "s=clutchcall",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(map(str, pts))}",
    ]
    for codec, pt in formats:
        f = _BY_CODEC[codec]
        suffix = f"/{f.channels}" if f.channels > 1 else ""
        lines.append(f"a=rtpmap:{pt} {f.encoding}/{f.clock_rate}{suffix}")
    if telephone_event_pt is not None:
        lines.append(f"a=rtpmap:{telephone_event_pt} {TELEPHONE_EVENT}/8000")
        lines.append(f"a=fmtp:{telephone_event_pt} 0-15")
    lines.append("a=ptime:20")
    lines.append(f"a={direction}")
    return ("\r\n".join(lines) + "\r\n").encode()


def offer_formats(preferred: int) -> list[tuple[int, int]]:
    """What we offer: the preferred codec first, then the other supported ones."""
    order = sorted(FORMATS, key=lambda f: f.codec != preferred)
    return [(f.codec, f.static_pt if f.static_pt is not None else OPUS_PT) for f in order]


def answer_direction(offer: AudioMedia) -> str:
    return _ANSWER_DIRECTION[offer.direction]
