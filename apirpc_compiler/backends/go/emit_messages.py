"""The DTOs of the root package: struct types, the protobuf binary codec and ProtoJSON.

Every message gets specialized code (one switch case per tag), the Go counterpart of the
Python target's emitter with the same semantics: canonical encoding in field-number order,
implicit defaults omitted, explicit presence written when set, unknown fields kept and
re-emitted after the known ones; decoding accepts packed and unpacked repeated scalars, merges
embedded messages and keeps unknown enum numbers.
"""

from __future__ import annotations

from collections.abc import Callable

from ...ir.model import IR, Field, Message
from ..common import encode_tag, fields_by_number, proto_varint, type_index
from .namer import GoNamer
from .text import Code, byte_list, go_string

GO_SCALAR = {
    "bool": "bool",
    "int32": "int32",
    "int64": "int64",
    "uint32": "uint32",
    "uint64": "uint64",
    "sint32": "int32",
    "sint64": "int64",
    "fixed32": "uint32",
    "fixed64": "uint64",
    "sfixed32": "int32",
    "sfixed64": "int64",
    "float": "float32",
    "double": "float64",
    "string": "string",
    "bytes": "[]byte",
}
# ProtoJSON writers and readers by Go type.
_JSON_APPEND = {
    "bool": "b = strconv.AppendBool(b, {v})",
    "int32": "b = strconv.AppendInt(b, int64({v}), 10)",
    "int64": "b = strconv.AppendInt(b, int64({v}), 10)",
    "uint32": "b = strconv.AppendUint(b, uint64({v}), 10)",
    "uint64": "b = strconv.AppendUint(b, uint64({v}), 10)",
    "float32": "b = rt.AppendFloat(b, {v})",
    "float64": "b = rt.AppendDouble(b, {v})",
    "string": "b = rt.AppendString(b, {v})",
    "[]byte": "b = rt.AppendBase64(b, {v})",
}
_JSON_READ = {
    "bool": "JSONBool",
    "int32": "JSONInt32",
    "int64": "JSONInt64",
    "uint32": "JSONUint32",
    "uint64": "JSONUint64",
    "float32": "JSONFloat",
    "float64": "JSONDouble",
    "string": "JSONString",
    "[]byte": "JSONBytes",
}
# Element reads and sizes by protobuf wire type (the IR's `wire_type`: 0 varint, 1 i64, 5 i32).
_READ_ELEM = {0: "rt.ReadVarint", 1: "rt.Fixed64", 5: "rt.Fixed32"}
_ELEM_SIZE = {1: 8, 5: 4}
_64BIT = {"int64", "uint64", "sint64", "fixed64", "sfixed64"}


