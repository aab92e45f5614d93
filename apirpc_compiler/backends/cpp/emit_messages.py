"""Enums and DTO messages: `enums.h/.cc` and `messages.h/.cc`.

Messages are plain structs (value semantics, defaulted ==). Implicit scalars hold their zero
value, `optional` fields and oneof members are std::optional, message fields std::optional
(messages are emitted dependencies first) or, where the field closes a reference cycle (a
recursive message), the runtime's heap-owning `Box` with the same interface; repeated fields
std::vector. The codec is straight
C++ over the runtime's `pb::In` reader: one switch on the tag per message, unknown fields kept
as raw bytes and re-emitted after the known ones. The encoder computes the exact size first
(`wire_size`), grows the output once and writes through a raw pointer (`write`), as protobuf's
own C++ serializer does; no per-byte capacity checks and no length patching.
"""

from __future__ import annotations

from ...ir.model import IR, Field, Message, TypeRef
from ..common import encode_tag, fields_by_number, message_components, proto_varint, type_index
from .namer import CppNamer
from .text import cstr, doc

SCALAR_TYPES = {
    "bool": "bool",
    "int32": "std::int32_t",
    "sint32": "std::int32_t",
    "sfixed32": "std::int32_t",
    "uint32": "std::uint32_t",
    "fixed32": "std::uint32_t",
    "int64": "std::int64_t",
    "sint64": "std::int64_t",
    "sfixed64": "std::int64_t",
    "uint64": "std::uint64_t",
    "fixed64": "std::uint64_t",
    "float": "float",
    "double": "double",
    "string": "std::string",
    "bytes": "ByteVec",
}
# A non-LEN element is read by its protobuf wire type (the IR's resolved `wire_type`: 0 varint,
# 5 i32, 1 i64) into a raw unsigned `v` or `u`, then converted to the field's C++ value.
_READ_RAW = {
    0: ("std::uint64_t v = 0;", "if (!pb::read_varint(in, v) || !pb::check_end(in, end)) return false;"),
    5: ("std::uint32_t u = 0;", "if (!pb::read_fixed32(in, end, u)) return false;"),
    1: ("std::uint64_t u = 0;", "if (!pb::read_fixed64(in, end, u)) return false;"),
}
_FROM_RAW = {
    "bool": "v != 0",
    "int32": "pb::to_int32(v)",
    "int64": "pb::to_int64(v)",
    "uint32": "static_cast<std::uint32_t>(v)",
    "uint64": "v",
    "sint32": "pb::unzigzag32(v)",
    "sint64": "pb::unzigzag64(v)",
    "fixed32": "u",
    "sfixed32": "static_cast<std::int32_t>(u)",
    "float": "pb::float_of(u)",
    "fixed64": "u",
    "sfixed64": "static_cast<std::int64_t>(u)",
    "double": "pb::double_of(u)",
}
# Per scalar (and "enum"): the encoded size of a value {v}, tag excluded, and the statement
# writing it at `p`.
_VALUE_CODEC = {
    "bool": ("1", "p = pb::put_varint(p, {v} ? 1u : 0u);"),
    "int32": ("pb::int_size({v})", "p = pb::put_int(p, {v});"),
    "int64": ("pb::int_size({v})", "p = pb::put_int(p, {v});"),
    "uint32": ("pb::varint_size({v})", "p = pb::put_varint(p, {v});"),
    "uint64": ("pb::varint_size({v})", "p = pb::put_varint(p, {v});"),
    "sint32": ("pb::varint_size(pb::zigzag32({v}))", "p = pb::put_varint(p, pb::zigzag32({v}));"),
    "sint64": ("pb::varint_size(pb::zigzag64({v}))", "p = pb::put_varint(p, pb::zigzag64({v}));"),
    "fixed32": ("4", "p = pb::put_fixed32(p, {v});"),
    "sfixed32": ("4", "p = pb::put_fixed32(p, static_cast<std::uint32_t>({v}));"),
    "float": ("4", "p = pb::put_float(p, {v});"),
    "fixed64": ("8", "p = pb::put_fixed64(p, {v});"),
    "sfixed64": ("8", "p = pb::put_fixed64(p, static_cast<std::uint64_t>({v}));"),
    "double": ("8", "p = pb::put_double(p, {v});"),
    "string": ("pb::len_size({v}.size())", "p = pb::put_string(p, {v});"),
    "bytes": ("pb::len_size({v}.size())", "p = pb::put_bytes(p, {v});"),
    "enum": ("pb::int_size(static_cast<std::int32_t>({v}))", "p = pb::put_int(p, static_cast<std::int32_t>({v}));"),
}
_JSON_READ = {
    "bool": "pj::to_bool",
    "int32": "pj::to_i32",
    "sint32": "pj::to_i32",
    "sfixed32": "pj::to_i32",
    "uint32": "pj::to_u32",
    "fixed32": "pj::to_u32",
    "int64": "pj::to_i64",
    "sint64": "pj::to_i64",
    "sfixed64": "pj::to_i64",
    "uint64": "pj::to_u64",
    "fixed64": "pj::to_u64",
    "float": "pj::to_float",
    "double": "pj::to_double",
    "string": "pj::to_string",
    "bytes": "pj::to_bytes",
}


