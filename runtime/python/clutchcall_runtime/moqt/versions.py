"""The drafts this runtime speaks: each is a generated codec module plus a few numbers.

A later draft is a new IDL protocol (generated codec) and a new row here; the session takes the
row as a parameter and never names a draft itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Final

from clutchcall.wire import moqt_d14

# The capability tag ("voice/pcmu", see clutchcall.bridges.capability) of a track travels as this
# version-specific parameter in PUBLISH, SUBSCRIBE_OK and TRACK_STATUS_OK, and as a filter in
# SUBSCRIBE_NAMESPACE. Draft-14 reserves no private-use range for these parameters, so the value is
# taken from the first-come-first-served space (>= 0x4000); it is odd, so its value is bytes (UTF-8),
# and peers that do not know it ignore it as the draft requires for unknown parameters.
CAPABILITY_PARAMETER: Final = 0x434D

# The WebTransport path of the MoQT endpoint on the HTTP/3 port.
WEBTRANSPORT_PATH: Final = "/moq"


@dataclass(frozen=True, slots=True)
class Draft:
    """One MoQT draft: its codec module, version number (in CLIENT_SETUP/SERVER_SETUP) and ALPN."""

    name: str
    version: int
    alpn: str
    codec: ModuleType


D14: Final = Draft(name="draft-14", version=moqt_d14.VERSION, alpn="moq-00", codec=moqt_d14)

DRAFTS: Final[dict[int, Draft]] = {D14.version: D14}
DEFAULT: Final = D14


def by_version(version: int) -> Draft | None:
    """The draft with this version number, or None if this runtime does not speak it."""
    return DRAFTS.get(version)