class MessageEmitter:
    def __init__(self, ir: IR, namer: GoNamer) -> None:
        self.ir = ir
        self.n = namer
        self.types = type_index(ir)

    # ---- types ----
    def elem_type(self, f: Field) -> str:
        t = f["type"]
        if t["kind"] == "scalar":
            return GO_SCALAR[t["name"]]
        if t["kind"] == "enum":
            return self.n.type_name(self.types.enums[t["name"]]["words"])
        return "*" + self.n.type_name(self.types.messages[t["name"]]["words"])

    def field_type(self, f: Field) -> str:
        e = self.elem_type(f)
        if f["label"] == "repeated":
            return "[]" + e
        if (f["label"] == "optional" or f["oneof"]) and f["type"]["kind"] != "message" and e != "[]byte":
            return "*" + e
        return e

    def boxed(self, f: Field) -> bool:
        """A scalar or enum held through a pointer for its presence."""
        return self.field_type(f).startswith("*") and f["type"]["kind"] != "message"

    def when_set(self, c: Code, f: Field, fn: str, key: str, value: Callable[[Code, int, Field, str], None]) -> None:
        """A singular field's `key` line and `value`, when it is set (or, without presence, not its default)."""
        if self.is_ptr(f):
            c.add(1, f"if {fn} != nil {{")
            fn = f"*{fn}" if self.boxed(f) else fn
        else:
            c.add(1, f"if {self.implicit_cond(f, fn)} {{")
        c.add(2, key)
        value(c, 2, f, fn)
        c.add(1, "}")

    def is_ptr(self, f: Field) -> bool:
        """Explicit presence stored as a pointer (or nil-able bytes / message)."""
        return f["label"] == "optional" or f["oneof"] is not None

    # ---- file ----
    def emit(self) -> str:
        c = Code()
        for msg in self.ir["messages"]:
            self.emit_message(c, msg)
        return "\n".join(c.lines).rstrip("\n") + "\n"

    def emit_message(self, c: Code, msg: Message) -> None:
        t = self.n.type_name(msg["words"])
        c.blank()
        c.doc(0, msg["doc"] or f"{t} is the IDL message {msg['name']}.")
        c.add(0, f"type {t} struct {{")
        for f in msg["fields"]:
            doc = f["doc"]
            if f["label"] == "optional" and f["default"] is not None:
                doc += f" Absent reads as {f['default']} through {self.n.getter(f['words'])}."
            if f["oneof"]:
                doc += f" Member of oneof {f['oneof']}: set at most one."
            if f["deprecated"]:
                doc += " Deprecated: do not use."
            c.doc(1, doc)
            c.add(1, f"{self.n.field_name(f['words'])} {self.field_type(f)}")
            c.add(0, "")
        c.add(1, "unknown []byte")
        c.close()
        self.emit_accessors(c, msg, t)
        self.emit_api(c, msg, t)
        self.emit_encode(c, msg, t)
        self.emit_decode(c, msg, t)
        self.emit_to_json(c, msg, t)
        self.emit_from_json(c, msg, t)

    def default_literal(self, f: Field) -> str:
        d = f["default"]
        t = f["type"]
        if t["kind"] == "enum":
            e = self.types.enums[t["name"]]
            v = next(v for v in e["values"] if v["name"] == d) if d is not None else e["values"][0]
            return self.n.enum_const(e["words"], v["words"])
        if t["kind"] == "message":
            return "nil"
        s = t["name"]
        if d is None:
            return {"bool": "false", "string": '""', "bytes": "nil"}.get(s, "0")
        if s == "bool":
            return "true" if d else "false"
        if s == "string":
            return go_string(str(d))
        if s == "bytes":
            return f"[]byte({go_string(str(d))})"
        return repr(d)

    def emit_accessors(self, c: Code, msg: Message, t: str) -> None:
        for f in msg["fields"]:
            if not self.is_ptr(f):
                continue
            fn = self.n.field_name(f["words"])
            et = self.elem_type(f)
            c.add(0, f"// {self.n.getter(f['words'])} returns {fn}, or its default when it is absent.")
            c.add(0, f"func (m *{t}) {self.n.getter(f['words'])}() {et} {{")
            c.add(1, f"if m != nil && m.{fn} != nil {{")
            c.add(2, f"return {'*' if self.boxed(f) else ''}m.{fn}")
            c.add(1, "}")
            c.add(1, f"return {self.default_literal(f)}")
            c.close()
        for o in msg["oneofs"]:
            members = [f for f in msg["fields"] if f["oneof"] == o["name"]]
            c.doc(
                0,
                f"{self.n.which(o['words'])} returns the field number of the member of oneof {o['name']} "
                "that is set, or 0 when none is.",
            )
            c.add(0, f"func (m *{t}) {self.n.which(o['words'])}() int32 {{")
            cases = [
                ("m == nil", "0"),
                *((f"m.{self.n.field_name(f['words'])} != nil", str(f["number"])) for f in members),
            ]
            c.switch("", cases, "0")
            c.close()

    def emit_api(self, c: Code, msg: Message, t: str) -> None:
        name = msg["name"]
        c.add(0, "// MessageName is the IDL name of the message.")
        c.add(0, f'func (m *{t}) MessageName() string {{ return "{name}" }}')
        c.add(0, "")
        c.add(0, "// Reset clears every field.")
        c.add(0, f"func (m *{t}) Reset() {{ *m = {t}{{}} }}")
        c.add(0, "")
        c.add(0, "// UnknownFields are the fields this version does not know, as received.")
        c.add(0, f"func (m *{t}) UnknownFields() []byte {{ return m.unknown }}")
        c.add(0, "")
        c.add(0, "// AppendBinary appends the canonical protobuf encoding of m to b.")
        c.add(0, f"func (m *{t}) AppendBinary(b []byte) ([]byte, error) {{")
        c.on_err(1, "b, err", call="m.check()")
        c.add(1, "return m.appendBinary(b), nil")
        c.close()
        c.add(0, "// MarshalBinary is the canonical protobuf encoding of m.")
        c.add(0, f"func (m *{t}) MarshalBinary() ([]byte, error) {{ return m.AppendBinary(nil) }}")
        c.add(0, "")
        c.add(0, "// UnmarshalBinary replaces m with the decoded bytes; errors are *DecodeError.")
        c.add(0, f"func (m *{t}) UnmarshalBinary(b []byte) error {{")
        c.add(1, f"*m = {t}{{}}")
        c.on_err(1, call="rt.CheckSize(b)")
        c.add(1, "return m.decode(b, 0, len(b), 0)")
        c.close()
        c.add(0, f"// Decode{t} decodes protobuf binary; errors are *DecodeError.")
        c.add(0, f"func Decode{t}(b []byte) (*{t}, error) {{")
        c.add(1, f"m := new({t})")
        c.on_err(1, "nil, err", call="m.UnmarshalBinary(b)")
        c.add(1, "return m, nil")
        c.close()
        # A value receiver, so json.Marshal of a value (not only of a pointer) finds it.
        c.add(0, "// MarshalJSON writes ProtoJSON (fields at their default are left out).")
        c.add(0, f"func (m {t}) MarshalJSON() ([]byte, error) {{")
        c.on_err(1, "nil, err", call="m.check()")
        c.add(1, "return m.appendJSON(nil), nil")
        c.close()
        c.add(0, "// UnmarshalJSON reads ProtoJSON strictly (unknown fields are invalid_json).")
        c.add(0, f"func (m *{t}) UnmarshalJSON(b []byte) error {{ return m.UnmarshalProtoJSON(b, false) }}")
        c.add(0, "")
        c.add(0, "// UnmarshalProtoJSON replaces m with a ProtoJSON document; errors are *DecodeError.")
        c.add(0, f"func (m *{t}) UnmarshalProtoJSON(b []byte, ignoreUnknown bool) error {{")
        c.add(1, f"*m = {t}{{}}")
        c.add(1, "v, err := rt.ParseJSON(b)")
        c.on_err(1)
        c.add(1, "return m.fromJSON(v, 0, ignoreUnknown)")
        c.close()
        # check: oneof conflicts, recursively
        c.add(0, f"func (m *{t}) check() error {{")
        body = False
        for o in msg["oneofs"]:
            members = [f for f in msg["fields"] if f["oneof"] == o["name"]]
            if not body:
                c.add(1, "if m == nil {")
                c.add(2, "return nil")
                c.add(1, "}")
                body = True
            c.add(1, "n := 0" if o is msg["oneofs"][0] else "n = 0")
            for f in members:
                c.add(1, f"if m.{self.n.field_name(f['words'])} != nil {{")
                c.add(2, "n++")
                c.add(1, "}")
            c.add(1, "if n > 1 {")
            c.add(2, f'return rt.EncErrf("{name}: more than one member of oneof {o["name"]} is set")')
            c.add(1, "}")
        for f in msg["fields"]:
            if f["type"]["kind"] != "message":
                continue
            if not body:
                c.add(1, "if m == nil {")
                c.add(2, "return nil")
                c.add(1, "}")
                body = True
            fn = self.n.field_name(f["words"])
            if f["label"] == "repeated":
                c.add(1, f"for _, x := range m.{fn} {{")
                c.on_err(2, call="x.check()")
                c.add(1, "}")
            else:
                c.on_err(1, call=f"m.{fn}.check()")
        c.add(1, "return nil")
        c.close()

    # ---- binary encode ----
    def write_value(self, c: Code, ind: int, f: Field, v: str) -> None:
        """Append the value `v` (an element, not a pointer) without its tag."""
        t = f["type"]
        if t["kind"] == "enum":
            c.add(ind, f"b = rt.AppendVarint(b, uint64(int64({v})))")
            return
        if t["kind"] == "message":
            c.add(ind, "start := len(b)")
            c.add(ind, "b = append(b, 0)")
            c.add(ind, f"b = {v}.appendBinary(b)")
            c.add(ind, "b = rt.FinishLen(b, start)")
            return
        s = t["name"]
        line = {
            "bool": f"b = rt.AppendVarint(b, rt.BoolBit({v}))",
            "int32": f"b = rt.AppendVarint(b, uint64(int64({v})))",
            "int64": f"b = rt.AppendVarint(b, uint64({v}))",
            "uint32": f"b = rt.AppendVarint(b, uint64({v}))",
            "uint64": f"b = rt.AppendVarint(b, {v})",
            "sint32": f"b = rt.AppendZigzag32(b, {v})",
            "sint64": f"b = rt.AppendZigzag64(b, {v})",
            "fixed32": f"b = rt.AppendFixed32(b, {v})",
            "sfixed32": f"b = rt.AppendFixed32(b, uint32({v}))",
            "float": f"b = rt.AppendFixed32(b, math.Float32bits({v}))",
            "fixed64": f"b = rt.AppendFixed64(b, {v})",
            "sfixed64": f"b = rt.AppendFixed64(b, uint64({v}))",
            "double": f"b = rt.AppendFixed64(b, math.Float64bits({v}))",
        }.get(s)
        if line is not None:
            c.add(ind, line)
            return
        c.add(ind, f"b = rt.AppendVarint(b, uint64(len({v})))")
        c.add(ind, f"b = append(b, {v}...)")

    def implicit_cond(self, f: Field, v: str) -> str:
        t = f["type"]
        if t["kind"] == "message":
            return f"{v} != nil"
        if t["kind"] == "enum":
            return f"{v} != 0"
        s = t["name"]
        if s == "bool":
            return v
        if s in ("string", "bytes"):
            return f"len({v}) > 0"
        if s == "float":
            return f"math.Float32bits({v}) != 0"
        if s == "double":
            return f"math.Float64bits({v}) != 0"
        return f"{v} != 0"

    def emit_encode(self, c: Code, msg: Message, t: str) -> None:
        c.add(0, f"func (m *{t}) appendBinary(b []byte) []byte {{")
        c.add(1, "if m == nil {")
        c.add(2, "return b")
        c.add(1, "}")
        for f in fields_by_number(msg):
            fn = "m." + self.n.field_name(f["words"])
            tag = f"b = append(b, {byte_list(proto_varint(encode_tag(f)))})"
            if f["label"] == "repeated":
                c.add(1, f"if len({fn}) > 0 {{")
                if f["packed"]:
                    c.add(2, tag)
                    c.add(2, "start := len(b)")
                    c.add(2, "b = append(b, 0)")
                    c.add(2, f"for _, x := range {fn} {{")
                    self.write_value(c, 3, f, "x")
                    c.add(2, "}")
                    c.add(2, "b = rt.FinishLen(b, start)")
                else:
                    c.add(2, f"for _, x := range {fn} {{")
                    c.add(3, tag)
                    self.write_value(c, 3, f, "x")
                    c.add(2, "}")
                c.add(1, "}")
            else:
                self.when_set(c, f, fn, tag, self.write_value)
        c.add(1, "return append(b, m.unknown...)")
        c.close()

    # ---- binary decode ----
    def read_elem(self, c: Code, ind: int, f: Field, end: str, where: str) -> str:
        """Read one non-LEN element at pos (bounded by end) into a Go expression."""
        t = f["type"]
        s = t["name"] if t["kind"] == "scalar" else ("enum" if t["kind"] == "enum" else "msg")
        c.add(ind, f"v, p, err := {_READ_ELEM[f['wire_type']]}(b, pos, {end})")
        c.on_err(ind)
        c.add(ind, "pos = p")
        if s == "enum":
            return f"{self.elem_type(f)}(int32(v))"
        return {
            "bool": "v != 0",
            "int32": "int32(v)",
            "int64": "int64(v)",
            "uint32": "uint32(v)",
            "uint64": "v",
            "sint32": "rt.Zigzag32(v)",
            "sint64": "rt.Zigzag64(v)",
            "fixed32": "v",
            "sfixed32": "int32(v)",
            "float": "math.Float32frombits(v)",
            "fixed64": "v",
            "sfixed64": "int64(v)",
            "double": "math.Float64frombits(v)",
        }[s]

    def clear_oneof(self, c: Code, ind: int, msg: Message, f: Field) -> None:
        """Setting a oneof member clears the others."""
        for g in msg["fields"]:
            if f["oneof"] and g["oneof"] == f["oneof"] and g is not f:
                c.add(ind, f"m.{self.n.field_name(g['words'])} = nil")

    def assign(self, c: Code, ind: int, msg: Message, f: Field, expr: str) -> None:
        fn = "m." + self.n.field_name(f["words"])
        if f["label"] == "repeated":
            c.add(ind, f"{fn} = append({fn}, {expr})")
            return
        self.clear_oneof(c, ind, msg, f)
        if self.boxed(f):
            c.add(ind, f"x := {expr}")
            c.add(ind, f"{fn} = &x")
        else:
            c.add(ind, f"{fn} = {expr}")

    def emit_decode(self, c: Code, msg: Message, t: str) -> None:
        name = msg["name"]
        nums = ", ".join(str(f["number"]) for f in fields_by_number(msg))
        c.add(0, f"func known{t}(n uint64) bool {{")
        c.switch("n", [(nums, "true")], "false") if nums else c.add(1, "return false")
        c.close()
        c.add(0, f"func (m *{t}) decode(b []byte, pos, end, depth int) error {{")
        c.add(1, "for pos < end {")
        c.add(2, "start := pos")
        c.add(2, "tag, p, err := rt.ReadTag(b, pos, end)")
        c.on_err(2)
        c.add(2, "pos = p")
        c.add(2, "switch tag {")
        for f in fields_by_number(msg):
            self.decode_case(c, msg, f)
        c.add(2, "default:")
        c.add(3, f'p, err := rt.SkipField(b, start, pos, tag, end, known{t}, "{name}")')
        c.on_err(3)
        c.add(3, "m.unknown = append(m.unknown, b[start:p]...)")
        c.add(3, "pos = p")
        c.add(2, "}")
        c.add(1, "}")
        c.add(1, "return nil")
        c.close()

    def decode_case(self, c: Code, msg: Message, f: Field) -> None:
        number = f["number"]
        kind = f["type"]["kind"]
        where = f"{msg['name']}.{f['name']}"
        fn = "m." + self.n.field_name(f["words"])
        if f["wire_type"] != 2:
            c.add(2, f"case {(number << 3) | f['wire_type']}:")
            self.assign(c, 3, msg, f, self.read_elem(c, 3, f, "end", where))
            if not f["packed"]:
                return
        c.add(2, f"case {(number << 3) | 2}:")
        c.add(3, "s, e, err := rt.ReadLen(b, pos, end)")
        c.on_err(3)
        if f["wire_type"] != 2:  # the packed form
            c.add(3, f"{fn} = rt.GrowPacked({fn}, b[s:e], {_ELEM_SIZE.get(f['wire_type'], 0)})")
            c.add(3, "for pos = s; pos < e; {")
            self.assign(c, 4, msg, f, self.read_elem(c, 4, f, "e", where))
            c.add(3, "}")
            return
        if kind == "message":
            mt = self.n.type_name(self.types.messages[f["type"]["name"]]["words"])
            c.add(3, "if depth >= rt.MaxDepth {")
            c.add(4, "return rt.TooDeep(s)")
            c.add(3, "}")
            if f["label"] == "repeated":
                c.add(3, f"x := new({mt})")
                c.on_err(3, call="x.decode(b, s, e, depth+1)")
                c.add(3, f"{fn} = append({fn}, x)")
            else:
                self.clear_oneof(c, 3, msg, f)
                c.add(3, f"if {fn} == nil {{")
                c.add(4, f"{fn} = new({mt})")
                c.add(3, "}")
                c.on_err(3, call=f"{fn}.decode(b, s, e, depth+1)")
        elif f["type"]["name"] == "string":
            c.add(3, "if !utf8.Valid(b[s:e]) {")
            c.add(4, f'return rt.Errf(rt.ReasonInvalidUTF8, s, "{where}: not UTF-8")')
            c.add(3, "}")
            self.assign(c, 3, msg, f, "string(b[s:e])")
        else:
            self.assign(c, 3, msg, f, "append([]byte{}, b[s:e]...)")
        c.add(3, "pos = e")

    # ---- ProtoJSON ----
    def json_value(self, c: Code, ind: int, f: Field, v: str) -> None:
        t = f["type"]
        if t["kind"] == "enum":
            c.add(ind, f"b = appendJSON{self.elem_type(f)}(b, {v})")
            return
        if t["kind"] == "message":
            c.add(ind, f"b = {v}.appendJSON(b)")
            return
        go = GO_SCALAR[t["name"]]
        if go in ("int64", "uint64"):  # ProtoJSON quotes 64-bit integers
            c.add(ind, "b = append(b, '\"')")
        c.add(ind, _JSON_APPEND[go].format(v=v))
        if go in ("int64", "uint64"):
            c.add(ind, "b = append(b, '\"')")

    def emit_to_json(self, c: Code, msg: Message, t: str) -> None:
        c.add(0, f"func (m *{t}) appendJSON(b []byte) []byte {{")
        c.add(1, "if m == nil {")
        c.add(2, 'return append(b, "{}"...)')
        c.add(1, "}")
        c.add(1, "start := len(b)")
        c.add(1, "b = append(b, '{')")
        for f in msg["fields"]:
            fn = "m." + self.n.field_name(f["words"])
            key = f"b = append(b, {go_string(',' + go_string(f['json_name']) + ':')}...)"
            if f["label"] == "repeated":
                c.add(1, f"if len({fn}) > 0 {{")
                c.add(2, key)
                c.add(2, "b = append(b, '[')")
                c.add(2, f"for i, x := range {fn} {{")
                c.add(3, "if i > 0 {")
                c.add(4, "b = append(b, ',')")
                c.add(3, "}")
                self.json_value(c, 3, f, "x")
                c.add(2, "}")
                c.add(2, "b = append(b, ']')")
                c.add(1, "}")
            else:
                self.when_set(c, f, fn, key, self.json_value)
        c.add(1, "return rt.CloseObject(b, start)")
        c.close()

    def json_read(self, c: Code, ind: int, f: Field, src: str) -> str:
        """Convert JSON value `src` to the element type; returns the expression."""
        t = f["type"]
        if t["kind"] == "enum":
            et = self.elem_type(f)
            c.add(ind, f'x, err := rt.JSONEnum({src}, lookup{et}, "{self.types.enums[t["name"]]["name"]}")')
            c.on_err(ind)
            return f"{et}(x)"
        if t["kind"] == "message":
            mt = self.n.type_name(self.types.messages[t["name"]]["words"])
            c.add(ind, f"x := new({mt})")
            c.on_err(ind, call=f"x.fromJSON({src}, depth+1, ign)")
            return "x"
        fn = _JSON_READ[GO_SCALAR[t["name"]]]
        c.add(ind, f"x, err := rt.{fn}({src})")
        c.on_err(ind)
        return "x"

    def emit_from_json(self, c: Code, msg: Message, t: str) -> None:
        name = msg["name"]
        c.add(0, f"func (m *{t}) fromJSON(v any, depth int, ign bool) error {{")
        c.add(1, "if depth > rt.MaxDepth {")
        c.add(2, "return rt.TooDeep(-1)")
        c.add(1, "}")
        c.add(1, f'obj, err := rt.Object(v, "{name}")')
        c.on_err(1)
        for f in msg["fields"]:
            if f["json_name"] != f["name"]:
                c.add(
                    1,
                    f"if err := rt.Dup(obj, {go_string(f['json_name'])}, {go_string(f['name'])}, "
                    f'"{name}"); err != nil {{',
                )
                c.add(2, "return err")
                c.add(1, "}")
        c.add(1, "for key, val := range obj {" if msg["fields"] else "for key := range obj {")
        c.add(2, "switch key {")
        for f in msg["fields"]:
            keys = [f["json_name"]] + ([f["name"]] if f["name"] != f["json_name"] else [])
            c.add(2, f"case {', '.join(go_string(k) for k in keys)}:")
            c.add(3, "if val == nil {")
            c.add(4, "break")
            c.add(3, "}")
            if f["oneof"]:
                o = next(o for o in msg["oneofs"] if o["name"] == f["oneof"])
                c.add(3, f"if m.{self.n.which(o['words'])}() != 0 {{")
                c.add(4, f'return rt.JSONError("{name}: more than one member of oneof {o["name"]}")')
                c.add(3, "}")
            fn = "m." + self.n.field_name(f["words"])
            if f["label"] == "repeated":
                c.add(3, f'arr, err := rt.Array(val, "{name}.{f["name"]}")')
                c.on_err(3)
                c.add(3, "for _, el := range arr {")
                expr = self.json_read(c, 4, f, "el")
                c.add(4, f"{fn} = append({fn}, {expr})")
                c.add(3, "}")
            else:
                expr = self.json_read(c, 3, f, "val")
                if self.boxed(f):
                    c.add(3, f"{fn} = &{expr}" if expr == "x" else f"y := {expr}")
                    if expr != "x":
                        c.add(3, f"{fn} = &y")
                else:
                    c.add(3, f"{fn} = {expr}")
        c.add(2, "default:")
        c.add(3, "if !ign {")
        c.add(4, f'return rt.JSONError("{name}: unknown field %q", key)')
        c.add(3, "}")
        c.add(2, "}")
        c.add(1, "}")
        c.add(1, "return nil")
        c.close()
