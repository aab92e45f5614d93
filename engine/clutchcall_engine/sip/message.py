"""SIP messages (RFC 3261 section 7, 20, 25): a strict parser and a serializer.

`parse(data)` returns a `Request` or a `Response`, or raises `SipParseError` carrying the status a
UAS answers with (400, 416, 505, ...) and a reason naming what and where. The parser accepts what
RFC 4475 calls valid (line folding, compact names, LWS around separators, leading zeros, unknown
headers) and refuses what it calls invalid (bad start lines, Content-Length mismatches, CSeq method
mismatch, unterminated quotes, out-of-range numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SIP_VERSION = "SIP/2.0"
MAX_MESSAGE_BYTES = 65_535  # one UDP datagram; TCP framing refuses larger too

# RFC 3261 7.3.3 and the later RFCs' compact forms.
COMPACT = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
    "r": "refer-to",
    "o": "event",
    "u": "allow-events",
    "b": "referred-by",
}
_CANONICAL = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "max-forwards": "Max-Forwards",
}
# Headers whose values are comma-separated lists (RFC 3261 7.3.1): split when read as a list.
_LIST_HEADERS = frozenset({"via", "route", "record-route", "contact", "allow", "supported", "require"})
# Headers a request must carry (RFC 3261 8.1.1); Max-Forwards is not required of a UAS's input.
_REQUIRED = ("via", "from", "to", "call-id", "cseq")

_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_INT32_MAX = 2**31 - 1
# RFC 3261 25.1 SIP-date: rfc1123-date, always GMT (RFC 4475 3.1.2.12).
_RFC1123_GMT = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} GMT"
)


class SipParseError(ValueError):
    """A message that cannot be accepted; `status` is the response a UAS sends (if it can respond at all)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


def canonical_name(name: str) -> str:
    lower = name.lower()
    return _CANONICAL.get(lower) or "-".join(part.capitalize() for part in lower.split("-"))


@dataclass
class Headers:
    """Header fields in order, names lower-cased and compact forms expanded."""

    items: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        key = name.lower()
        return next((v for k, v in self.items if k == key), None)

    def get_all(self, name: str) -> list[str]:
        """Every value, comma-separated lists split (outside quotes and angle brackets)."""
        key = name.lower()
        values = [v for k, v in self.items if k == key]
        if key not in _LIST_HEADERS:
            return values
        return [part for v in values for part in split_list(v)]

    def set(self, name: str, value: str) -> None:
        key = name.lower()
        self.items = [(k, v) for k, v in self.items if k != key]
        self.items.append((key, value))

    def add(self, name: str, value: str, *, first: bool = False) -> None:
        item = (name.lower(), value)
        if first:
            self.items.insert(0, item)
        else:
            self.items.append(item)

    def remove(self, name: str) -> None:
        key = name.lower()
        self.items = [(k, v) for k, v in self.items if k != key]

    def copy(self) -> Headers:
        return Headers(list(self.items))


@dataclass
class Message:
    headers: Headers
    body: bytes

    @property
    def call_id(self) -> str:
        return self.headers.get("call-id") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        return parse_cseq(self.headers.get("cseq") or "")

    @property
    def top_via(self) -> Via:
        vias = self.headers.get_all("via")
        if not vias:
            raise SipParseError(400, "no Via header")
        return parse_via(vias[0])

    def _serialize(self, start_line: str) -> bytes:
        lines = [start_line]
        for name, value in self.headers.items:
            if name != "content-length":
                lines.append(f"{canonical_name(name)}: {value}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + self.body


@dataclass
class Request(Message):
    method: str = ""
    uri: str = ""

    def serialize(self) -> bytes:
        return self._serialize(f"{self.method} {self.uri} {SIP_VERSION}")


@dataclass
class Response(Message):
    status: int = 0
    reason: str = ""

    def serialize(self) -> bytes:
        return self._serialize(f"{SIP_VERSION} {self.status} {self.reason}")


@dataclass(frozen=True)
class Via:
    transport: str
    host: str
    port: int | None
    params: dict[str, str | None]

    @property
    def branch(self) -> str:
        return self.params.get("branch") or ""


@dataclass(frozen=True)
class NameAddr:
    """A From/To/Contact/Refer-To value: display name, URI, header parameters."""

    display: str
    uri: str
    params: dict[str, str | None]

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def __str__(self) -> str:
        params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params.items())
        display = f"{self.display} " if self.display else ""
        return f"{display}<{self.uri}>{params}"


