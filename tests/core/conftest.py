"""Fixtures for the bindings' tests: the pybind11 module ``clutchcall_core`` and the cffi binding
of ``clutchcall_core_ffi.so``.

Where they come from, in order:
  1. ``$CLUTCHCALL_CORE_PKG``: a directory holding a built ``clutchcall_core`` package (e.g.
     ``build/bindings/pkg`` from ``cmake -S bindings -B build/bindings``);
  2. an installed ``clutchcall_core`` (the engine wheel) that carries the FFI library;
  3. otherwise ``bindings/`` is built once per pytest run with CMake + Ninja into the run's base temp
     dir: tests/sip, tests/bridge and tests/agents load this module for their own ``core_pkg_root``, and
     the build dir is their shared key, so a run over several of them builds once.
A failed build fails the tests (with the build log); it is never a skip.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINDINGS = ROOT / "bindings"
G711_REFERENCE = ROOT.parent / "shared" / "reference" / "g711"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: builds the engine wheel (minutes); run in CI, deselect with -m 'not slow'"
    )


def _build(build_dir: Path) -> Path:
    """Configure and build bindings/ (Release) unless this run already did; return the importable package root."""
    done_marker = build_dir / "built-by-pytest"
    if done_marker.is_file():
        return build_dir / "pkg"
    import pybind11  # build requirement, from PyPI

    configure = [
        "cmake", "-S", str(BINDINGS), "-B", str(build_dir), "-G", "Ninja",
        "-DCMAKE_BUILD_TYPE=Release",
        f"-DPython_EXECUTABLE={sys.executable}",
        f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
    ]  # fmt: skip
    for cmd in (configure, ["cmake", "--build", str(build_dir), "--parallel", "2"]):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.fail(f"building the bindings failed: {' '.join(cmd)}\n{done.stdout[-6000:]}{done.stderr[-6000:]}")
    done_marker.touch()
    return build_dir / "pkg"


def _installed_has_ffi() -> bool:
    try:
        import clutchcall_core
    except ImportError:
        return False
    return (Path(clutchcall_core.__file__).parent / "lib" / "clutchcall_core_ffi.so").is_file()


@pytest.fixture(scope="session")
def core_pkg_root(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The package root put on sys.path, or None when the installed wheel is used."""
    env = os.environ.get("CLUTCHCALL_CORE_PKG")
    if env:
        root: Path | None = Path(env).resolve()
    elif _installed_has_ffi():
        root = None
    else:
        root = _build(tmp_path_factory.getbasetemp() / "bindings-build")
    if root is not None and str(root) not in sys.path:  # another directory's fixture may have put it there
        for name in [m for m in sys.modules if m == "clutchcall_core" or m.startswith("clutchcall_core.")]:
            del sys.modules[name]
        sys.path.insert(0, str(root))
        importlib.invalidate_caches()
    return root


@pytest.fixture(scope="session")
def core(core_pkg_root: Path | None) -> ModuleType:
    """The pybind11 module (``clutchcall_core``)."""
    return importlib.import_module("clutchcall_core")


@pytest.fixture(scope="session")
def ffi(core: ModuleType) -> ModuleType:
    """The cffi binding of the C ABI, loading the library that sits beside it in the package."""
    return importlib.import_module("clutchcall_core.clutchcall_core_ffi")


@pytest.fixture(scope="session")
def g711_reference() -> Path:
    if not (G711_REFERENCE / "sweep.src").is_file():
        pytest.skip(f"ITU-T G.191 vectors not found at {G711_REFERENCE}")
    return G711_REFERENCE
