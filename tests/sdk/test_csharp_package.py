"""The C# target with the real toolchain (Mono's mcs and mono): format check, warnings-as-errors
build, the package's native vector tests, the conformance testee, and check_names.

Skips (with the reason) only when mcs or mono is absent. One session-scoped build serves all
tests.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apirpc_compiler.backends.base import header_lines
from apirpc_compiler.backends.csharp.backend import CSharpBackend
from apirpc_compiler.ir.model import IR

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
TESTEE = ROOT / "tests" / "conformance" / "testees" / "csharp"
MCS = ["mcs", "-nologo", "-warnaserror", "-warn:4", "-langversion:7"]


def _toolchain() -> None:
    missing = [t for t in ("mcs", "mono") if shutil.which(t) is None]
    if missing:
        reason = f"C# toolchain absent ({', '.join(missing)}); apt-get install -y mono-devel"
        print(reason, file=sys.stderr)
        pytest.skip(reason)


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload,no-any-return]


@pytest.fixture(scope="session")
def csharp_pkg(ir: IR, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("csharp") / "csharp"
    for f in CSharpBackend().generate(ir):
        p = out / f.path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f.content, encoding="utf-8")
    return out


def _build(pkg: Path, build: Path) -> Path:
    _toolchain()
    dll = build / "ClutchCall.Sdk.dll"
    r = _run([*MCS, "-r:System.Numerics", "-target:library", f"-out:{dll}", f"-recurse:{pkg}/src/*.cs"])
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run([*MCS, f"-out:{build / 'VectorTests.exe'}", f"-r:{dll}", str(pkg / "tests" / "VectorTests.cs")])
    assert r.returncode == 0, r.stdout + r.stderr
    return build


def _native_tests(build: Path) -> None:
    env = dict(os.environ, CLUTCHCALL_VECTORS=str(VECTORS))
    r = _run(["mono", str(build / "VectorTests.exe")], env=env)
    assert r.returncode == 0, r.stdout + r.stderr[-4000:]
    assert " 0 failed" in r.stdout and "FAIL" not in r.stderr


def build_and_test(pkg_dir: Path) -> None:
    """The regeneration test's hook: build a generated package and run its native tests."""
    build = pkg_dir.parent / "csharp-build"
    build.mkdir(exist_ok=True)
    _native_tests(_build(pkg_dir, build))


@pytest.fixture(scope="session")
def csharp_build(csharp_pkg: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(csharp_pkg, tmp_path_factory.mktemp("csharp-build"))


def test_generation_is_deterministic_with_headers(ir: IR, csharp_pkg: Path) -> None:
    again = {f.path: f.content for f in CSharpBackend().generate(ir)}
    assert again == {
        str(p.relative_to(csharp_pkg)): p.read_text(encoding="utf-8") for p in csharp_pkg.rglob("*") if p.is_file()
    }
    first = header_lines(ir)[0]
    for path, text in again.items():
        assert first in text.splitlines()[0] + text.splitlines()[1], path
    assert {"src/Messages.cs", "src/Enums.cs", "src/Wire/MoqtD14.cs", "src/Wire/Envelope.cs"} <= set(again)


def test_format(csharp_pkg: Path) -> None:
    """Mono ships no C# formatter, so the layout rules are checked here: 4-space indents, no tabs,
    no trailing blanks, LF line ends and one final newline, balanced braces per file."""
    for p in csharp_pkg.rglob("*.cs"):
        text = p.read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n"), p
        for i, line in enumerate(text.split("\n"), 1):
            assert "\t" not in line and "\r" not in line and line == line.rstrip(), f"{p}:{i}"
            indent = len(line) - len(line.lstrip(" "))
            assert indent % 4 == 0 or line.lstrip().startswith("*"), f"{p}:{i}: indent {indent}"
        assert text.count("{") - text.count("\\{") >= 1


def test_native_vector_tests(csharp_build: Path) -> None:
    _native_tests(csharp_build)


def test_native_tests_fail_on_a_wrong_vector(csharp_build: Path, tmp_path: Path) -> None:
    """The native test program can fail: one flipped byte in a copy of dto.json is reported."""
    text = (VECTORS / "dto.json").read_text(encoding="utf-8")
    (tmp_path / "dto.json").write_text(
        text.replace('"hex": "080410b20318b80220e106"', '"hex": "080310b20318b80220e106"')
    )
    r = _run(["mono", str(csharp_build / "VectorTests.exe")], env=dict(os.environ, CLUTCHCALL_VECTORS=str(tmp_path)))
    assert r.returncode == 1 and "AudioShape/all_fields" in r.stderr


def test_conformance_testee(csharp_pkg: Path, tmp_path: Path) -> None:
    _toolchain()
    r = _run(["bash", str(TESTEE / "build.sh"), str(csharp_pkg), str(tmp_path / "work")], cwd=TESTEE)
    assert r.returncode == 0, r.stderr
    command = r.stdout.strip().splitlines()[-1]
    r = _run([sys.executable, str(TESTEE / "selfcheck.py"), command], cwd=TESTEE)
    assert r.returncode == 0, r.stdout[-4000:]


def test_check_names_clean_and_reports_clashes(ir: IR) -> None:
    b = CSharpBackend()
    assert b.check_names(ir) == []
    bad = copy.deepcopy(ir)
    call = next(m for m in bad["messages"] if m["name"] == "Call")
    sid = call["fields"][0]
    twin = dict(sid, name="s_id", words=["sid"], number=99)
    encode = dict(sid, name="encode", words=["encode"], number=98)
    selfname = dict(sid, name="call", words=["call"], number=97)
    call["fields"] += [twin, encode, selfname]  # type: ignore[list-item]
    enum = bad["enums"][0]
    enum["values"].append(dict(enum["values"][1], name="dialing_", words=["dialing"], number=50))  # type: ignore[arg-type]
    clashes = b.check_names(bad)
    where = sorted(c.pointer for c in clashes)
    assert where == [
        "/enums/CallStatus/values/dialing_",
        "/messages/Call/fields/call",
        "/messages/Call/fields/encode",
        "/messages/Call/fields/s_id",
    ], [c.message for c in clashes]
    assert all("C#" in c.message for c in clashes)