_JSON_WRITE = {
    **dict.fromkeys(("int32", "sint32", "sfixed32"), "Json::number_i64({v})"),
    **dict.fromkeys(("uint32", "fixed32"), "Json::number_u64({v})"),
    **dict.fromkeys(("int64", "sint64", "sfixed64", "uint64", "fixed64"), "Json::string(std::to_string({v}))"),
    "bool": "Json::boolean({v})",
    "float": "pj::from_float({v})",
    "double": "pj::from_double({v})",
    "string": "Json::string({v})",
    "bytes": "pj::from_bytes({v})",
}


def _tag_bytes(tag: int) -> list[str]:
    """Statements storing the tag's varint bytes at `p` (one per byte: the encoder sized the buffer)."""
    return [f"*p++ = std::byte{{0x{b:02x}}};" for b in proto_varint(tag)]


def message_order(ir: IR) -> list[Message]:
    """Messages with every dependency outside their own reference cycle first (C++ needs
    complete types for those); within a cycle, IR order (see `boxed_fields`)."""
    comp = message_components(ir)
    pos = {m["name"]: i for i, m in enumerate(ir["messages"])}
    return sorted(ir["messages"], key=lambda m: (comp[m["name"]], pos[m["name"]]))


def boxed_fields(ir: IR) -> set[tuple[str, str]]:
    """(message, field) of the singular message fields that close a reference cycle: their type
    may still be incomplete where they are declared, so they are stored in a `Box` rather than
    std::optional. Repeated fields need nothing: std::vector allows an incomplete element type."""
    comp = message_components(ir)
    return {
        (m["name"], f["name"])
        for m in ir["messages"]
        for f in m["fields"]
        if f["type"]["kind"] == "message" and f["label"] != "repeated" and comp[f["type"]["name"]] == comp[m["name"]]
    }


