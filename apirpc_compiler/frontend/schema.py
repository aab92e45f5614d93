"""JSON Schema validation of the IDL (api/schema/clutchcall-idl.schema.json), with readable messages.

Every schema error is reported (not only the first), at the instance location through the
source map. jsonschema's raw messages are rewritten where they are cryptic: unexpected keys
are reported one per key at the key itself, name patterns are named (snake_case, PascalCase),
and `anyOf` failures use the subschema's `description`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from .load import LoadedIdl
from .report import Reporter, ptr
from .schema_fast import Check, compile_check

# A symlink to api/schema/ in the repository; a real file inside a built wheel.
SCHEMA_PATH = Path(__file__).parent / "clutchcall-idl.schema.json"

_PATTERN_NAMES = {
    "^[A-Z][A-Za-z0-9]*$": "a PascalCase name (e.g. CallStatus)",
    "^[a-z][a-z0-9]*(_[a-z0-9]+)*$": "a snake_case name (e.g. in_progress)",
    "^[a-z][a-z0-9]*(_[a-z0-9]+)*(\\.[a-z][a-z0-9]*(_[a-z0-9]+)*)*$": "a dotted lower-case name (e.g. voice.bridge)",
    "^([a-z][a-z0-9]*(_[a-z0-9]+)*(\\.[a-z][a-z0-9]*(_[a-z0-9]+)*)*|[A-Z][A-Za-z0-9]*)$": (
        "a dotted lower-case (voice.calls) or PascalCase service name"
    ),
    "^[a-z][a-z0-9]*(\\.[a-z][a-z0-9]*)*$": "a dotted lower-case package (e.g. clutchcall.v1)",
    "^0x[0-9a-fA-F]{1,16}$": 'a "0x..." hex integer of at most 64 bits',
}


@functools.cache
def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema())


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target: dict[str, Any] = load_schema()["$defs"][ref.removeprefix("#/$defs/")]
        return target
    return {}


def _allowed_keys(schema: dict[str, Any]) -> list[str]:
    keys = set(schema.get("properties", {})) | set(_resolve(schema).get("properties", {}))
    return sorted(keys)


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """Replace an anyOf/oneOf failure without a description by its most relevant sub-error."""
    while error.context and not (isinstance(error.schema, dict) and "description" in error.schema):
        best = best_match(error.context)
        if best is None:
            break
        error = best
    yield error


def _pointer(error: ValidationError) -> str:
    return ptr(*error.absolute_path)


def _node(document: Any, tokens: list[str | int]) -> Any:
    node = document
    for t in tokens:
        node = node[t]
    return node


def _describe_type(document: Any, pointer_tokens: list[str | int]) -> str:
    node = _node(document, pointer_tokens)
    if isinstance(node, dict):
        for key in ("type", "kind", "op"):
            if isinstance(node.get(key), str):
                return f" when {key} is {node[key]!r}"
    return ""


def _report(rep: Reporter, error: ValidationError, document: Any) -> None:
    pointer = _pointer(error)
    validator = str(error.validator) if error.validator is not None else "false"
    schema = error.schema if isinstance(error.schema, dict) else {}
    inst = error.instance
    if "propertyNames" in error.relative_schema_path or "propertyNames" in error.absolute_schema_path:
        # jsonschema reports a bad member name at the object; point at the name itself.
        name_pointer = pointer + ptr(str(inst))
        wanted = _PATTERN_NAMES.get(str(schema.get("pattern", "")), "")
        if wanted:
            msg = f"name {inst!r} must be {wanted}"
        elif "enum" in schema:
            msg = f"name {inst!r} is not one of {', '.join(map(str, schema['enum']))}"
        else:
            msg = f"name {inst!r} is not allowed: {error.message}"
        rep.error(name_pointer, "schema-name", msg, "rename it")
        return
    if validator in ("additionalProperties", "unevaluatedProperties") and isinstance(inst, dict):
        allowed = (
            _allowed_keys(schema) if validator == "unevaluatedProperties" else sorted(schema.get("properties", {}))
        )
        pattern_names = schema.get("propertyNames") is not None
        for key in inst:
            if key not in allowed:
                hint = (
                    f"allowed keys: {', '.join(allowed)}"
                    if allowed and not pattern_names
                    else "remove it or check its spelling"
                )
                rep.error(pointer + ptr(key), "schema-unknown-key", f"unexpected key {key!r}", hint)
        return
    if validator == "false":
        # jsonschema (4.2x) reports a `false` property schema at the object, not at the property:
        # find the member holding the rejected instance.
        parent = list(error.absolute_path)
        node = _node(document, parent)
        key = None
        if isinstance(node, dict) and node is not inst:
            key = next((k for k, v in node.items() if v is inst), None)
            if key is None:
                key = next((k for k, v in node.items() if v == inst), None)
        if key is None:
            key, parent = str(parent[-1]) if parent else "", parent[:-1]
        else:
            pointer += ptr(key)
        rep.error(
            pointer, "schema-not-allowed", f"{key!r} is not allowed here{_describe_type(document, parent)}", "remove it"
        )
        return
    if validator == "required":
        missing = re.match(r"'(.*)' is a required property", error.message)
        name = missing.group(1) if missing else error.message
        extra = _describe_type(document, list(error.absolute_path))
        rep.error(pointer, "schema-required", f"missing required key {name!r}{extra}", f"add {name!r}")
        return
    if validator == "pattern":
        wanted = _PATTERN_NAMES.get(str(schema.get("pattern", "")), f"match {schema.get('pattern')}")
        rep.error(pointer, "schema-pattern", f"{inst!r} must be {wanted}", "rename it")
        return
    if validator in ("anyOf", "oneOf") and "description" in schema:
        rep.error(
            pointer,
            f"schema-{validator.lower()}",
            f"{json.dumps(inst)} is not valid: expected {schema['description']}",
            "see docs/idl-format.md for what this key takes",
        )
        return
    rule = "schema-" + re.sub(r"(?<!^)([A-Z])", r"-\1", validator).lower()
    rep.error(pointer, rule, error.message, _hint(validator, schema))


def _hint(validator: str, schema: dict[str, Any]) -> str:
    """What to write instead, from the keyword that failed and its schema."""
    if validator == "type":
        kinds = schema.get("type")
        return "write " + (" or ".join(kinds) if isinstance(kinds, list) else f"a JSON {kinds}")
    if validator in ("minimum", "maximum"):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and hi is not None:
            return f"use a value from {lo} to {hi}"
        return f"use a value {'>=' if validator == 'minimum' else '<='} {schema[validator]}"
    if validator == "enum":
        return "use one of: " + ", ".join(json.dumps(v) for v in schema["enum"])
    if validator == "const":
        return f"write {json.dumps(schema['const'])}"
    if validator == "uniqueItems":
        return "remove the repeated entry"
    if validator in ("minItems", "minProperties", "minLength"):
        return "it may not be empty; add an entry or remove the key"
    return "see docs/idl-format.md for what this key takes"


# Collections whose items the schema checks independently of each other, with a minimal valid
# stand-in: items that pass the fast check are swapped for it before jsonschema runs.
_PRUNABLE = {
    "messages": ("message", {}),
    "enums": ("enum", {"values": {"unspecified": {"number": 0}}}),
    "services": ("service", {"methods": {}}),
}


@functools.cache
def _fast_checks() -> tuple[Check | None, dict[str, Check | None]]:
    schema = load_schema()
    return compile_check(schema), {k: compile_check(schema, "#/$defs/" + d) for k, (d, _) in _PRUNABLE.items()}


def _pruned(document: Any) -> Any:
    """The document with every independently valid message, enum and service replaced by a stub,
    so that jsonschema (slow) only walks the items that have errors."""
    if not isinstance(document, dict):
        return document
    _, item_checks = _fast_checks()
    out = dict(document)
    for key, (_, stub) in _PRUNABLE.items():
        items, check = document.get(key), item_checks[key]
        if isinstance(items, dict) and check is not None:
            out[key] = {name: (stub if check(item) else item) for name, item in items.items()}
    return out


def schema_diagnostics(loaded: LoadedIdl, rep: Reporter) -> None:
    full, _ = _fast_checks()
    if full is not None and full(loaded.document):
        return
    document = _pruned(loaded.document) if full is not None else loaded.document
    for error in _validator().iter_errors(document):
        for leaf in _leaves(error):
            _report(rep, leaf, document)
