"""The C++ package's CMake version is the one version every SDK carries (common.package_version)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apirpc_compiler.backends.base import all_backends
from apirpc_compiler.pipeline import compile_idl

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("package", "version"), [("clutchcall.v1", "1.0.0"), ("clutchcall.v7", "7.0.0"), ("acme", "0.1.0")]
)
def test_cmake_project_version_follows_the_package(package: str, version: str) -> None:
    ir = dict(compile_idl(str(ROOT / "api" / "clutchcall.json")), package=package)
    files = {f.path: f.content for f in all_backends()["cpp"].generate(ir)}  # type: ignore[arg-type]
    assert f"project(clutchcall_sdk VERSION {version} LANGUAGES CXX)" in files["CMakeLists.txt"]
