"""Fixtures of the protobuf-oracle tests: the vector generator module and upb classes."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


@pytest.fixture(scope="session")
def make_vectors() -> ModuleType:
    if shutil.which("protoc") is None:
        pytest.skip("protoc is not on PATH")
    spec = importlib.util.spec_from_file_location("make_dto_vectors", VECTORS / "make_dto_vectors.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def upb(make_vectors: ModuleType) -> dict[str, Any]:
    classes, _ = make_vectors.load_message_classes()
    return classes


@pytest.fixture(scope="session")
def dto_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((VECTORS / "dto.json").read_text(encoding="utf-8"))["cases"]
    return cases
