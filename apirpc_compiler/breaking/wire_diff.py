"""Breaking changes in the hand-specified wire protocols (`wire.protocols`).

These layouts are positional and untagged (the legacy envelope, MoQT control messages), so
almost every change breaks an old decoder: there is no WIRE_JSON or SOURCE leeway except for
renames that keep the bytes identical. Growth happens by adding codes to open code sets, new
variants (type codes) and fields gated behind flags that only new variants set; a new draft
of a protocol is a sibling protocol, never an in-place edit of `version`.

A field's type is compared whole: a byte frame added, removed or bounded (`frame`,
`max_bytes`) moves bytes, and a changed `min`/`max` makes one side reject what the other
sends, so each is a WIRE break named by the keys that changed.
"""

from __future__ import annotations

from ..ir import model as m
from .rules import Finding, Tier, finding, ptr


def _proto_ptr(proto: str, *rest: str | int) -> str:
    return ptr("wire", "protocols", proto, *rest)


def _type_diff(old: m.WireType, new: m.WireType) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [k for k in keys if old.get(k) != new.get(k)]


def _field_gated_by_new_variant(old: m.WireStruct, new: m.WireStruct, field: m.WireField) -> bool:
    """True when an added field can only be present in variants OLD did not have.

    The field must be conditional on a variant flag (not on a struct arg, which old streams
    pass either way) and no variant whose code OLD already knew may set that flag to the
    condition's value.
    """
    cond = field["when"]
    if cond is None or cond["op"] != "flag" or cond["name"] in old["args"] or not new["variants"]:
        return False
    old_codes = {v["code"] for v in old["variants"]}
    return not any(
        v["flags"].get(cond["name"], False) == cond["value"] for v in new["variants"] if v["code"] in old_codes
    )


def _compare_struct(out: list[Finding], proto: str, old: m.WireStruct, new: m.WireStruct) -> None:
    s = new["name"]
    base = (proto, "structs", s)
    if old["args"] != new["args"]:
        out.append(
            finding(
                "wire-struct-args-changed",
                Tier.WIRE,
                _proto_ptr(*base, "args"),
                f"{proto} struct {s} changed args {old['args']} -> {new['args']}",
            )
        )
    old_index = {f["name"]: i for i, f in enumerate(old["fields"])}
    new_index = {f["name"]: i for i, f in enumerate(new["fields"])}
    renamed_to: set[str] = set()
    for i, of in enumerate(old["fields"]):
        j = new_index.get(of["name"])
        if j is None:
            nf = new["fields"][i] if i < len(new["fields"]) else None
            if nf is not None and nf["name"] not in old_index and nf["type"] == of["type"] and nf["when"] == of["when"]:
                renamed_to.add(nf["name"])
                out.append(
                    finding(
                        "wire-struct-field-name-changed",
                        Tier.SOURCE,
                        _proto_ptr(*base, "fields", i),
                        f"{proto} struct {s} field {of['name']} renamed to {nf['name']}",
                    )
                )
            else:
                out.append(
                    finding(
                        "wire-struct-field-removed",
                        Tier.WIRE,
                        _proto_ptr(*base, "fields", i),
                        f"{proto} struct {s} field {of['name']} was removed",
                    )
                )
            continue
        nf = new["fields"][j]
        diff = _type_diff(of["type"], nf["type"])
        if of["when"] != nf["when"]:
            diff.append("when")
        if diff:
            out.append(
                finding(
                    "wire-struct-field-changed",
                    Tier.WIRE,
                    _proto_ptr(*base, "fields", j),
                    f"{proto} struct {s} field {of['name']} changed {', '.join(diff)}",
                )
            )
    common_old = [f["name"] for f in old["fields"] if f["name"] in new_index]
    common_new = [f["name"] for f in new["fields"] if f["name"] in old_index]
    if common_old != common_new:
        out.append(
            finding(
                "wire-struct-field-reordered",
                Tier.WIRE,
                _proto_ptr(*base, "fields"),
                f"{proto} struct {s} fields reordered: {', '.join(common_old)} -> {', '.join(common_new)}",
            )
        )
    for j, nf in enumerate(new["fields"]):
        if nf["name"] in old_index or nf["name"] in renamed_to:
            continue
        if not _field_gated_by_new_variant(old, new, nf):
            out.append(
                finding(
                    "wire-struct-field-added",
                    Tier.WIRE,
                    _proto_ptr(*base, "fields", j),
                    f"{proto} struct {s} gained field {nf['name']}, which existing variants carry",
                )
            )
    new_variants = {v["code"]: (j, v) for j, v in enumerate(new["variants"])}
    for i, ov in enumerate(old["variants"]):
        hit = new_variants.get(ov["code"])
        if hit is None:
            out.append(
                finding(
                    "wire-struct-variant-removed",
                    Tier.WIRE,
                    _proto_ptr(*base, "variants", i),
                    f"{proto} struct {s} variant {ov['code']:#x} was removed",
                )
            )
        elif hit[1]["flags"] != ov["flags"]:
            out.append(
                finding(
                    "wire-struct-variant-changed",
                    Tier.WIRE,
                    _proto_ptr(*base, "variants", hit[0]),
                    f"{proto} struct {s} variant {ov['code']:#x} changed flags {ov['flags']} -> {hit[1]['flags']}",
                )
            )


