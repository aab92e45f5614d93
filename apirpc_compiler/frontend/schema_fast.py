"""A fast yes/no check of the IDL schema, compiled to closures.

jsonschema spends ~40 us per keyword application, so a 2,000-message IDL takes half a minute.
This compiles the keyword subset our schema uses into plain Python predicates (about 50x
faster). It only answers "valid?": when the answer is no, jsonschema still produces every
error message (schema.py), on a document pruned to the items this check rejects. A schema
using a keyword not handled here makes `compile_check` return None, and jsonschema runs alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_IGNORED = frozenset(["$schema", "$id", "$defs", "title", "description", "default", "examples", "$comment"])


class Unsupported(Exception):
    pass


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": _is_int,
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _equal(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema sees it: booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _canonical(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = root.get("$defs", {})
        self.refs: dict[str, Check] = {}

    def ref(self, ref: str) -> Check:
        if not ref.startswith("#/$defs/"):
            raise Unsupported(ref)
        name = ref.removeprefix("#/$defs/")
        if name not in self.refs:
            # Recursive definitions: register a trampoline before compiling the target.
            holder: list[Check] = []
            self.refs[name] = lambda v: holder[0](v)
            holder.append(self.compile(self.defs[name]))
        return self.refs[name]

    def declared_properties(self, schema: Any) -> set[str]:
        """Properties any in-place subschema declares: what `unevaluatedProperties` treats as evaluated."""
        if not isinstance(schema, dict):
            return set()
        out = set(schema.get("properties", {}))
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out |= self.declared_properties(self.defs[ref.removeprefix("#/$defs/")])
        for sub in schema.get("allOf", []):
            out |= self.declared_properties(sub)
        return out

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        compiled = [self.keyword(key, arg, schema) for key, arg in schema.items() if key not in _IGNORED]
        checks = [c for c in compiled if c is not None]
        if len(checks) == 1:
            return checks[0]

        def all_of(v: Any) -> bool:
            return all(c(v) for c in checks)

        return all_of

    def keyword(self, key: str, arg: Any, schema: dict[str, Any]) -> Check | None:
        """One keyword as a predicate; each branch's closure captures this call's locals."""
        if key == "$ref":
            return self.ref(arg)
        if key == "type":
            tests = [_TYPES[t] for t in ([arg] if isinstance(arg, str) else arg)]
            return lambda v: any(t(v) for t in tests)
        if key == "enum":
            return lambda v: any(_equal(v, e) for e in arg)
        if key == "const":
            return lambda v: _equal(v, arg)
        if key == "pattern":
            rx = re.compile(arg)
            return lambda v: not isinstance(v, str) or rx.search(v) is not None
        if key == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= arg
        if key == "minimum":
            return lambda v: not _is_number(v) or v >= arg
        if key == "maximum":
            return lambda v: not _is_number(v) or v <= arg
        if key == "required":
            return lambda v: not isinstance(v, dict) or all(k in v for k in arg)
        if key == "minProperties":
            return lambda v: not isinstance(v, dict) or len(v) >= arg
        if key == "properties":
            props = {k: self.compile(s) for k, s in arg.items()}
            return lambda v: not isinstance(v, dict) or all(c(v[k]) for k, c in props.items() if k in v)
        if key == "additionalProperties":
            if "patternProperties" in schema:
                raise Unsupported(key)
            known = set(schema.get("properties", {}))
            extra = self.compile(arg)
            return lambda v: not isinstance(v, dict) or all(extra(x) for k, x in v.items() if k not in known)
        if key == "unevaluatedProperties":
            if arg is not False or any(k in schema for k in ("anyOf", "oneOf", "if", "patternProperties")):
                raise Unsupported(key)
            evaluated = self.declared_properties(schema)
            return lambda v: not isinstance(v, dict) or all(k in evaluated for k in v)
        if key == "propertyNames":
            names = self.compile(arg)
            return lambda v: not isinstance(v, dict) or all(names(k) for k in v)
        if key == "items":
            item = self.compile(arg)
            skip = len(schema.get("prefixItems", []))
            return lambda v: not isinstance(v, list) or all(item(x) for x in v[skip:])
        if key == "prefixItems":
            prefix = [self.compile(s) for s in arg]
            return lambda v: not isinstance(v, list) or all(c(x) for c, x in zip(prefix, v, strict=False))
        if key == "minItems":
            return lambda v: not isinstance(v, list) or len(v) >= arg
        if key == "maxItems":
            return lambda v: not isinstance(v, list) or len(v) <= arg
        if key == "uniqueItems":
            return (lambda v: not isinstance(v, list) or len({_canonical(x) for x in v}) == len(v)) if arg else None
        if key in ("anyOf", "allOf"):
            subs = [self.compile(s) for s in arg]
            if key == "anyOf":
                return lambda v: any(c(v) for c in subs)
            return lambda v: all(c(v) for c in subs)
        if key == "if":
            cond = self.compile(arg)
            then = self.compile(schema.get("then", True))
            other = self.compile(schema.get("else", True))
            return lambda v: then(v) if cond(v) else other(v)
        if key in ("then", "else"):
            return None  # compiled with "if"
        raise Unsupported(key)


def compile_check(schema: dict[str, Any], ref: str | None = None) -> Check | None:
    """A predicate for `schema` (or one of its `$defs` by "#/$defs/name"), or None if it uses unsupported keywords."""
    try:
        compiler = _Compiler(schema)
        return compiler.ref(ref) if ref else compiler.compile(schema)
    except Unsupported:
        return None
