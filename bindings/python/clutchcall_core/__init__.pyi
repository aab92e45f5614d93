"""Type stubs of the ClutchCall engine core (the extension clutchcall_core._core)."""

from clutchcall_core import codec as codec
from clutchcall_core import g711 as g711
from clutchcall_core import jitter as jitter
from clutchcall_core import opus as opus
from clutchcall_core import resample as resample
from clutchcall_core import rtp as rtp
from clutchcall_core import transcode as transcode

__all__ = ["codec", "components", "g711", "jitter", "opus", "resample", "rtp", "simd_level", "transcode"]

# Names of the components built into this module, e.g. ("g711", "resample", "opus", ...).
components: tuple[str, ...]

def simd_level() -> str:
    """The G.711 SIMD path in use: 'avx512bw', 'avx2', 'sse4.1' or 'scalar'."""
