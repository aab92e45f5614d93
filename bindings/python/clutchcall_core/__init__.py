"""ClutchCall engine core: the C++ media plane (G.711, resampling, Opus, transcoding, RTP,
jitter buffer, and the RTP fast path's control: ``clutchcall_core.relay``) as a pybind11 extension, plus the C ABI library ``clutchcall_core_ffi.so`` and
its cffi binding (``clutchcall_core.clutchcall_core_ffi``).

Submodules (``clutchcall_core.g711``, ...) live in the extension ``clutchcall_core._core``; they
are registered in ``sys.modules`` here so that ``import clutchcall_core.g711`` works.
"""

from __future__ import annotations

import sys

from clutchcall_core import _core
from clutchcall_core._core import components, simd_level

__all__ = ["components", "simd_level"]

for _name in components:
    _sub = getattr(_core, _name)
    sys.modules[f"{__name__}.{_name}"] = _sub
    globals()[_name] = _sub
    __all__.append(_name)
del _name, _sub
