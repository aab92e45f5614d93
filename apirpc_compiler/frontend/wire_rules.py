"""Semantic rules of the `wire` section: protocol identities, code sets, structs (field specs,
constraints, `when`, variants) and streams.

Runs on the schema-valid part of the document (prune.py), so every wire integer is a JSON int
or a "0x..." string.
"""

from __future__ import annotations

from typing import Any

from .prune import Checkable
from .report import Reporter, ptr

INT_TYPES: dict[str, int] = {"varint": 2**62 - 1, "u8": 2**8 - 1, "u16": 2**16 - 1, "u32": 2**32 - 1, "u64": 2**64 - 1}


def wire_int(value: Any) -> int:
    """A wire integer as written in the IDL: a JSON int or a "0x..." string."""
    return int(value, 16) if isinstance(value, str) else int(value)


class WireChecker:
    def __init__(self, checked: Checkable, rep: Reporter) -> None:
        self.checked = checked
        self.rep = rep

    def run(self) -> None:
        protocols: dict[str, Any] = self.checked.document.get("wire", {}).get("protocols", {})
        for pname, proto in protocols.items():
            _Protocol(self.rep, self.checked, pname, proto).run()
        self.protocol_identities(protocols)

    def protocol_identities(self, protocols: dict[str, Any]) -> None:
        """A (family, version) names one protocol; an ALPN names one family."""
        versions: dict[tuple[str, int], str] = {}
        alpns: dict[str, tuple[str, str]] = {}
        for pname, proto in protocols.items():
            base = ptr("wire", "protocols", pname)
            family, version = proto["family"], wire_int(proto["version"])
            first = versions.setdefault((family, version), pname)
            if first != pname:
                self.rep.error(
                    base + "/version",
                    "duplicate-protocol-version",
                    f"protocols {first} and {pname} are both {family} version {version:#x}",
                    "a later draft or revision gets its own version; merge the two or fix the version",
                )
            if "alpn" in proto:
                owner, owner_family = alpns.setdefault(proto["alpn"], (pname, family))
                if owner_family != family:
                    self.rep.error(
                        base + "/alpn",
                        "alpn-conflict",
                        f"ALPN {proto['alpn']!r} of {pname} ({family}) is already the ALPN of {owner} ({owner_family})",
                        "an ALPN selects one protocol family during the TLS handshake; give each family its own",
                    )