def split_list(value: str, *, keep_empty: bool = False) -> list[str]:
    """Split a header value at commas outside quoted strings and <...>; empty elements dropped unless kept."""
    parts: list[str] = []
    depth_angle = False
    quoted = False
    escaped = False
    start = 0
    for i, ch in enumerate(value):
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            depth_angle = True
        elif ch == ">":
            depth_angle = False
        elif ch == "," and not depth_angle:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return parts if keep_empty else [p for p in parts if p]


def _params(text: str, where: str) -> dict[str, str | None]:
    """`;a=b;c` -> {"a": "b", "c": None}; names lower-cased, LWS around '=' and ';' allowed, no empty ones."""
    params: dict[str, str | None] = {}
    first, *items = text.split(";")
    if first.strip():
        raise SipParseError(400, f"{where}: text before the parameters: {first.strip()!r}")
    for raw in items:
        item = raw.strip()
        if not item:
            raise SipParseError(400, f"{where}: an empty parameter (';;' or a trailing ';')")
        name, eq, value = item.partition("=")
        name = name.strip().lower()
        if not _TOKEN.fullmatch(name):
            raise SipParseError(400, f"{where}: bad parameter name {name!r}")
        params[name] = value.strip() if eq else None
    return params


def parse_name_addr(value: str, where: str) -> NameAddr:
    """name-addr (`"Name" <uri>;p`) or addr-spec (`uri;p`, where ';' starts header parameters)."""
    text = value.strip()
    display = ""
    if text.startswith('"'):
        i, escaped = 1, False
        while i < len(text):
            ch = text[i]
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                break
            i += 1
        else:
            raise SipParseError(400, f"{where}: unterminated quoted display name")
        display = text[: i + 1]
        text = text[i + 1 :].lstrip()
        if not text.startswith("<"):
            raise SipParseError(400, f"{where}: a quoted display name must be followed by <uri>")
    lt = text.find("<")
    if lt >= 0:
        gt = text.find(">", lt)
        if gt < 0:
            raise SipParseError(400, f"{where}: '<' without '>'")
        display = display or text[:lt].strip()
        if display and not display.startswith('"') and not all(_TOKEN.fullmatch(w) for w in display.split()):
            raise SipParseError(400, f"{where}: bad display name {display!r}")
        uri = text[lt + 1 : gt]
        if uri != uri.strip():
            raise SipParseError(400, f"{where}: whitespace inside <...>: {uri!r}")  # RFC 4475 3.1.2.14
        rest = text[gt + 1 :]
        if rest.strip() and not rest.strip().startswith(";"):
            raise SipParseError(400, f"{where}: unexpected text after '>': {rest.strip()!r}")
    else:
        uri, _, rest = text.partition(";")
        rest = ";" + rest if rest else ""
        uri = uri.strip()
        if " " in uri or "," in uri or "?" in uri:
            raise SipParseError(400, f"{where}: an addr-spec with ',', '?' or spaces must be in <...>")
    check_uri(uri, where)
    return NameAddr(display, uri, _params(rest.strip(), where))


def check_uri(uri: str, where: str) -> None:
    scheme, colon, rest = uri.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme) or not rest:
        raise SipParseError(400, f"{where}: not a URI: {uri!r}")
    if any(c.isspace() for c in uri) or "<" in uri or ">" in uri:
        raise SipParseError(400, f"{where}: URI contains spaces or angle brackets: {uri!r}")


def uri_has_headers(uri: str) -> bool:
    """Whether a sip/sips URI carries a `?headers` component (after the host, so not a '?' in the user part)."""
    if uri.split(":", 1)[0].lower() not in ("sip", "sips"):
        return False
    return "?" in uri.rpartition("@")[2]