class MessageEmitter:
    def __init__(self, ir: IR, n: CppNamer) -> None:
        self.ir = ir
        self.n = n
        self.types = type_index(ir)
        self.boxed = boxed_fields(ir)

    # ---- types ----

    def elem_type(self, f: Field) -> str:
        t = f["type"]
        if t["kind"] == "scalar":
            return SCALAR_TYPES[t["name"]]
        return self.n.type_name(self.types.words(t["name"]))

    def member_type(self, m: Message, f: Field) -> str:
        t = self.elem_type(f)
        if f["label"] == "repeated":
            return f"std::vector<{t}>"
        if (m["name"], f["name"]) in self.boxed:
            return f"Box<{t}>"
        if f["label"] == "optional" or f["type"]["kind"] == "message":
            return f"std::optional<{t}>"
        return t

    def default_literal(self, f: Field) -> str:
        d = f["default"]
        t = f["type"]
        if t["kind"] == "enum":
            e = self.types.enums[t["name"]]
            for v in e["values"]:
                if v["name"] == d:
                    return f"{self.elem_type(f)}::{self.n.const(v['words'])}"
            raise KeyError(d)
        s = t["name"]
        if s == "bool":
            return "true" if d else "false"
        if s == "string":
            return cstr(str(d))
        if s == "float":
            return f"{float(d)!r}f"  # type: ignore[arg-type]
        if s == "double":
            return f"{float(d)!r}"  # type: ignore[arg-type]
        if s.startswith("u") or s.startswith("fixed"):
            return f"{d}u"
        return f"{self.elem_type(f)}{{{d}}}"

    # ---- enums ----

    def enums_header(self) -> list[str]:
        out: list[str] = []
        for e in self.ir["enums"]:
            name = self.n.type_name(e["words"])
            out += doc(e["doc"])
            out.append("///")
            out.append("/// Open: any int32 is a valid value, so unknown numbers survive a round trip.")
            out.append(f"enum class {name} : std::int32_t {{")
            for v in e["values"]:
                out += doc(v["doc"], "  ")
                out.append(f"  {self.n.const(v['words'])} = {v['number']},")
            out.append("};")
            out.append("")
            out.append(f'/// The ProtoJSON name of a {name} value ("" for a number this version does not know).')
            out.append(f"std::string_view json_name({name} v) noexcept;")
            out.append(f"/// The {name} value named `name` (ProtoJSON name); false if there is none.")
            out.append(f"bool from_json_name(std::string_view name, {name}& out) noexcept;")
            out.append(f"/// True for the values this version of {name} defines.")
            out.append(f"bool is_known({name} v) noexcept;")
            for a in e["attributes"]:
                ctype = SCALAR_TYPES[a["type"]]
                fn = self.n.func(a["words"])
                out += doc(a["doc"])
                out.append("/// nullopt for a value this version does not know.")
                out.append(f"std::optional<{ctype}> {fn}({name} v) noexcept;")
            if e["transitions"] is not None:
                out.append(f"/// True if the {name} state machine allows `from` -> `to`.")
                out.append(f"bool can_transition({name} from, {name} to) noexcept;")
                out.append(f"/// True for the terminal states of {name}.")
                out.append(f"bool is_terminal({name} v) noexcept;")
                out.append(f"/// True for the states a {name} may start in.")
                out.append(f"bool is_initial({name} v) noexcept;")
            out.append("")
        return out

    def enums_source(self) -> list[str]:
        out: list[str] = []
        for e in self.ir["enums"]:
            name = self.n.type_name(e["words"])
            consts = {v["name"]: f"{name}::{self.n.const(v['words'])}" for v in e["values"]}
            out.append(f"std::string_view json_name({name} v) noexcept {{")
            out.append("  switch (v) {")
            for v in e["values"]:
                out.append(f"    case {consts[v['name']]}:")
                out.append(f"      return {cstr(v['json_name'])};")
            out.append("  }")
            out.append('  return "";')
            out.append("}")
            out.append("")
            out.append(f"bool from_json_name(std::string_view name, {name}& out) noexcept {{")
            for v in e["values"]:
                out.append(f"  if (name == {cstr(v['json_name'])}) {{")
                out.append(f"    out = {consts[v['name']]};")
                out.append("    return true;")
                out.append("  }")
            out.append("  return false;")
            out.append("}")
            out.append("")
            out.append(f"bool is_known({name} v) noexcept {{ return !json_name(v).empty(); }}")
            out.append("")
            for a in e["attributes"]:
                ctype = SCALAR_TYPES[a["type"]]
                out.append(f"std::optional<{ctype}> {self.n.func(a['words'])}({name} v) noexcept {{")
                out.append("  switch (v) {")
                for v in e["values"]:
                    val = v["attributes"][a["name"]]
                    lit = (
                        ("true" if val else "false")
                        if isinstance(val, bool)
                        else (cstr(val) if isinstance(val, str) else f"{val}")
                    )
                    out.append(f"    case {consts[v['name']]}:")
                    out.append(f"      return {ctype}{{{lit}}};")
                out.append("  }")
                out.append("  return std::nullopt;")
                out.append("}")
                out.append("")
            tr = e["transitions"]
            if tr is not None:
                out.append(f"bool can_transition({name} from, {name} to) noexcept {{")
                out.append("  switch (from) {")
                for state, targets in tr["edges"].items():
                    if not targets:
                        continue
                    out.append(f"    case {consts[state]}:")
                    cond = " || ".join(f"to == {consts[t]}" for t in targets)
                    out.append(f"      return {cond};")
                out.append("    default:")
                out.append("      return false;")
                out.append("  }")
                out.append("}")
                out.append("")
                for fn, states in (("is_terminal", tr["terminal"]), ("is_initial", tr["initial"])):
                    cond = " || ".join(f"v == {consts[s]}" for s in states) or "false"
                    out.append(f"bool {fn}({name} v) noexcept {{ return {cond}; }}")
                    out.append("")
        return out

    # ---- messages: header ----

    def messages_header(self) -> list[str]:
        # Every struct is declared first, so a message may refer to one defined after it (a
        # reference cycle: see boxed_fields).
        out: list[str] = [f"struct {self.n.type_name(m['words'])};" for m in self.ir["messages"]]
        if out:
            out.append("")
        for m in message_order(self.ir):
            out += self._struct_decl(m)
        return out

    def _struct_decl(self, m: Message) -> list[str]:
        name = self.n.type_name(m["words"])
        out = doc(m["doc"])
        out.append(f"struct {name} {{")
        out.append(f"  static constexpr std::string_view kName = {cstr(m['name'])};")
        out.append("")
        for f in m["fields"]:
            out += doc(f["doc"], "  ")
            if f["deprecated"]:
                out.append("  /// @deprecated")
            init = "{}" if f["label"] == "implicit" and f["type"]["kind"] != "message" else ""
            out.append(f"  {self.member_type(m, f)} {self.n.field(f['words'])}{init};")
        out.append("  /// Fields this version does not know, as received (tag and value bytes, in order).")
        out.append("  ByteVec unknown_fields;")
        out.append("")
        for f in m["fields"]:
            if f["default"] is not None:
                fld = self.n.field(f["words"])
                out.append(f"  /// `{fld}`, or its IDL default when absent.")
                out.append(
                    f"  {self.elem_type(f)} {self.n.or_default(f['words'])}() const {{ return {fld} ? *{fld} : {self.default_literal(f)}; }}"  # noqa: E501
                )
        for o in m["oneofs"]:
            case = self.n.oneof_case(o["words"])
            members = [f for f in m["fields"] if f["oneof"] == o["name"]]
            out += doc(o["doc"], "  ")
            out.append(f"  enum class {case} : std::uint8_t {{")
            out.append("    kNotSet = 0,")
            for f in members:
                out.append(f"    {self.n.const(f['words'])} = {f['number']},")
            out.append("  };")
            out.append(f"  /// Which member of oneof `{o['name']}` is set (the decoder keeps only the last one).")
            out.append(f"  {case} {self.n.which(o['words'])}() const noexcept {{")
            for f in members:
                out.append(f"    if ({self.n.field(f['words'])}) return {case}::{self.n.const(f['words'])};")
            out.append(f"    return {case}::kNotSet;")
            out.append("  }")
        out.append("  /// The canonical protobuf binary encoding.")
        out.append("  ByteVec encode() const;")
        out.append("  /// Appends the canonical encoding to `out`.")
        out.append("  void encode_to(ByteVec& out) const;")
        out.append("  /// The length of the canonical encoding in bytes.")
        out.append("  std::size_t encoded_size() const;")
        out.append("  /// Decodes protobuf binary; the error names the reason for bad input.")
        out.append(f"  static Result<{name}> decode(Bytes data);")
        out.append("  /// This message as a ProtoJSON object (fields at their default are left out).")
        out.append("  Json to_json() const;")
        out.append("  /// This message as compact ProtoJSON text.")
        out.append("  std::string to_json_text() const;")
        out.append("  /// Reads a parsed ProtoJSON object (kInvalidJson if it does not match).")
        out.append(f"  static Result<{name}> from_json(const Json& value, bool ignore_unknown_fields = false);")
        out.append("  /// Parses ProtoJSON text (kInvalidJson if malformed or not matching).")
        out.append(
            f"  static Result<{name}> from_json_text(std::string_view text, bool ignore_unknown_fields = false);"
        )
        out.append("")
        out.append(f"  friend bool operator==(const {name}&, const {name}&) = default;")
        out.append("};")
        out.append("")
        return out

    # ---- messages: source ----

    def messages_source(self) -> list[str]:
        order = message_order(self.ir)
        out: list[str] = ["namespace {", ""]
        for m in order:
            name = self.n.type_name(m["words"])
            out.append(f"bool decode_into(pb::In& in, std::size_t end, int depth, {name}& m);")
            out.append(f"std::size_t wire_size(const {name}& m);")
            out.append(f"std::byte* write(const {name}& m, std::byte* p);")
            out.append(f"bool from_json_into(const Json& j, int depth, bool ign, {name}& m, Status& err);")
        out.append("")
        out.append("template <class E>")
        out.append("Json enum_json(E v) {")
        out.append("  std::string_view s = json_name(v);")
        out.append("  if (s.empty()) return Json::number_i64(static_cast<std::int32_t>(v));")
        out.append("  return Json::string(std::string(s));")
        out.append("}")
        out.append("")
        out.append("template <class E>")
        out.append("bool enum_from_json(const Json& v, E& out, const char* what, Status& err) {")
        out.append("  E named{};")
        out.append("  const bool ok = v.is_string() && from_json_name(v.text(), named);")
        out.append("  std::int32_t n = static_cast<std::int32_t>(named);")
        out.append("  if (!pj::to_enum(v, ok, n, what, err)) return false;")
        out.append("  out = static_cast<E>(n);")
        out.append("  return true;")
        out.append("}")
        out.append("")
        for m in order:
            out += self._size_and_write(m)
            out += self._decode(m)
            out += self._from_json(m)
        out.append("}  // namespace")
        out.append("")
        for m in order:
            out += self._methods(m)
        return out

    def _read_value(self, f: Field, target: str) -> list[str]:
        """Statements reading one element of `f` (its tag consumed) and storing it via `target`
        (a format string taking the value expression)."""
        t = f["type"]
        if t["kind"] == "message":
            raise AssertionError
        if f["wire_type"] in _READ_RAW:
            conv = f"static_cast<{self.elem_type(f)}>(pb::to_int32(v))" if t["kind"] == "enum" else _FROM_RAW[t["name"]]
            return [*_READ_RAW[f["wire_type"]], target.format(conv) + ";"]
        if t["name"] == "string":
            # Read straight into the field (no temporary): on failure the message is dropped.
            fld = "m." + self.n.field(f["words"])
            dest = {"repeated": f"{fld}.emplace_back()", "optional": f"{fld}.emplace()"}.get(f["label"], fld)
            return [f"if (!pb::read_string(in, end, {dest})) return false;"]
        return [
            "std::size_t e = 0;",
            "if (!pb::read_len(in, end, e)) return false;",
            target.format(
                "ByteVec(reinterpret_cast<const std::byte*>(in.buf + in.pos), reinterpret_cast<const std::byte*>(in.buf + e))"  # noqa: E501
            )
            + ";",
            "in.pos = e;",
        ]

    def _decode(self, m: Message) -> list[str]:
        name = self.n.type_name(m["words"])
        out = [f"bool decode_into(pb::In& in, std::size_t end, int depth, {name}& m) {{"]
        out.append("  (void)depth;")
        out.append("  while (in.pos < end) {")
        out.append("    const std::size_t start = in.pos;")
        out.append("    std::uint32_t tag = 0;")
        out.append("    if (!pb::read_tag(in, tag) || !pb::check_end(in, end)) return false;")
        out.append("    switch (tag) {")
        known = sorted(f["number"] for f in m["fields"])
        for f in fields_by_number(m):
            fld = "m." + self.n.field(f["words"])
            others = [
                self.n.field(o["words"]) for o in m["fields"] if f["oneof"] and o["oneof"] == f["oneof"] and o is not f
            ]
            clear = "".join(f" m.{o}.reset();" for o in others)
            if f["type"]["kind"] == "message":
                out.append(f"      case {(f['number'] << 3) | 2}: {{")
                out.append("        std::size_t e = 0;")
                out.append("        if (!pb::read_len(in, end, e)) return false;")
                out.append(
                    '        if (depth >= pb::kMaxDepth) return in.fail(Reason::kTooDeep, "messages nested too deeply", in.pos);'  # noqa: E501
                )
                if f["label"] == "repeated":
                    out.append(f"        auto& x = {fld}.emplace_back();")
                else:
                    out.append(f"        if (!{fld}) {fld}.emplace();")
                    out.append(f"        auto& x = *{fld};")
                out.append("        if (!decode_into(in, e, depth + 1, x)) return false;")
                if clear:
                    out.append(f"       {clear}")
                out.append("        break;")
                out.append("      }")
                continue
            target = fld + ".push_back({})" if f["label"] == "repeated" else fld + " = {}"
            out.append(f"      case {(f['number'] << 3) | f['wire_type']}: {{")
            out += ["        " + s for s in self._read_value(f, target)]
            if clear:
                out.append(f"       {clear}")
            out.append("        break;")
            out.append("      }")
            if f["packed"]:
                out.append(f"      case {(f['number'] << 3) | 2}: {{")
                out.append("        std::size_t pe = 0;")
                out.append("        if (!pb::read_len(in, end, pe)) return false;")
                elem_size = self._value_codec(f, "x")[0]
                count = f"(pe - in.pos) / {elem_size}" if elem_size.isdigit() else "pb::count_varints(in, pe)"
                out.append(f"        {fld}.reserve({fld}.size() + {count});")
                out.append("        while (in.pos < pe) {")
                inner = self._read_value(f, target)
                inner = [s.replace("in, end", "in, pe") for s in inner]
                out += ["          " + s for s in inner]
                out.append("        }")
                out.append(
                    '        if (in.pos != pe) return in.fail(Reason::kTruncated, "a packed value runs past its length", pe);'  # noqa: E501
                )
                out.append("        break;")
                out.append("      }")
        out.append("      default: {")
        if known:
            cond = " || ".join(f"number == {k}" for k in known)
            out.append("        const std::uint32_t number = tag >> 3;")
            out.append(f"        const bool known = {cond};")
        else:
            out.append("        const bool known = false;")
        out.append(f"        if (!pb::skip_field(in, start, tag, end, known, {cstr(m['name'])})) return false;")
        out.append(
            "        m.unknown_fields.insert(m.unknown_fields.end(), reinterpret_cast<const std::byte*>(in.buf + start), reinterpret_cast<const std::byte*>(in.buf + in.pos));"  # noqa: E501
        )
        out.append("        break;")
        out.append("      }")
        out.append("    }")
        out.append("  }")
        out.append("  return true;")
        out.append("}")
        out.append("")
        return out

    def _json_read_elem(self, f: Field, src: str, dst: str) -> list[str]:
        t = f["type"]
        if t["kind"] == "message":
            return [f"if (!from_json_into({src}, depth + 1, ign, {dst}, err)) return false;"]
        if t["kind"] == "enum":
            return [f"if (!enum_from_json({src}, {dst}, {cstr(t['name'])}, err)) return false;"]
        return [f"if (!{_JSON_READ[t['name']]}({src}, {dst}, err)) return false;"]

    def _from_json(self, m: Message) -> list[str]:
        name = self.n.type_name(m["words"])
        out = [f"bool from_json_into(const Json& j, int depth, bool ign, {name}& m, Status& err) {{"]
        out.append("  if (depth > pb::kMaxDepth) {")
        out.append('    err = decode_error(Reason::kTooDeep, "JSON nested too deeply");')
        out.append("    return false;")
        out.append("  }")
        out.append(f'  if (!j.is_object()) return pj::fail(err, "{m["name"]}: expected an object");')
        dual = [f for f in m["fields"] if f["json_name"] != f["name"]]
        for i, _ in enumerate(dual):
            out.append(f"  bool seen{i} = false;")
        if not m["fields"]:
            out.append("  (void)m;")
        out.append("  for (const auto& [key, v] : j.members()) {")
        first = True
        for f in m["fields"]:
            fld = "m." + self.n.field(f["words"])
            names = [f["json_name"]] + ([f["name"]] if f["json_name"] != f["name"] else [])
            cond = " || ".join(f"key == {cstr(x)}" for x in names)
            out.append(f"    {'if' if first else '} else if'} ({cond}) {{")
            first = False
            if f in dual:
                i = dual.index(f)
                out.append(f'      if (seen{i}) return pj::fail(err, "{m["name"]}: field {f["name"]} given twice");')
                out.append(f"      seen{i} = true;")
            out.append("      if (!v.is_null()) {")
            if f["oneof"]:
                w = self.n.which(next(o for o in m["oneofs"] if o["name"] == f["oneof"])["words"])
                out.append(
                    f'        if (m.{w}() != decltype(m.{w}())::kNotSet) return pj::fail(err, "{m["name"]}: more than one member of oneof {f["oneof"]}");'  # noqa: E501
                )
            if f["label"] == "repeated":
                out.append(
                    f'        if (!v.is_array()) return pj::fail(err, "{m["name"]}.{f["json_name"]}: expected an array");'  # noqa: E501
                )
                out.append(f"        {fld}.clear();")
                out.append("        for (const Json& x : v.items()) {")
                out.append(f"          auto& y = {fld}.emplace_back();")
                out += ["          " + s for s in self._json_read_elem(f, "x", "y")]
                out.append("        }")
            elif f["label"] == "optional" or f["type"]["kind"] == "message":
                out.append(f"        auto& y = {fld}.emplace();")
                out += ["        " + s for s in self._json_read_elem(f, "v", "y")]
            else:
                out += ["        " + s for s in self._json_read_elem(f, "v", fld)]
            out.append("      }")
        if first:
            out.append(f'    if (!ign) return pj::fail(err, "{m["name"]}: unknown field " + key);')
            out.append("    (void)v;")
        else:
            out.append("    } else if (!ign) {")
            out.append(f'      return pj::fail(err, "{m["name"]}: unknown field " + key);')
            out.append("    }")
        out.append("  }")
        out.append("  return true;")
        out.append("}")
        out.append("")
        return out

    def _encoded_fields(self, m: Message) -> list[tuple[str, str, Field]]:
        """Per field in number order: the line opening the block that runs when the field is to
        be encoded (closed by one `}`), and the expression of its value (an element inside a loop)."""
        out: list[tuple[str, str, Field]] = []
        for f in fields_by_number(m):
            fld = "m." + self.n.field(f["words"])
            t = f["type"]
            if f["label"] == "repeated":
                if f["packed"]:
                    out.append((f"if (!{fld}.empty()) {{", fld, f))
                else:
                    out.append((f"for (const auto& x : {fld}) {{", "x", f))
            elif t["kind"] == "message" or f["label"] == "optional":
                out.append((f"if ({fld}) {{", f"*{fld}", f))
            else:
                cond = _implicit_present(fld, t)
                out.append((f"if ({cond}) {{", fld, f))
        return out

    def _value_codec(self, f: Field, v: str) -> tuple[str, str]:
        """The size expression and the write statement of value `v` of field `f`."""
        t = f["type"]
        size, put = _VALUE_CODEC[t["name"] if t["kind"] == "scalar" else "enum"]
        member = f"({v})." if v.startswith("*") else f"{v}."
        return size.replace("{v}.", member).format(v=v), put.format(v=v)

    def _packed_payload(self, f: Field, fld: str) -> list[str]:
        """Lines setting `k` to the byte length of packed field `fld`'s elements."""
        size = self._value_codec(f, "x")[0]
        if size.isdigit():
            return [f"const std::size_t k = {size} * {fld}.size();"]
        return ["std::size_t k = 0;", f"for (const auto& x : {fld}) k += {size};"]

    def _size_and_write(self, m: Message) -> list[str]:
        """`wire_size` (the exact encoded length) and `write` (stores the encoding at `p`, which
        has wire_size bytes of room, and returns the end). A nested message's size is computed
        again where its length prefix is written, so a message at depth d is sized d+1 times:
        cheap for DTOs, and it keeps the structs free of a cached-size member."""
        name = self.n.type_name(m["words"])
        size = [f"std::size_t wire_size(const {name}& m) {{", "  std::size_t n = m.unknown_fields.size();"]
        write = [f"std::byte* write(const {name}& m, std::byte* p) {{"]
        for opening, v, f in self._encoded_fields(m):
            tag_len = len(proto_varint(encode_tag(f)))
            tag = _tag_bytes(encode_tag(f))
            size.append("  " + opening)
            write.append("  " + opening)
            if f["type"]["kind"] == "message":
                size.append(f"    n += {tag_len} + pb::len_size(wire_size({v}));")
                write += ["    " + s for s in tag]
                write.append(f"    p = pb::put_varint(p, wire_size({v}));")
                write.append(f"    p = write({v}, p);")
            elif f["label"] == "repeated" and f["packed"]:
                size += ["    " + s for s in self._packed_payload(f, v)]
                size.append(f"    n += {tag_len} + pb::len_size(k);")
                write += ["    " + s for s in tag]
                write += ["    " + s for s in self._packed_payload(f, v)]
                write.append("    p = pb::put_varint(p, k);")
                write.append(f"    for (const auto& x : {v}) {{")
                write.append("      " + self._value_codec(f, "x")[1])
                write.append("    }")
            else:
                elem_size, put = self._value_codec(f, v)
                size.append(f"    n += {tag_len} + {elem_size};")
                write += ["    " + s for s in tag]
                write.append("    " + put)
            size.append("  }")
            write.append("  }")
        size += ["  return n;", "}", ""]
        write += ["  return pb::put_raw(p, m.unknown_fields);", "}", ""]
        return size + write

    def _methods(self, m: Message) -> list[str]:
        name = self.n.type_name(m["words"])
        out = [f"std::size_t {name}::encoded_size() const {{ return wire_size(*this); }}", ""]
        out.append(f"void {name}::encode_to(ByteVec& out) const {{")
        out.append("  const std::size_t n = wire_size(*this);")
        out.append("  std::byte* const p = pb::extend(out, n);")
        out.append("  [[maybe_unused]] std::byte* const e = write(*this, p);")
        out.append("  assert(e == p + n);")
        out.append("}")
        out.append("")
        out.append(f"ByteVec {name}::encode() const {{")
        out.append("  ByteVec out;")
        out.append("  encode_to(out);")
        out.append("  return out;")
        out.append("}")
        out.append("")
        out.append(f"Result<{name}> {name}::decode(Bytes data) {{")
        # One returned object, so it is constructed in the caller's slot (NRVO) and never moved.
        out.append(f"  Result<{name}> r{{std::in_place}};")
        out.append("  if (data.size() > pb::kMaxMessageSize) {")
        out.append(f'    r = decode_error(Reason::kTooLarge, "{m["name"]}: message too large");')
        out.append("  } else {")
        out.append("    pb::In in{reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), 0, {}};")
        out.append("    if (!decode_into(in, data.size(), 0, *r)) r = in.err;")
        out.append("  }")
        out.append("  return r;")
        out.append("}")
        out.append("")
        out.append(f"Json {name}::to_json() const {{")
        out.append("  Json j = Json::object();")
        for f in m["fields"]:
            fld = self.n.field(f["words"])
            key = cstr(f["json_name"])
            t = f["type"]

            def val(x: str, f: Field = f) -> str:
                tt = f["type"]
                if tt["kind"] == "message":
                    return f"{x}.to_json()"
                if tt["kind"] == "enum":
                    return f"enum_json({x})"
                return _JSON_WRITE[tt["name"]].format(v=x)

            if f["label"] == "repeated":
                out.append(f"  if (!{fld}.empty()) {{")
                out.append("    Json a = Json::array();")
                out.append(f"    for (const auto& x : {fld}) a.push({val('x')});")
                out.append(f"    j.set({key}, std::move(a));")
                out.append("  }")
            elif f["label"] == "optional" or t["kind"] == "message":
                out.append(f"  if ({fld}) j.set({key}, {val('(*' + fld + ')')});")
            else:
                cond = _implicit_present(fld, t)
                out.append(f"  if ({cond}) j.set({key}, {val(fld)});")
        out.append("  return j;")
        out.append("}")
        out.append("")
        out.append(f"std::string {name}::to_json_text() const {{ return to_json().dump(); }}")
        out.append("")
        out.append(f"Result<{name}> {name}::from_json(const Json& value, bool ignore_unknown_fields) {{")
        out.append(f"  {name} m;")
        out.append("  Status err;")
        out.append("  if (!from_json_into(value, 0, ignore_unknown_fields, m, err)) return err;")
        out.append("  return m;")
        out.append("}")
        out.append("")
        out.append(f"Result<{name}> {name}::from_json_text(std::string_view text, bool ignore_unknown_fields) {{")
        out.append("  auto j = parse_json(text);")
        out.append("  if (!j) return j.error();")
        out.append("  return from_json(*j, ignore_unknown_fields);")
        out.append("}")
        out.append("")
        return out


def _implicit_present(fld: str, t: TypeRef) -> str:
    """The C++ test that a proto3 implicit-presence field differs from its default (and so is written):
    -0.0 counts as set, as protobuf does."""
    s = t["name"] if t["kind"] == "scalar" else "enum"
    if s in ("float", "double"):
        return f"{fld} != 0 || std::signbit({fld})"
    if s in ("string", "bytes"):
        return f"!{fld}.empty()"
    if s == "enum":
        return f"static_cast<std::int32_t>({fld}) != 0"
    if s == "bool":
        return fld
    return f"{fld} != 0"