class _Protocol:
    def __init__(self, rep: Reporter, checked: Checkable, pname: str, proto: dict[str, Any]) -> None:
        self.rep = rep
        self.checked = checked
        self.pname = pname
        self.base = ptr("wire", "protocols", pname)
        self.codes: dict[str, Any] = proto.get("codes", {})
        self.structs: dict[str, Any] = proto.get("structs", {})
        self.streams: dict[str, Any] = proto.get("streams", {})
        # struct -> [(referenced struct, pointer of the reference)], for the cycle check
        self.refs: dict[str, list[tuple[str, str]]] = {}

    def run(self) -> None:
        for cname, cset in self.codes.items():
            self.code_set(cname, cset)
        for sname, struct in self.structs.items():
            self.struct(sname, struct)
        self.cycles()
        for stname, stream in self.streams.items():
            self.stream(stname, stream)

    def code_set(self, cname: str, cset: dict[str, Any]) -> None:
        seen: dict[int, str] = {}
        for vname, v in cset["values"].items():
            vptr = self.base + ptr("codes", cname, "values", vname)
            value = wire_int(v["value"])
            first = seen.setdefault(value, vname)
            if first != vname:
                self.rep.error(
                    vptr + "/value",
                    "duplicate-code-value",
                    f"{cname}.{vname} reuses value {value:#x} of {cname}.{first}",
                    "each code in a set has its own value",
                )
            if "struct" in v and v["struct"] not in self.structs:
                self.unresolved_struct(vptr + "/struct", v["struct"])

    def broken(self, kind: str, name: str) -> bool:
        """Whether the protocol declares this code set or struct, with schema errors already reported."""
        return self.checked.is_dropped("wire", "protocols", self.pname, kind, name)

    def unresolved_struct(self, pointer: str, name: str) -> None:
        if self.broken("structs", name):
            return
        self.rep.error(
            pointer,
            "unresolved-wire-struct",
            f"{name!r} is not a struct of this protocol",
            f"declare it under {self.base}/structs or fix the name",
        )

    def unresolved_codes(self, pointer: str, name: str) -> None:
        if self.broken("codes", name):
            return
        self.rep.error(
            pointer,
            "unresolved-wire-codes",
            f"{name!r} is not a code set of this protocol",
            f"declare it under {self.base}/codes or fix the name",
        )

    def codes_fit(self, pointer: str, cname: str, int_type: str) -> None:
        """Every value of code set `cname` must fit the integer type that carries it."""
        limit = INT_TYPES[int_type]
        for vname, v in self.codes[cname]["values"].items():
            value = wire_int(v["value"])
            if value > limit:
                self.rep.error(
                    pointer,
                    "code-value-range",
                    f"code {cname}.{vname} = {value:#x} does not fit {int_type} (max {limit:#x})",
                    "widen the field type or change the code",
                )

    # ---- structs ----

    def struct(self, sname: str, struct: dict[str, Any]) -> None:
        rep = self.rep
        sptr = self.base + ptr("structs", sname)
        fields: list[dict[str, Any]] = struct["fields"]
        self.refs[sname] = []
        flags: set[str] = set(struct.get("args", []))
        variants: list[dict[str, Any]] = struct.get("variants", [])
        if variants:
            self.variants(sname, sptr, fields, variants)
            for v in variants:
                flags.update(v.get("flags", {}))
        int_fields: set[str] = set()  # earlier fields of an integer type: targets of `when` and lengths
        names: dict[str, int] = {}
        last = len(fields) - 1
        for i, f in enumerate(fields):
            fptr = sptr + ptr("fields", i)
            name = f["name"]
            first = names.setdefault(name, i)
            if first != i:
                rep.error(
                    fptr + "/name",
                    "duplicate-wire-field",
                    f"{sname} has two fields named {name!r} (#{first} and #{i})",
                    "rename one",
                )
            if "when" in f:
                self.when(sname, f["when"], fptr + "/when", flags, int_fields)
            self.type_spec(sname, f, fptr, int_fields, i == last)
            if f["type"] in INT_TYPES:
                int_fields.add(name)

    def variants(self, sname: str, sptr: str, fields: list[dict[str, Any]], variants: list[dict[str, Any]]) -> None:
        rep = self.rep
        if not fields or fields[0]["name"] != "type" or fields[0]["type"] != "varint":
            rep.error(
                sptr + "/variants",
                "invalid-variants",
                f"{sname} lists variants but its first field is not a varint named 'type'",
                'make the first field {"name": "type", "type": "varint"}',
            )
        codes: dict[int, int] = {}
        expected = set(variants[0].get("flags", {}))
        for k, v in enumerate(variants):
            vptr = sptr + ptr("variants", k)
            code = wire_int(v["code"])
            first = codes.setdefault(code, k)
            if first != k:
                rep.error(
                    vptr + "/code",
                    "duplicate-variant-code",
                    f"{sname} variant #{k} repeats code {code:#x} of variant #{first}",
                    "each variant has its own code",
                )
            if code > INT_TYPES["varint"]:
                rep.error(
                    vptr + "/code",
                    "code-value-range",
                    f"variant code {code:#x} does not fit a varint",
                    f"a variant code is the struct's first field, a varint (max {INT_TYPES['varint']:#x})",
                )
            flags = set(v.get("flags", {}))
            if flags != expected:
                diff = sorted(flags ^ expected)
                rep.error(
                    vptr + ("/flags" if "flags" in v else ""),
                    "inconsistent-variant-flags",
                    f"the flags of {sname} variant #{k} differ from those of variant #0 in: {', '.join(diff)}",
                    "every variant gives the same flag names",
                )

    def when(self, sname: str, cond: dict[str, Any], wptr: str, flags: set[str], int_fields: set[str]) -> None:
        if "flag" in cond:
            if cond["flag"] not in flags:
                self.rep.error(
                    wptr + "/flag",
                    "invalid-when",
                    f"{sname} has no variant flag or arg {cond['flag']!r}",
                    f"declare it in a variant's flags or in args ({', '.join(sorted(flags)) or 'none declared'})",
                )
        elif cond["field"] not in int_fields:
            self.rep.error(
                wptr + "/field",
                "invalid-when",
                f"{cond['field']!r} is not an earlier integer field of {sname}",
                "a condition tests an integer field declared before this one",
            )

    def type_spec(self, sname: str, spec: dict[str, Any], sptr: str, int_fields: set[str], is_last: bool) -> None:
        rep = self.rep
        t = spec["type"]
        if t in INT_TYPES:
            limit = INT_TYPES[t]
            if "const" in spec and wire_int(spec["const"]) > limit:
                rep.error(
                    sptr + "/const",
                    "const-range",
                    f"const {wire_int(spec['const']):#x} does not fit {t} (max {limit:#x})",
                    "fix the constant or widen the type",
                )
            for key in ("min", "max", "mask"):
                if key in spec and wire_int(spec[key]) > limit:
                    rep.error(
                        sptr + "/" + key,
                        "wire-value-range",
                        f"{key} {wire_int(spec[key]):#x} does not fit {t} (max {limit:#x})",
                        "fix the bound or widen the type",
                    )
            self.min_not_above_max(spec, sptr)
            if "codes" in spec:
                if spec["codes"] not in self.codes:
                    self.unresolved_codes(sptr + "/codes", spec["codes"])
                else:
                    self.codes_fit(sptr + "/codes", spec["codes"], t)
            if "const" in spec:
                self.const_fits(spec, sptr)
        elif t in ("bytes", "string", "list"):
            key = "count" if t == "list" else "length"
            length = spec.get(key)
            if isinstance(length, (int, str)) and length not in ("varint", "rest"):
                self.fixed_size_fits(spec, sptr + "/" + key, key, wire_int(length))
            if t == "list":
                self.list_spec(sname, spec, sptr)
            if length == "rest" and not is_last:
                rep.error(
                    sptr + "/" + key,
                    "rest-not-last",
                    f'a {key} of "rest" in {sname} must be on its last field',
                    '"rest" consumes the rest of the frame; move the field to the end',
                )
            if isinstance(length, dict) and length["field"] not in int_fields:
                rep.error(
                    sptr + ptr(key, "field"),
                    "invalid-length-ref",
                    f"{length['field']!r} is not an earlier integer field of {sname}",
                    "a length refers to an integer field declared before this one",
                )
            if t == "list":
                # An element sits inside the list: it is never the last thing of the frame.
                self.type_spec(sname, spec["element"], sptr + "/element", int_fields, False)
        else:  # struct
            self.frame_spec(spec, sptr)
            target = spec["struct"]
            if target not in self.structs:
                self.unresolved_struct(sptr + "/struct", target)
            else:
                self.refs[sname].append((target, sptr + "/struct"))

    def min_not_above_max(self, spec: dict[str, Any], sptr: str) -> None:
        if "min" in spec and "max" in spec and wire_int(spec["min"]) > wire_int(spec["max"]):
            self.rep.error(
                sptr + "/min",
                "wire-value-range",
                f"min {wire_int(spec['min'])} is larger than max {wire_int(spec['max'])}",
                "no value fits both; swap them or fix one",
            )

    def const_fits(self, spec: dict[str, Any], sptr: str) -> None:
        """A const that another constraint of the same field forbids would fail every decode and encode."""
        const = wire_int(spec["const"])
        conflicts: list[str] = []
        if "min" in spec and const < wire_int(spec["min"]):
            conflicts.append(f"is below min {wire_int(spec['min']):#x}")
        if "max" in spec and const > wire_int(spec["max"]):
            conflicts.append(f"is above max {wire_int(spec['max']):#x}")
        if "mask" in spec and const & ~wire_int(spec["mask"]):
            conflicts.append(f"has bits outside mask {wire_int(spec['mask']):#x}")
        cset = self.codes.get(spec.get("codes", ""))
        closed_values = {wire_int(v["value"]) for v in cset["values"].values()} if cset and cset.get("closed") else None
        if closed_values is not None and const not in closed_values:
            conflicts.append(f"is not a value of the closed code set {spec['codes']}")
        for conflict in conflicts:
            self.rep.error(
                sptr + "/const",
                "contradictory-constraint",
                f"const {const:#x} {conflict}, so no value can be valid",
                "fix the constant or the constraint it contradicts",
            )

    def fixed_size_fits(self, spec: dict[str, Any], pointer: str, key: str, size: int) -> None:
        unit = "elements" if key == "count" else "bytes"
        conflicts: list[str] = []
        if "max" in spec and size > wire_int(spec["max"]):
            conflicts.append(f"above max {wire_int(spec['max'])}")
        if "min" in spec and size < wire_int(spec["min"]):
            conflicts.append(f"below min {wire_int(spec['min'])}")
        for conflict in conflicts:
            self.rep.error(
                pointer,
                "contradictory-constraint",
                f"a fixed {key} of {size} {unit} is {conflict}, so no value can be valid",
                f"fix the {key} or the bound it contradicts",
            )

    def frame_spec(self, spec: dict[str, Any], sptr: str) -> None:
        """`max_bytes` bounds a byte frame, so it needs one; a frame length is a varint."""
        if "max_bytes" not in spec:
            return
        if "frame" not in spec:
            self.rep.error(
                sptr + "/max_bytes",
                "max-bytes-without-frame",
                "max_bytes bounds the byte length of a frame, but this field has no frame",
                'add "frame": "varint" or use max (element count) instead',
            )
        elif wire_int(spec["max_bytes"]) > INT_TYPES["varint"]:
            self.rep.error(
                sptr + "/max_bytes",
                "wire-value-range",
                f"max_bytes {wire_int(spec['max_bytes']):#x} does not fit the frame's varint length",
                f"a varint length is at most {INT_TYPES['varint']:#x}; lower max_bytes",
            )

    def list_spec(self, sname: str, spec: dict[str, Any], sptr: str) -> None:
        """A list's frame, element-count bounds, and an element that cannot stall decoding."""
        rep = self.rep
        self.frame_spec(spec, sptr)
        framed = "frame" in spec
        if framed and "count" in spec:
            rep.error(
                sptr + "/count",
                "frame-with-count",
                f"a list in {sname} has both a frame and a count",
                "a framed list has no count: its elements run to the end of the frame; remove count",
            )
        for key in ("min", "max"):
            if key in spec and wire_int(spec[key]) > INT_TYPES["varint"]:
                rep.error(
                    sptr + "/" + key,
                    "wire-value-range",
                    f"a {key} of {wire_int(spec[key]):#x} elements is more than a varint count can say",
                    f"a list holds at most {INT_TYPES['varint']:#x} elements; lower the bound",
                )
        self.min_not_above_max(spec, sptr)
        if (framed or spec.get("count") == "rest") and self.min_size(spec["element"], set()) == 0:
            rep.error(
                sptr + "/element",
                "zero-size-element",
                f"a list in {sname} reads elements until its end, but an element can take zero bytes",
                "give the element an unconditional field (or a length prefix) so every element uses input",
            )

    def min_size(self, spec: dict[str, Any], seen: set[str]) -> int:
        """The fewest bytes a value of this type spec can take (embedded struct cycles count as 1)."""
        t = spec["type"]
        if t in INT_TYPES:
            return 1 if t == "varint" else (INT_TYPES[t].bit_length() // 8)
        if "frame" in spec:
            return 1
        if t in ("bytes", "string", "list"):
            length = spec.get("count" if t == "list" else "length")
            if length == "varint":
                return 1
            if length is None or length == "rest" or isinstance(length, dict):
                return 0
            fixed = wire_int(length)
            return fixed * self.min_size(spec["element"], seen) if t == "list" else fixed
        target = spec["struct"]
        if target not in self.structs or target in seen:
            return 1
        inner = seen | {target}
        return sum(self.min_size(f, inner) for f in self.structs[target]["fields"] if "when" not in f)

    def cycles(self) -> None:
        # Iterative three-colour DFS over struct references; a grey target closes a cycle.
        colour = dict.fromkeys(self.refs, 0)
        for root in self.refs:
            if colour[root]:
                continue
            colour[root] = 1
            stack: list[tuple[str, int]] = [(root, 0)]
            while stack:
                node, i = stack[-1]
                edges = self.refs[node]
                if i == len(edges):
                    colour[node] = 2
                    stack.pop()
                    continue
                stack[-1] = (node, i + 1)
                target, pointer = edges[i]
                if colour[target] == 1:
                    path = [n for n, _ in stack]
                    cycle = [*path[path.index(target) :], target]
                    self.rep.error(
                        pointer,
                        "wire-struct-cycle",
                        f"struct {' -> '.join(cycle)} embeds itself",
                        "a struct cannot contain itself, directly or through others",
                    )
                elif colour[target] == 0:
                    colour[target] = 1
                    stack.append((target, 0))

    # ---- streams ----

    def stream(self, stname: str, stream: dict[str, Any]) -> None:
        rep = self.rep
        stptr = self.base + ptr("streams", stname)
        kind = stream["kind"]
        if kind in ("sequence", "datagram"):
            if stream["message"] not in self.structs:
                self.unresolved_struct(stptr + "/message", stream["message"])
        elif kind == "framed":
            dispatch = stream["dispatch"]
            if dispatch not in self.codes:
                self.unresolved_codes(stptr + "/dispatch", dispatch)
                return
            self.codes_fit(stptr + "/dispatch", dispatch, stream["type"])
            for vname, v in self.codes[dispatch]["values"].items():
                if "struct" not in v:
                    rep.error(
                        self.base + ptr("codes", dispatch, "values", vname),
                        "dispatch-missing-struct",
                        f"{dispatch}.{vname} has no struct, but stream {stname} dispatches on {dispatch}",
                        'give it "struct": the body of that frame type',
                    )
        else:  # header_objects
            for hname, h in stream["headers"].items():
                hptr = stptr + ptr("headers", hname)
                header = self.structs.get(hname)
                obj = self.structs.get(h["object"])
                if header is None:
                    self.unresolved_struct(hptr, hname)
                if obj is None:
                    self.unresolved_struct(hptr + "/object", h["object"])
                header_flags = {f for v in (header or {}).get("variants", []) for f in v.get("flags", {})}
                obj_args = set((obj or {}).get("args", []))
                for arg, flag in h.get("args", {}).items():
                    aptr = hptr + ptr("args", arg)
                    if obj is not None and arg not in obj_args:
                        rep.error(
                            aptr,
                            "invalid-stream-args",
                            f"{h['object']} declares no arg {arg!r}",
                            f"its args: {', '.join(sorted(obj_args)) or 'none'}",
                        )
                    if header is not None and flag not in header_flags:
                        rep.error(
                            aptr,
                            "invalid-stream-args",
                            f"{hname} has no variant flag {flag!r}",
                            f"its flags: {', '.join(sorted(header_flags)) or 'none'}",
                        )
