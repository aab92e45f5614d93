"""The AudioBridge's tests need the core module (clutchcall_core) in this process, where the engine runs; it
comes from where the bindings' tests get it (tests/core/conftest.py: $CLUTCHCALL_CORE_PKG, an installed
wheel, or a build). The engine's test helpers (tests/engine/moqt_support.py) are shared, not copied."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

_TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_TESTS / "engine"))  # moqt_support
_spec = importlib.util.spec_from_file_location("core_bindings_conftest", _TESTS / "core" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_core = sys.modules.get("core_bindings_conftest")
if _core is None:
    _core = importlib.util.module_from_spec(_spec)
    sys.modules["core_bindings_conftest"] = _core
    _spec.loader.exec_module(_core)

core_pkg_root = _core.core_pkg_root
core = _core.core


@pytest.fixture(autouse=True)
def _core_importable(core: ModuleType) -> None:
    """Every test here may make transcoding stages (the engine imports clutchcall_core lazily)."""
