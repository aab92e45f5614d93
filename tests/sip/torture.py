"""RFC 4475's torture messages of sections 3.1 and 3.3, as fixtures with their expected outcomes.

Each message is a file in `rfc4475/` written in the RFC's own notation (section 2): lines end in CRLF,
`<allOneLine>`...`</allOneLine>` joins its lines into one, `<hex>`...`</hex>` stands for the octets it
spells, and `<repeat count=N>`...`</repeat>` for N copies of its text. `load(name)` decodes one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DIRECTORY = Path(__file__).parent / "rfc4475"

_ALL_ONE_LINE = re.compile(r"<allOneLine>\r\n(.*?)\r\n</allOneLine>", re.DOTALL)
_HEX = re.compile(rb"<hex>([0-9A-Fa-f]*)</hex>")
_REPEAT = re.compile(rb"<repeat count=(\d+)>(.*?)</repeat>", re.DOTALL)


def decode(text: str) -> bytes:
    """The octets a message in the RFC's notation stands for."""
    crlf = text.replace("\r\n", "\n").replace("\n", "\r\n")
    joined = _ALL_ONE_LINE.sub(lambda m: m[1].replace("\r\n", ""), crlf).encode("utf-8")
    repeated = _REPEAT.sub(lambda m: m[2] * int(m[1]), joined)
    return _HEX.sub(lambda m: bytes.fromhex(m[1].decode()), repeated)


def load(name: str) -> bytes:
    return decode((DIRECTORY / f"{name}.txt").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Torture:
    name: str
    section: str
    parse_status: int | None  # None: the parser accepts it; else the status of its SipParseError
    gateway_status: int | None  # the final response a running gateway sends; None: it sends nothing


# A gateway is a UAS, not a proxy or a registrar: REGISTER and unknown methods get 405, a To tag of no
# dialog 481, Max-Forwards 0 addressed to it is processed, responses of no transaction are dropped, and a
# request it cannot answer (no From, To or Call-ID to copy) is dropped.
TORTURES = [
    Torture("wsinv", "3.1.1.1", None, 481),
    Torture("intmeth", "3.1.1.2", None, 405),
    Torture("esc01", "3.1.1.3", None, 200),
    Torture("escnull", "3.1.1.4", None, 405),
    Torture("esc02", "3.1.1.5", None, 405),
    Torture("lwsdisp", "3.1.1.6", None, 200),
    Torture("longreq", "3.1.1.7", None, 200),
    Torture("dblreq", "3.1.1.8", None, 405),
    Torture("semiuri", "3.1.1.9", None, 200),
    Torture("transports", "3.1.1.10", None, 200),
    Torture("mpart01", "3.1.1.11", None, 405),
    Torture("unreason", "3.1.1.12", None, None),
    Torture("noreason", "3.1.1.13", None, None),
    Torture("badinv01", "3.1.2.1", 400, 400),
    Torture("clerr", "3.1.2.2", 400, 400),
    Torture("ncl", "3.1.2.3", 400, 400),
    Torture("scalar02", "3.1.2.4", 400, 400),
    Torture("scalarlg", "3.1.2.5", 400, None),
    Torture("quotbal", "3.1.2.6", 400, 400),
    Torture("ltgtruri", "3.1.2.7", 400, 400),
    Torture("lwsruri", "3.1.2.8", 400, 400),
    Torture("lwsstart", "3.1.2.9", 400, 400),
    Torture("trws", "3.1.2.10", 400, 400),
    Torture("escruri", "3.1.2.11", 400, 400),
    Torture("baddate", "3.1.2.12", 400, 400),
    Torture("regbadct", "3.1.2.13", 400, 400),
    Torture("badaspec", "3.1.2.14", 400, 400),
    Torture("baddn", "3.1.2.15", 400, 400),
    Torture("badvers", "3.1.2.16", 505, 505),
    Torture("mismatch01", "3.1.2.17", 400, 400),
    Torture("mismatch02", "3.1.2.18", 400, 400),
    Torture("bigcode", "3.1.2.19", 400, None),
    Torture("insuf", "3.3.1", 400, None),
    Torture("unkscm", "3.3.2", 416, 416),
    Torture("novelsc", "3.3.3", 416, 416),
    Torture("unksm2", "3.3.4", None, 405),
    Torture("bext01", "3.3.5", None, 420),
    Torture("invut", "3.3.6", None, 415),
    Torture("regaut01", "3.3.7", None, 405),
    Torture("multi01", "3.3.8", 400, 400),
    Torture("mcl01", "3.3.9", 400, 400),
    Torture("bcast", "3.3.10", None, None),
    Torture("zeromf", "3.3.11", None, 200),
    Torture("cparam01", "3.3.12", None, 405),
    Torture("cparam02", "3.3.13", None, 405),
    Torture("regescrt", "3.3.14", None, 405),
    Torture("sdp01", "3.3.15", None, 406),
]
BY_NAME = {t.name: t for t in TORTURES}
