"""One run reports everything it can: schema errors, then the semantic errors of the parts that
passed the schema, then target name clashes; and validation of a randomly broken IDL only ever
ends in located diagnostics (Hypothesis)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from frontend_helpers import assert_reported, expected_position, real_doc, run_validate, write_idl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apirpc_compiler.backends.base import all_backends
from apirpc_compiler.diagnostics import IdlError
from apirpc_compiler.frontend.schema import load_schema
from apirpc_compiler.pipeline import compile_idl

Doc = dict[str, Any]


def _line_of(output: str, rule: str, pointer: str) -> int:
    lines = output.splitlines()
    return next(i for i, ln in enumerate(lines) if f"[{rule}]" in ln and ln.endswith(f"(at {pointer})"))


def test_schema_semantic_and_clash_errors_in_one_run_in_that_order(tmp_path: Path) -> None:
    doc = real_doc()
    doc["messages"]["Call"]["colour"] = 1  # schema
    doc["wire"]["protocols"]["envelope"]["structs"]["Envelope"]["fields"][0]["colour"] = 1  # schema
    doc["enums"]["Direction"]["values"]["outbound"]["number"] = 1  # semantic
    doc["services"]["voice.calls"]["methods"]["get"]["http"]["body"] = "*"  # semantic
    doc["messages"]["HttpRoute"] = {"fields": {}}  # name clash with the next one in several targets
    doc["messages"]["HTTPRoute"] = {"fields": {}}
    path, text = write_idl(tmp_path, doc)
    run = run_validate(path)
    expected = [
        ("schema-unknown-key", "/messages/Call/colour"),
        ("schema-unknown-key", "/wire/protocols/envelope/structs/Envelope/fields/0/colour"),
        ("duplicate-enum-number", "/enums/Direction/values/outbound/number"),
        ("http-body-not-allowed", "/services/voice.calls/methods/get/http/body"),
        ("name-clash-python", "/messages/HTTPRoute"),
    ]
    for rule, pointer in expected:
        assert_reported(run, path, text, doc, rule, pointer)
    order = [_line_of(run.output, rule, pointer) for rule, pointer in expected]
    assert order == sorted(order), run.output


def test_semantic_errors_inside_an_item_with_schema_errors_wait(tmp_path: Path) -> None:
    doc = real_doc()
    doc["messages"]["Call"]["colour"] = 1  # schema error: Call is not checked further
    doc["messages"]["Call"]["fields"]["to"]["number"] = 4  # semantic error inside Call: not reported yet
    doc["messages"]["GetCallRequest"]["fields"]["sid"]["json_name"] = "nope"
    doc["messages"]["GetCallRequest"]["fields"]["other"] = {"number": 1, "type": "string"}  # reported
    path, text = write_idl(tmp_path, doc)
    run = run_validate(path)
    assert_reported(run, path, text, doc, "schema-unknown-key", "/messages/Call/colour")
    assert_reported(run, path, text, doc, "duplicate-field-number", "/messages/GetCallRequest/fields/other/number")
    assert "(at /messages/Call/fields/to/number)" not in run.output


def test_references_to_items_with_schema_errors_are_not_unresolved(tmp_path: Path) -> None:
    doc = real_doc()
    env = doc["wire"]["protocols"]["envelope"]
    doc["messages"]["Call"]["colour"] = 1  # Call is named by fields, methods and CallEvent
    doc["enums"]["CallStatus"]["values"]["dialing"]["number"] = "1"  # CallStatus is a field type
    doc["messages"]["TenantClaims"]["fields"]["sub"] = {"number": 0, "type": "string"}  # auth.claims
    env["structs"]["Envelope"]["fields"][0]["colour"] = 1  # Envelope is the rpc stream's message
    env["codes"]["EnvelopeKind"]["closed"] = "yes"  # EnvelopeKind is a field's code set
    doc["tracks"]["kinds"]["audio"]["delivery"] = []  # the bridge's tracks are audio
    doc["messages"]["Empty"]["fields"] = {"x": {"number": 1, "type": "Nowhere"}}  # really unresolved
    path, text = write_idl(tmp_path, doc)
    run = run_validate(path)
    assert_reported(run, path, text, doc, "unresolved-type", "/messages/Empty/fields/x/type")
    assert run.output.count("[unresolved-type]") == 1, run.output
    for rule in ("unresolved-wire-struct", "unresolved-wire-codes", "unknown-track-kind"):
        assert f"[{rule}]" not in run.output, run.output
    schema_errors = [ln for ln in run.output.splitlines() if ": error: [schema-" in ln]
    assert len(schema_errors) == 6, run.output


def test_broken_package_still_gets_semantic_and_clash_checks(tmp_path: Path) -> None:
    doc = real_doc()
    del doc["package"]
    doc["enums"]["Direction"]["values"]["outbound"]["number"] = 1
    doc["messages"]["DecodeError"] = {"fields": {}}  # a name the Python runtime defines
    path, text = write_idl(tmp_path, doc)
    run = run_validate(path)
    assert_reported(run, path, text, doc, "schema-required", "")
    assert_reported(run, path, text, doc, "duplicate-enum-number", "/enums/Direction/values/outbound/number")
    assert_reported(run, path, text, doc, "name-clash-python", "/messages/DecodeError")
    assert f"{path}:{':'.join(map(str, expected_position(text, doc, '')))}:" in run.output


# ---- property: break the valid IDL at random; validation only ever reports ----


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _schema_keys(node: Any) -> set[str]:
    """Every property name the schema declares: the IDL's keywords, as opposed to its names."""
    out: set[str] = set()
    if isinstance(node, dict):
        out |= set(node.get("properties", {}))
        for v in node.values():
            out |= _schema_keys(v)
    elif isinstance(node, list):
        for v in node:
            out |= _schema_keys(v)
    return out


