"""Every SDK package (and the OpenAPI document) carries the one version common.package_version derives
from the IDL package, not a literal of its own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from apirpc_compiler.backends.base import all_backends
from apirpc_compiler.pipeline import compile_idl

ROOT = Path(__file__).resolve().parents[2]

# backend -> (file, pattern whose group 1 is the package's version)
_VERSION_AT = {
    "rust": ("Cargo.toml", r'(?m)^version = "([^"]+)"'),
    "java": ("pom.xml", r"</artifactId>\s*<version>([^<]+)</version>"),
    "csharp": ("ClutchCall.Sdk.csproj", r"<Version>([^<]+)</Version>"),
    "typescript": ("package.json", r'(?m)^  "version": "([^"]+)"'),
    "python": ("pyproject.toml", r'(?m)^version = "([^"]+)"'),
    "cpp": ("CMakeLists.txt", r"project\(clutchcall_sdk VERSION (\S+) "),
}


@pytest.mark.parametrize(
    ("package", "version"), [("clutchcall.v1", "1.0.0"), ("clutchcall.v7", "7.0.0"), ("acme", "0.1.0")]
)
@pytest.mark.parametrize("backend", [*_VERSION_AT, "openapi"])
def test_package_version_follows_the_idl_package(backend: str, package: str, version: str) -> None:
    ir = dict(compile_idl(str(ROOT / "api" / "clutchcall.json")), package=package)
    files = {f.path: f.content for f in all_backends()[backend].generate(ir)}  # type: ignore[arg-type]
    if backend == "openapi":
        assert json.loads(files["openapi.json"])["info"]["version"] == version
        return
    path, pattern = _VERSION_AT[backend]
    found = re.search(pattern, files[path])
    assert found is not None, f"{backend}: no version in {path}"
    assert found.group(1) == version
