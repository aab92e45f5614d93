"""Regeneration: an additive IDL change flows into every registered target with no hand edit.

The IDL is copied to a temp dir and given a new field (`Call.regen_marker`), a new method
(`voice.calls.regen_ping`, id 261) and a new enum value (`Codec.regen_wideband`). Every
registered target is regenerated into a temp dir; each package must name all three (in its own
spelling) and must build and pass its tests. Python is imported and round-trips the new field.
Another language is built by the `build_and_test(pkg_dir)` hook of its
tests/sdk/test_<target>_package.py (the same commands its own package test runs); without that
file or its toolchain it is skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apirpc_compiler.backends.base import all_backends

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "api"
# The new names, matched in any casing convention (regen_marker, regenMarker, RegenMarker, REGEN_MARKER).
NEW_NAMES = {
    "field": re.compile(r"regen_?marker", re.IGNORECASE),
    "method": re.compile(r"regen_?ping", re.IGNORECASE),
    "enum value": re.compile(r"regen_?wideband", re.IGNORECASE),
}
SOURCE_SUFFIXES = {
    ".py",
    ".ts",
    ".js",
    ".go",
    ".rs",
    ".java",
    ".cs",
    ".h",
    ".cc",
    ".proto",
    ".md",
    ".json",
    ".toml",
    ".txt",
}


def _edit(idl: dict[str, Any]) -> None:
    fields = idl["messages"]["Call"]["fields"]
    number = max(f["number"] for f in fields.values()) + 24  # clear of the reserved numbers
    fields["regen_marker"] = {"number": number, "type": "string", "doc": "Added by the regeneration test."}
    methods = idl["services"]["voice.calls"]["methods"]
    used = {m["id"] for s in idl["services"].values() for m in s["methods"].values()}
    new_id = max(m["id"] for m in methods.values()) + 1
    assert new_id not in used
    methods["regen_ping"] = {
        "id": new_id,
        "request": "GetCallRequest",
        "response": "Call",
        "idempotent": True,
        "http": {"method": "GET", "path": "/v1/calls/{sid}:regen_ping"},
        "doc": "Added by the regeneration test.",
    }
    values = idl["enums"]["Codec"]["values"]
    values["regen_wideband"] = {"number": max(v["number"] for v in values.values()) + 1, "doc": "Added by the test."}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(output root with one directory per target, the edited IDL)."""
    tmp = tmp_path_factory.mktemp("regen")
    api = tmp / "api"
    shutil.copytree(API, api)
    idl_path = api / "clutchcall.json"
    idl = json.loads(idl_path.read_text(encoding="utf-8"))
    _edit(idl)
    idl_path.write_text(json.dumps(idl, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    cli = [sys.executable, "-m", "apirpc_compiler"]
    for argv in (["validate", str(idl_path)], ["generate", str(idl_path), "--out", str(tmp / "out")]):
        proc = subprocess.run(cli + argv, cwd=ROOT, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"apirpc-compiler {argv[0]} failed:\n{proc.stdout}{proc.stderr}"
    return tmp / "out", idl


def _sources(root: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in SOURCE_SUFFIXES
    )


@pytest.mark.parametrize("target", sorted(all_backends()))
def test_every_target_carries_the_additions(target: str, regenerated: tuple[Path, dict[str, Any]]) -> None:
    out, _idl = regenerated
    pkg = out / target
    assert pkg.is_dir(), f"{target}: nothing generated"
    text = _sources(pkg)
    missing = [what for what, pattern in NEW_NAMES.items() if not pattern.search(text)]
    assert not missing, f"{target}: the regenerated package does not name the new {', '.join(missing)}"


def test_python_package_round_trips_the_new_field(regenerated: tuple[Path, dict[str, Any]]) -> None:
    out, idl = regenerated
    if "python" not in all_backends():
        pytest.skip("python backend not registered")
    new_id = idl["services"]["voice.calls"]["methods"]["regen_ping"]["id"]
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(out / "python")!r})
        import clutchcall
        from clutchcall import Call, Codec, messages
        call = Call(sid="CA1", regen_marker="héllo")
        data = call.encode()
        back = Call.decode(data)
        assert back.regen_marker == "héllo", back
        assert Call.from_json_str(call.to_json_str()).regen_marker == "héllo"
        assert "regenMarker" in call.to_json(), call.to_json()
        assert int(Codec.REGEN_WIDEBAND) == {max(v["number"] for v in idl["enums"]["Codec"]["values"].values())}
        assert {new_id} in clutchcall.METHODS_BY_ID, sorted(clutchcall.METHODS_BY_ID)
        print("ok")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


def _hook(target: str) -> Callable[[Path], None] | None:
    path = ROOT / "tests" / "sdk" / f"test_{target}_package.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"_regen_sdk_{target}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    hook = getattr(module, "build_and_test", None)
    return hook if callable(hook) else None


NATIVE_TARGETS = [t for t in sorted(all_backends()) if t not in ("python", "proto", "docs")]


@pytest.mark.parametrize("target", NATIVE_TARGETS or ["(none)"])
def test_other_packages_build_and_pass_their_tests(target: str, regenerated: tuple[Path, dict[str, Any]]) -> None:
    if target == "(none)":
        pytest.skip("no other SDK target is registered yet")
    hook = _hook(target)
    if hook is None:
        reason = f"{target}: tests/sdk/test_{target}_package.py has no build_and_test(pkg_dir) hook yet"
        print(reason)
        pytest.skip(reason)
    out, _idl = regenerated
    hook(out / target)  # raises (or calls pytest.skip for a missing toolchain) on its own


def test_proto_package_compiles_with_protoc(regenerated: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    if "proto" not in all_backends() or shutil.which("protoc") is None:
        pytest.skip("the proto backend or protoc is not here")
    out, _idl = regenerated
    root = out / "proto"
    files = [str(p.relative_to(root)) for p in sorted(root.rglob("*.proto"))]
    assert files, "the proto target wrote no .proto file"
    proc = subprocess.run(
        ["protoc", f"--proto_path={root}", f"--descriptor_set_out={tmp_path / 'd.pb'}", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
