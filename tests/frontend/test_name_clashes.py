"""Target naming through `validate`: names that collide after a target's case conversion or
keyword escaping are reported with the target, the IDL location and a hint; escaping alone
(`from` -> `from_`) is not an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from frontend_helpers import expected_position, real_doc, run_validate, write_idl


def _field(number: int, type_: str = "string") -> dict[str, Any]:
    return {"number": number, "type": type_, "doc": "x"}


def _keyword_twin(doc: dict[str, Any]) -> str:
    # `from` already exists on Call and is spelled `from_` in Python; `from_x` stays distinct,
    # but a field whose Python spelling equals a generated method collides.
    doc["messages"]["Call"]["fields"]["encode"] = _field(30)
    return "/messages/Call/fields/encode"


def _case_twins(doc: dict[str, Any]) -> str:
    # HTTPRoute and HttpRoute differ in the IDL but are both `HttpRoute` in Python.
    doc["messages"]["HttpRoute"] = {"doc": "x", "fields": {}}
    doc["messages"]["HTTPRoute"] = {"doc": "x", "fields": {}}
    return "/messages/HTTPRoute"


def _runtime_name(doc: dict[str, Any]) -> str:
    doc["messages"]["DecodeError"] = {"doc": "x", "fields": {}}
    return "/messages/DecodeError"


@pytest.mark.parametrize("mutate", [_keyword_twin, _case_twins, _runtime_name], ids=lambda f: f.__name__)
def test_python_name_clash_is_located(tmp_path: Path, mutate: Any) -> None:
    doc = real_doc()
    pointer = mutate(doc)
    path, text = write_idl(tmp_path, doc)
    run = run_validate(path)
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    assert "[name-clash-python]" in run.output, run.output
    line, col = expected_position(text, doc, pointer)
    assert f"{path}:{line}:{col}:" in run.output, run.output
    assert f"(at {pointer})" in run.output
    assert "hint:" in run.output


def test_keyword_field_is_escaped_not_rejected(tmp_path: Path) -> None:
    doc = real_doc()
    doc["messages"]["Call"]["fields"]["class"] = _field(30)
    doc["messages"]["Call"]["fields"]["import"] = _field(31)
    path, _ = write_idl(tmp_path, doc)
    run = run_validate(path)
    assert run.code == 0, run.output


def test_field_colliding_with_a_oneof_helper(tmp_path: Path) -> None:
    # The oneof `target` generates `which_target()`; a field spelled the same collides with it.
    # The clash is reported at one of the two names, with that name's location.
    doc = real_doc()
    doc["messages"]["TransferRequest"]["fields"]["which_target"] = _field(30)
    path, text = write_idl(tmp_path, doc)
    run = run_validate(path)
    assert run.code == 1, run.output
    assert "[name-clash-python]" in run.output
    sites = ["/messages/TransferRequest/fields/which_target", "/messages/TransferRequest/oneofs/target"]
    located = [
        p
        for p in sites
        if f"(at {p})" in run.output and "{}:{}:{}:".format(path, *expected_position(text, doc, p)) in run.output
    ]
    assert located, run.output