def uri_user_host(uri: str) -> tuple[str, str]:
    """The user part and host part of a sip/sips URI (`sip:user@host:port;params`)."""
    _, _, rest = uri.partition(":")
    rest = rest.split(";", 1)[0].split("?", 1)[0]
    user, at, hostport = rest.rpartition("@")
    return (user if at else ""), hostport


_VIA = re.compile(
    # sent-protocol is token/token/token (RFC 3261 25.1): a SIP/7.0 Via parses, the start line's 505 says why
    r"[A-Za-z0-9\-.!%*_+`'~]+\s*/\s*[A-Za-z0-9\-.!%*_+`'~]+\s*/\s*(?P<transport>[A-Za-z0-9\-.!%*_+`'~]+)"
    r"\s+(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)"
    r"(?:\s*:\s*(?P<port>\d{1,5}))?\s*(?P<params>(?:;.*)?)$",
    re.DOTALL,
)


def parse_via(value: str) -> Via:
    m = _VIA.match(value.strip())
    if m is None:
        raise SipParseError(400, f"Via: malformed value {value.strip()[:80]!r}")
    port = int(m["port"]) if m["port"] else None
    if port is not None and not (0 < port < 65_536):
        raise SipParseError(400, f"Via: port {port} out of range")
    return Via(m["transport"].upper(), m["host"], port, _params(m["params"], "Via"))


def parse_cseq(value: str) -> tuple[int, str]:
    parts = value.split()
    if len(parts) != 2 or not parts[0].isdigit() or not _TOKEN.fullmatch(parts[1]):
        raise SipParseError(400, f"CSeq: must be a number and a method, got {value!r}")
    number = int(parts[0])
    if number > _INT32_MAX:
        raise SipParseError(400, f"CSeq: {number} exceeds 2**31-1")
    return number, parts[1]


