"""The bindings build once per pytest run: tests/sip and tests/bridge load tests/core/conftest.py as a module
of their own (so pytest sees separate `core_pkg_root` fixtures), and the run's build dir is their shared key."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("core_conftest_under_test", Path(__file__).with_name("conftest.py"))
assert _spec is not None and _spec.loader is not None
_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conftest)


def test_a_build_dir_this_run_built_is_reused_without_cmake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(_conftest.subprocess, "run", fake_run)
    assert _conftest._build(tmp_path) == tmp_path / "pkg"
    assert [c[:2] for c in calls] == [["cmake", "-S"], ["cmake", "--build"]]
    assert calls[1][-2:] == ["--parallel", "2"]
    assert _conftest._build(tmp_path) == tmp_path / "pkg"
    assert len(calls) == 2  # the second caller (another directory's fixture) found the finished build


def test_the_session_build_dir_is_the_runs_shared_one(core_pkg_root: Path | None) -> None:
    if core_pkg_root is None or not (core_pkg_root.parent / "built-by-pytest").is_file():
        pytest.skip("the core module comes from $CLUTCHCALL_CORE_PKG or an installed wheel, not this run's build")
    assert core_pkg_root.parent.name == "bindings-build"
