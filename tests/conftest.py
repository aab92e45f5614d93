"""Shared fixtures: the compiled IR of the real IDL, and the generated Python SDK on sys.path."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from apirpc_compiler.backends.base import all_backends
from apirpc_compiler.generate import produce, write_tree
from apirpc_compiler.ir.model import IR
from apirpc_compiler.pipeline import compile_idl

ROOT = Path(__file__).resolve().parent.parent
IDL = ROOT / "api" / "clutchcall.json"
VECTORS = ROOT / "tests" / "vectors"
G711_REFERENCE = ROOT.parent / "shared" / "reference" / "g711"


@pytest.fixture(scope="session")
def ir() -> IR:
    return compile_idl(str(IDL), all_backends().values())


@pytest.fixture(scope="session")
def python_sdk(ir: IR, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Generate the Python target into a temp dir, import `clutchcall` from there, yield the dir."""
    backends = all_backends()
    if "python" not in backends:
        pytest.skip("python backend not registered")
    out = tmp_path_factory.mktemp("gen")
    write_tree(out, produce(ir, {"python": backends["python"]}, {}))
    pkg_root = out / "python"
    for name in [m for m in sys.modules if m == "clutchcall" or m.startswith("clutchcall.")]:
        del sys.modules[name]
    sys.path.insert(0, str(pkg_root))
    importlib.invalidate_caches()
    try:
        yield pkg_root
    finally:
        sys.path.remove(str(pkg_root))
