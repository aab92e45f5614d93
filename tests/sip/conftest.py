"""The SIP gateway's tests need the core module (clutchcall_core) for RTP; it comes from where the
bindings' tests get it (tests/core/conftest.py: $CLUTCHCALL_CORE_PKG, an installed wheel, or a build)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_CORE_CONFTEST = Path(__file__).resolve().parents[1] / "core" / "conftest.py"
_spec = importlib.util.spec_from_file_location("core_bindings_conftest", _CORE_CONFTEST)
assert _spec is not None and _spec.loader is not None
_core = importlib.util.module_from_spec(_spec)
sys.modules["core_bindings_conftest"] = _core
_spec.loader.exec_module(_core)

core_pkg_root = _core.core_pkg_root


@pytest.fixture(autouse=True)
def _core_importable(core_pkg_root: Path | None) -> None:
    """Every test here may import clutchcall_core (the gateway's RTP path)."""
