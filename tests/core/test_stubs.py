"""The type stubs: every public runtime name of each built submodule is in its stub and vice
versa, and a typed usage snippet passes ``mypy --strict`` against the package."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

STUBS = Path(__file__).resolve().parents[2] / "bindings" / "python" / "clutchcall_core"


def stub_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


def runtime_names(module: ModuleType) -> set[str]:
    return {n for n in dir(module) if not n.startswith("_")}


def test_every_component_has_a_matching_stub(core: ModuleType) -> None:
    for comp in core.components:
        stub = STUBS / f"{comp}.pyi"
        assert stub.is_file(), f"no stub for component {comp}"
        # TypedDicts: typing only
        helper_types = {"Shape", "NormalizedShape", "Stats", "LegStats", "CallStats", "IoStats", "ShardStats"}
        assert stub_names(stub) - helper_types == runtime_names(getattr(core, comp)), comp
    top = stub_names(STUBS / "__init__.pyi")
    assert top == {"components", "simd_level"}


def test_class_members_match(core: ModuleType) -> None:
    for comp in core.components:
        tree = ast.parse((STUBS / f"{comp}.pyi").read_text())
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and hasattr(getattr(core, comp), node.name):
                declared = {n.name for n in node.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
                cls = getattr(getattr(core, comp), node.name)
                assert declared == {n for n in vars(cls) if not n.startswith("_")}, (comp, node.name)


SNIPPET = textwrap.dedent(
    """
    import clutchcall_core
    import clutchcall_core.g711 as g711

    level: str = clutchcall_core.simd_level()
    codes: bytes = g711.ulaw_encode(b"\\x00\\x00")
    buf = bytearray(2)
    same: bytearray = g711.ulaw_decode(codes, out=buf)
    batch: list[bytes] = g711.ulaw_decode_batch([codes, memoryview(codes)])
    """
)


def test_mypy_strict_accepts_typed_use(core: ModuleType, tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    snippet = tmp_path / "use_core.py"
    snippet.write_text(SNIPPET)
    pkg_root = Path(core.__file__).resolve().parents[1]
    env = {**os.environ, "MYPYPATH": str(pkg_root)}
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.11", str(snippet)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