def _compare_codes(out: list[Finding], proto: str, old: m.WireCodeSet, new: m.WireCodeSet) -> None:
    cs = new["name"]
    base = (proto, "codes", cs)
    if new["closed"] and not old["closed"]:
        out.append(
            finding(
                "wire-code-set-closed",
                Tier.WIRE,
                _proto_ptr(*base, "closed"),
                f"{proto} code set {cs} became closed: values outside it are now rejected",
            )
        )
    new_by_name = {c["name"]: c for c in new["values"]}
    new_by_value = {c["value"]: c for c in new["values"]}
    old_names = {c["name"] for c in old["values"]}
    old_values = {c["value"] for c in old["values"]}
    for oc in old["values"]:
        nc = new_by_name.get(oc["name"])
        if nc is None:
            renamed = new_by_value.get(oc["value"])
            if renamed is not None and renamed["name"] not in old_names:
                out.append(
                    finding(
                        "wire-code-name-changed",
                        Tier.SOURCE,
                        _proto_ptr(*base, "values", renamed["name"]),
                        f"{proto} code {cs}.{oc['name']} renamed to {renamed['name']}",
                    )
                )
                nc = renamed
            else:
                out.append(
                    finding(
                        "wire-code-removed",
                        Tier.WIRE,
                        _proto_ptr(*base, "values", oc["name"]),
                        f"{proto} code {cs}.{oc['name']} ({oc['value']:#x}) was removed",
                    )
                )
                continue
        elif nc["value"] != oc["value"]:
            out.append(
                finding(
                    "wire-code-value-changed",
                    Tier.WIRE,
                    _proto_ptr(*base, "values", nc["name"], "value"),
                    f"{proto} code {cs}.{oc['name']} changed value {oc['value']:#x} -> {nc['value']:#x}",
                )
            )
        if oc["struct"] is not None and nc["struct"] != oc["struct"]:
            out.append(
                finding(
                    "wire-code-struct-changed",
                    Tier.WIRE,
                    _proto_ptr(*base, "values", nc["name"], "struct"),
                    f"{proto} code {cs}.{nc['name']} now dispatches to {nc['struct']} instead of {oc['struct']}",
                )
            )
    if old["closed"]:
        for nc in new["values"]:
            if nc["name"] not in old_names and nc["value"] not in old_values:
                out.append(
                    finding(
                        "wire-code-added",
                        Tier.WIRE,
                        _proto_ptr(*base, "values", nc["name"]),
                        f"{proto} code {cs}.{nc['name']} added to a closed set: old decoders reject it",
                    )
                )


def _stream_shape(s: m.WireStream) -> dict[str, object]:
    return {k: v for k, v in s.items() if k not in ("name", "words", "doc")}


def _auth_findings(name: str, old: m.WireAuth | None, new: m.WireAuth | None) -> list[Finding]:
    """The envelope's token convention: a peer built against the other side sends or expects another envelope."""
    if old is None and new is None:
        return []
    if old is None or new is None:
        what = "added: old clients send no token where it is expected" if old is None else "removed"
        return [finding("auth-changed", Tier.WIRE, _proto_ptr(name, "auth"), f"wire protocol {name} auth was {what}")]
    return [
        finding(
            "auth-changed",
            Tier.WIRE,
            _proto_ptr(name, "auth", key),
            f"wire protocol {name} changed auth {key} {old[key]!r} -> {new[key]!r}",
        )
        for key in ("method_id", "token")
        if old[key] != new[key]
    ]


def compare_wire(old: list[m.WireProtocol], new: list[m.WireProtocol]) -> list[Finding]:
    out: list[Finding] = []
    new_protocols = {p["name"]: p for p in new}
    for op in old:
        name = op["name"]
        np_ = new_protocols.get(name)
        if np_ is None:
            out.append(
                finding("wire-protocol-removed", Tier.WIRE, _proto_ptr(name), f"wire protocol {name} was removed")
            )
            continue
        for key in ("family", "version", "alpn"):
            if op[key] != np_[key]:
                out.append(
                    finding(
                        "wire-protocol-version-changed",
                        Tier.WIRE,
                        _proto_ptr(name, key),
                        f"wire protocol {name} changed {key} {op[key]!r} -> {np_[key]!r}",
                    )
                )
        out.extend(_auth_findings(name, op["auth"], np_["auth"]))
        new_codes = {c["name"]: c for c in np_["codes"]}
        for oc in op["codes"]:
            nc = new_codes.get(oc["name"])
            if nc is None:
                out.append(
                    finding(
                        "wire-code-set-removed",
                        Tier.WIRE,
                        _proto_ptr(name, "codes", oc["name"]),
                        f"{name} code set {oc['name']} was removed",
                    )
                )
            else:
                _compare_codes(out, name, oc, nc)
        new_structs = {s["name"]: s for s in np_["structs"]}
        for os_ in op["structs"]:
            ns = new_structs.get(os_["name"])
            if ns is None:
                out.append(
                    finding(
                        "wire-struct-removed",
                        Tier.WIRE,
                        _proto_ptr(name, "structs", os_["name"]),
                        f"{name} struct {os_['name']} was removed",
                    )
                )
            else:
                _compare_struct(out, name, os_, ns)
        new_streams = {s["name"]: s for s in np_["streams"]}
        for ost in op["streams"]:
            nst = new_streams.get(ost["name"])
            if nst is None:
                out.append(
                    finding(
                        "wire-stream-removed",
                        Tier.WIRE,
                        _proto_ptr(name, "streams", ost["name"]),
                        f"{name} stream {ost['name']} was removed",
                    )
                )
                continue
            o, n = _stream_shape(ost), _stream_shape(nst)
            diff = sorted(k for k in set(o) | set(n) if o.get(k) != n.get(k))
            if diff:
                out.append(
                    finding(
                        "wire-stream-changed",
                        Tier.WIRE,
                        _proto_ptr(name, "streams", ost["name"]),
                        f"{name} stream {ost['name']} changed {', '.join(diff)}",
                    )
                )
    return out