_KEYWORDS = _schema_keys(load_schema())


def _shape(path: tuple[str | int, ...]) -> tuple[str, ...]:
    """A path with its names and indexes blanked: paths of one shape hold values of one schema."""
    return tuple("#" if isinstance(t, int) else t if t in _KEYWORDS else "*" for t in path)


_REAL = real_doc()
_PATHS = _paths(_REAL)
_SAME_SHAPE: dict[tuple[str, ...], list[tuple[str | int, ...]]] = {}
for _p in _PATHS:
    _SAME_SHAPE.setdefault(_shape(_p), []).append(_p)
_NAMES = sorted({str(p[-1]) for p in _PATHS if isinstance(p[-1], str)})
_NUMBERS = [0, 1, 2, 6, 17, 256, 19000, 2**29, 2**31, 2**32, 2**62, 2**64, -1, 1.5]

json_values = st.recursive(
    st.none() | st.booleans() | st.sampled_from(_NUMBERS) | st.text(max_size=6) | st.sampled_from(_NAMES),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(_NAMES), children, max_size=3),
    max_leaves=8,
)
mutations = st.lists(
    st.tuples(
        st.sampled_from(["set", "delete", "rename", "copy", "like", "like"]),
        st.integers(0, len(_PATHS) - 1),
        st.integers(0, len(_PATHS) - 1),
        json_values,
    ),
    min_size=1,
    max_size=6,
)


def _resolve(doc: Doc, path: tuple[str | int, ...]) -> tuple[Any, str | int] | None:
    """The container of `path` and its last token, if the path still exists."""
    node: Any = doc
    for token in path[:-1]:
        try:
            node = node[token]
        except (KeyError, IndexError, TypeError):
            return None
    last = path[-1]
    if isinstance(node, dict) and last in node:
        return node, last
    if isinstance(node, list) and isinstance(last, int) and last < len(node):
        return node, last
    return None


def _mutate(doc: Doc, op: str, i: int, j: int, value: Any) -> None:
    target = _resolve(doc, _PATHS[i])
    if target is None:
        return
    parent, key = target
    if op == "set":
        parent[key] = value
    elif op == "delete":
        del parent[key]
    elif op in ("copy", "like"):
        # "like" copies a value of the same shape: mostly schema-valid, semantically anything.
        same = _SAME_SHAPE[_shape(_PATHS[i])]
        source = _resolve(doc, same[j % len(same)] if op == "like" else _PATHS[j])
        if source is not None:
            parent[key] = copy.deepcopy(source[0][source[1]])
    elif isinstance(parent, dict):  # rename, keeping the member's place
        new_key = value if isinstance(value, str) else _NAMES[j % len(_NAMES)]
        items = [(new_key if k == key else k, v) for k, v in parent.items()]
        parent.clear()
        parent.update(items)


_BACKENDS = list(all_backends().values())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations)
def test_randomly_broken_idl_only_gets_diagnostics(tmp_path: Path, ops: list[tuple[str, int, int, Any]]) -> None:
    doc = copy.deepcopy(_REAL)
    for op, i, j, value in ops:
        _mutate(doc, op, i, j, value)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    try:
        compile_idl(str(path), _BACKENDS)
    except IdlError as e:
        assert e.diagnostics
        for d in e.diagnostics:
            assert d.line >= 1 and d.col >= 1 and d.rule and d.message and d.hint, d
            assert d.pointer == "" or d.pointer.startswith("/"), d
            d.render()