def unfold(head: str) -> list[str]:
    """Lines of the head with continuation lines (leading SP/HT) joined to the previous one."""
    lines: list[str] = []
    for line in re.split(r"\r?\n", head):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def parse(data: bytes, *, stream: bool = False) -> Request | Response:
    """One whole message. `stream` (TCP): Content-Length is mandatory and the body must be exactly that long."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise SipParseError(513, f"message of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES}")
    data = data.lstrip(b"\r\n")  # RFC 3261 7.5: ignore CRLFs before the start line
    head_end = data.find(b"\r\n\r\n")
    sep = 4
    if head_end < 0:
        head_end, sep = data.find(b"\n\n"), 2
    if head_end < 0:
        raise SipParseError(400, "no empty line after the header fields")
    head = data[:head_end].decode("utf-8", "surrogateescape")
    body = data[head_end + sep :]
    lines = unfold(head)
    start = lines[0]
    headers = Headers()
    for number, line in enumerate(lines[1:], start=2):
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or not _TOKEN.fullmatch(name):
            raise SipParseError(400, f"header line {number}: not 'name: value': {line[:60]!r}")
        key = name.lower()
        headers.add(COMPACT.get(key, key), value.strip())

    msg: Request | Response
    msg = _response(start, headers, body) if start.startswith("SIP/") else _request(start, headers, body)
    _check_common(msg, stream)
    return msg


def _request(start: str, headers: Headers, body: bytes) -> Request:
    parts = start.split(" ")
    if len(parts) != 3 or not all(parts):
        raise SipParseError(400, f"request line must be 'METHOD SP Request-URI SP SIP/2.0': {start[:80]!r}")
    method, uri, version = parts
    if not _TOKEN.fullmatch(method):
        raise SipParseError(400, f"request line: bad method {method!r}")
    if not re.fullmatch(r"SIP/\d+\.\d+", version):
        raise SipParseError(400, f"request line: bad version {version!r}")
    if version != SIP_VERSION:
        raise SipParseError(505, f"version {version} not supported")
    check_uri(uri, "Request-URI")
    if uri.split(":", 1)[0].lower() not in ("sip", "sips", "tel"):
        raise SipParseError(416, f"Request-URI scheme {uri.split(':', 1)[0]!r} not supported")
    if uri_has_headers(uri):
        raise SipParseError(400, f"Request-URI: a header component ('?...') is not allowed there: {uri!r}")
    return Request(headers, body, method, uri)


def _response(start: str, headers: Headers, body: bytes) -> Response:
    version, _, rest = start.partition(" ")
    code, _, reason = rest.partition(" ")
    if version != SIP_VERSION:
        raise SipParseError(400, f"status line: version {version!r}")
    if len(code) != 3 or not code.isdigit() or not (100 <= int(code) <= 699):
        raise SipParseError(400, f"status line: bad status code {code!r}")
    return Response(headers, body, int(code), reason)


def _check_common(msg: Request | Response, stream: bool) -> None:
    for name in _REQUIRED:
        values = [v for k, v in msg.headers.items if k == name]
        if not values:
            raise SipParseError(400, f"missing {canonical_name(name)} header")
        if name != "via" and len(values) > 1:
            raise SipParseError(400, f"{canonical_name(name)} header appears {len(values)} times")
    _number, method = msg.cseq
    if isinstance(msg, Request) and method != msg.method:
        raise SipParseError(400, f"CSeq method {method} does not match the request method {msg.method}")
    for value in (v for k, v in msg.headers.items if k == "via"):
        for element in split_list(value, keep_empty=True):
            if not element:
                raise SipParseError(400, f"Via: an empty element in {value[:80]!r}")
            parse_via(element)
    for name in ("from", "to"):
        parse_name_addr(msg.headers.get(name) or "", canonical_name(name))
    for contact in msg.headers.get_all("contact"):
        if contact != "*":
            parse_name_addr(contact, "Contact")
    date = msg.headers.get("date")
    if date is not None and not _RFC1123_GMT.fullmatch(date):
        raise SipParseError(400, f"Date: not an RFC 1123 date in GMT: {date!r}")
    max_forwards = msg.headers.get("max-forwards")
    if max_forwards is not None and (not max_forwards.isdigit() or int(max_forwards) > 255):
        raise SipParseError(400, f"Max-Forwards: must be 0..255, got {max_forwards!r}")
    lengths = {v.strip() for k, v in msg.headers.items if k == "content-length"}
    if len(lengths) > 1:
        raise SipParseError(400, f"Content-Length: conflicting values {sorted(lengths)}")
    if not lengths:
        if stream:
            raise SipParseError(400, "Content-Length is required over a stream transport")
        return
    text = lengths.pop()
    if not text.isdigit():
        raise SipParseError(400, f"Content-Length: not a non-negative integer: {text!r}")
    length = int(text)
    if length > len(msg.body) or (stream and length != len(msg.body)):
        raise SipParseError(400, f"Content-Length {length} but the body has {len(msg.body)} bytes")
    msg.body = msg.body[:length]  # a datagram's trailing bytes past Content-Length are discarded (18.3)


def response_to(req: Request, status: int, reason: str, *, to_tag: str | None = None, body: bytes = b"") -> Response:
    """A response copying Via, From, To (adding our tag), Call-ID and CSeq (RFC 3261 8.2.6)."""
    headers = Headers([(k, v) for k, v in req.headers.items if k in ("via", "from", "to", "call-id", "cseq")])
    if to_tag is not None and status > 100:
        to = parse_name_addr(req.headers.get("to") or "", "To")
        if to.tag is None:
            headers.set("to", f"{req.headers.get('to')};tag={to_tag}")
            # keep the original order: From, To, Call-ID, CSeq after Via
            headers.items.sort(key=lambda kv: ("via", "from", "to", "call-id", "cseq").index(kv[0]))
    return Response(headers, body, status, reason)


REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    481: "Call/Transaction Does Not Exist",
    483: "Too Many Hops",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    503: "Service Unavailable",
    505: "Version Not Supported",
    513: "Message Too Large",
}
