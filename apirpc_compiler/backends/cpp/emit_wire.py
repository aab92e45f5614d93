"""Wire protocols (the IR's `wire` list): one header and one source per protocol.

Every struct becomes a view struct: `bytes` fields are `Bytes` and `string` fields
`std::string_view` pointing into the decoded input (zero copy), conditional fields are
std::optional, lists std::vector. Decoders are straight C++ over `quic::Reader` (bounded
reads, errors in the order the vectors README gives); encoders check every constraint and
return an encode error. Each stream grammar gets an incremental parser that buffers only
the bytes of an unfinished item.
"""

from __future__ import annotations

from ...ir.model import WireCond, WireField, WireProtocol, WireStream, WireStruct, WireType
from .cpptext import cstr, doc, u64
from .namer import CppNamer

_INT_SIZE = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}
_INT_MAX = {"varint": (1 << 62) - 1, "u8": 0xFF, "u16": 0xFFFF, "u32": 0xFFFFFFFF, "u64": (1 << 64) - 1}


class WireGenError(ValueError):
    pass


class _Code:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.n = 0

    def add(self, ind: int, line: str) -> None:
        self.lines.append("  " * ind + line)

    def fresh(self, p: str) -> str:
        self.n += 1
        return f"{p}{self.n}"


class ProtocolEmitter:
    def __init__(self, p: WireProtocol, n: CppNamer) -> None:
        self.p = p
        self.n = n
        self.ns = n.namespace(p["words"])
        self.structs = {s["name"]: s for s in p["structs"]}
        self.codes = {c["name"]: c for c in p["codes"]}

    # ---- names and types ----
    def tn(self, struct: str) -> str:
        return self.n.type_name(self.structs[struct]["words"])

    def code_type(self, name: str) -> str:
        return self.n.type_name(self.codes[name]["words"])

    def ctype(self, t: WireType) -> str:
        k = t["type"]
        if k in _INT_MAX:
            return "std::uint64_t"
        if k == "bytes":
            return "Bytes"
        if k == "string":
            return "std::string_view"
        if k == "struct":
            return self.tn(str(t["struct"]))
        assert t["element"] is not None
        return f"std::vector<{self.ctype(t['element'])}>"

    def field_type(self, f: WireField) -> str:
        t = self.ctype(f["type"])
        return f"std::optional<{t}>" if f["when"] is not None else t

    def order(self) -> list[WireStruct]:
        done: set[str] = set()
        out: list[WireStruct] = []

        def deps(t: WireType) -> list[str]:
            if t["type"] == "struct":
                return [str(t["struct"])]
            if t["element"] is not None:
                return deps(t["element"])
            return []

        def visit(s: WireStruct, stack: tuple[str, ...]) -> None:
            if s["name"] in done:
                return
            if s["name"] in stack:
                raise WireGenError(f"wire struct {s['name']} is recursive")
            for f in s["fields"]:
                for d in deps(f["type"]):
                    visit(self.structs[d], (*stack, s["name"]))
            done.add(s["name"])
            out.append(s)

        for s in self.p["structs"]:
            visit(s, ())
        return out

    def min_size(self, t: WireType) -> int:
        k = t["type"]
        if k == "varint":
            return 1
        if k in _INT_SIZE:
            return _INT_SIZE[k]
        if k in ("bytes", "string", "list"):
            ln = t["frame"] or t["length"]
            if ln is not None and ln["kind"] == "varint":
                return 1
            if k != "list" and ln is not None and ln["kind"] == "fixed":
                return int(ln["size"] or 0)
            return 0
        s = self.structs[str(t["struct"])]
        if t["frame"] is not None:
            return 1
        return sum(self.min_size(f["type"]) for f in s["fields"] if f["when"] is None)

    # ---- conditions ----
    def field_ref(self, s: WireStruct, name: str, obj: str) -> str:
        f = next(x for x in s["fields"] if x["name"] == name)
        v = f"{obj}{self.n.field(f['words'])}"
        return f"{v}.value_or(0)" if f["when"] is not None else v

    def cond(self, s: WireStruct, c: WireCond, obj: str) -> str:
        if c["op"] == "flag":
            v = f"args.{self.n.field(c['name'].split('_'))}" if c["name"] in s["args"] else f"f_{c['name']}"
            return v if c["value"] else f"!{v}"
        v = self.field_ref(s, c["name"], obj)
        if c["op"] == "eq":
            return f"{v} == {u64(int(c['value']))}"  # type: ignore[arg-type]
        if c["op"] == "ne":
            return f"{v} != {u64(int(c['value']))}"  # type: ignore[arg-type]
        if c["op"] in ("in", "not_in"):
            vals = c["value"]
            assert isinstance(vals, list)
            inner = " || ".join(f"{v} == {u64(int(x))}" for x in vals)  # type: ignore[arg-type]
            return f"({inner})" if c["op"] == "in" else f"!({inner})"
        if c["op"] == "even":
            return f"({v} & 1u) == 0"
        return f"({v} & 1u) == 1"

    def cond_text(self, c: WireCond) -> str:
        if c["op"] == "flag":
            return f"{c['name']} is {'set' if c['value'] else 'clear'}"
        return f"{c['name']} {c['op']} {c['value'] if c['value'] is not None else ''}".rstrip()

    # ---- header ----
    def header(self) -> list[str]:
        p = self.p
        out = doc(p["doc"])
        out.append(f"namespace {self.ns} {{")
        out.append("")
        out.append(f"inline constexpr std::string_view kFamily = {cstr(p['family'])};")
        out.append(f"inline constexpr std::uint64_t kVersion = {u64(p['version'])};")
        out.append(f"inline constexpr std::string_view kAlpn = {cstr(p['alpn'] or '')};")
        out.append("/// Default bound on the bytes an incremental parser holds for one unfinished item.")
        out.append("inline constexpr std::size_t kDefaultMaxBuffer = std::size_t{1} << 25;")
        out.append("")
        for cs in p["codes"]:
            out += doc(cs["doc"])
            out.append(
                f"/// {'Closed: values outside this set are rejected.' if cs['closed'] else 'Open: unknown values are kept.'}"  # noqa: E501
            )
            out.append(f"struct {self.n.type_name(cs['words'])} {{")
            for c in cs["values"]:
                out += doc(c["doc"], "  ")
                out.append(f"  static constexpr std::uint64_t {self.n.const(c['words'])} = {u64(c['value'])};")
            out.append('  /// The IDL name of `value`, or "" for a value this set does not define.')
            out.append("  static std::string_view name_of(std::uint64_t value) noexcept;")
            out.append("  /// True if this set defines `value`.")
            out.append("  static bool contains(std::uint64_t value) noexcept { return !name_of(value).empty(); }")
            out.append("};")
            out.append("")
        for s in self.order():
            out += self.struct_decl(s)
        for st in p["streams"]:
            out += self.stream_decl(st)
        out.append("/// The by-name registry of this protocol's structs (IDL names, without the protocol prefix).")
        out.append("const WireStructOps* find_struct(std::string_view name) noexcept;")
        out.append("/// The by-name registry of this protocol's streams.")
        out.append("const StreamOps* find_stream(std::string_view name) noexcept;")
        out.append("")
        out.append(f"}}  // namespace {self.ns}")
        return out

    def struct_decl(self, s: WireStruct) -> list[str]:
        name = self.tn(s["name"])
        out = [f"/// Flags the enclosing stream passes in to {name}."]
        if s["args"]:
            out.append(f"struct {name}Args {{")
            for a in s["args"]:
                out.append(f"  bool {self.n.field(a.split('_'))} = false;")
            out.append("};")
        else:
            out.append(f"struct {name}Args {{}};")
        out += doc(s["doc"])
        out.append("///")
        out.append("/// Decoded values are views into the input buffer (valid while it is alive).")
        out.append(f"struct {name} {{")
        out.append(f"  static constexpr std::string_view kName = {cstr(s['name'])};")
        out.append(f"  using Args = {name}Args;")
        out.append("")
        for f in s["fields"]:
            out += doc(f["doc"] + (f" Present only when {self.cond_text(f['when'])}." if f["when"] else ""), "  ")
            init = "{}" if f["when"] is None and f["type"]["type"] in _INT_MAX else ""
            if init and f["type"]["const"] is not None:
                init = f"{{{f['type']['const']}u}}"  # a default-built value encodes
            out.append(f"  {self.field_type(f)} {self.n.field(f['words'])}{init};")
        out.append("")
        if self.p["name"] == "envelope" and s["name"] == "Envelope":
            # The legacy RPC envelope gets a request constructor, as in every SDK.
            out += [
                "  /// The request envelope of one call of `method_id` (a kMethod* constant) carrying",
                "  /// `message` in protobuf binary: version set, kind request, flag final (one request",
                "  /// message). `payload` receives the bytes; the envelope views it, so it must outlive it.",
                "  template <class Message>",
                "  static Envelope request(std::uint64_t method_id, std::uint64_t request_id, const Message& message,",
                "                          ByteVec& payload) {",
                "    payload = message.encode();",
                "    Envelope e;",
                "    e.kind = EnvelopeKind::kRequest;",
                "    e.flags = EnvelopeFlag::kFinal;",
                "    e.method_id = method_id;",
                "    e.request_id = request_id;",
                "    e.payload = Bytes(payload.data(), payload.size());",
                "    return e;",
                "  }",
                "",
            ]
        out.append("  /// Decodes all of `data` (leftover bytes: trailing_bytes). The value views `data`.")
        out.append(f"  static Result<{name}> decode(Bytes data, const Args& args = {{}});")
        out.append("  /// Appends the wire bytes to `out`; an encode error if a field breaks its declaration.")
        out.append("  Status encode_to(ByteVec& out, const Args& args = {}) const;")
        out.append("  /// The wire bytes.")
        out.append("  Result<ByteVec> encode(const Args& args = {}) const;")
        out.append("  /// This value in the golden vectors' value format.")
        out.append("  Json to_json() const;")
        out.append("  /// Reads the vectors' value format; bytes and strings are copied into `arena`.")
        out.append(f"  static Result<{name}> from_json(const Json& value, Arena& arena);")
        out.append("};")
        out.append("")
        return out

    def stream_items(self, st: WireStream) -> list[str]:
        if st["kind"] == "framed":
            seen: list[str] = []
            for c in self.codes[str(st["dispatch"])]["values"]:
                if c["struct"] and c["struct"] not in seen:
                    seen.append(c["struct"])
            return seen
        if st["kind"] == "header_objects":
            seen = []
            for h in st["headers"]:
                for x in (h["header"], h["object"]):
                    if x not in seen:
                        seen.append(x)
            return seen
        return [str(st["message"])]

    def stream_decl(self, st: WireStream) -> list[str]:
        parser = self.n.type_name([*st["words"], "parser"])
        item = self.n.type_name([*st["words"], "item"])
        kinds = self.stream_items(st)
        out: list[str] = []
        if st["kind"] == "datagram":
            out += doc(st["doc"])
            msg = self.tn(str(st["message"]))
            out.append(f"/// Decodes one whole datagram of stream `{st['name']}`.")
            out.append(f"Result<{msg}> decode_{self.n.func(st['words'])}(Bytes data);")
            out.append("")
            return out
        variant = ", ".join(self.tn(k) for k in kinds)
        out.append(f"/// One parsed item of stream `{st['name']}`.")
        if st["kind"] == "sequence":
            out.append(f"using {item} = {variant};")
        elif st["kind"] == "framed":
            out.append(f"struct {item} {{")
            out.append("  std::uint64_t code = 0;  ///< the message type code")
            out.append(f"  std::variant<{variant}> message;")
            out.append("};")
        else:
            out.append(f"using {item} = std::variant<{variant}>;")
        out.append("")
        out += doc(st["doc"])
        out.append("///")
        out.append("/// feed() takes bytes in any chunking (one byte at a time works) and appends every complete")
        out.append("/// item. Only the bytes of an unfinished item are copied; complete items are parsed in place.")
        out.append("/// Lifetime: items view the chunk passed to feed() or this parser's buffer; they are valid")
        out.append("/// until the next feed()/close() call and while the chunk is alive.")
        out.append(f"class {parser} {{")
        out.append(" public:")
        out.append(f"  using Item = {item};")
        out.append(f"  explicit {parser}(std::size_t max_buffer = kDefaultMaxBuffer) : max_buffer_(max_buffer) {{}}")
        out.append("  /// Parses what `chunk` completes; appends the items to `out`.")
        out.append("  Status feed(Bytes chunk, std::vector<Item>& out);")
        out.append("  /// The stream ended: an error if an item is incomplete (the reason a whole-input decode gives).")
        out.append("  Status close();")
        out.append("")
        out.append(" private:")
        out.append("  // Appends one item parsed from r to out; false with r.err (out unchanged) if it cannot.")
        out.append("  bool one(quic::Reader& r, std::vector<Item>& out);")
        out.append("  ByteVec pending_;")
        out.append("  ByteVec hold_;")
        out.append("  std::size_t need_ = 0;")
        out.append("  std::size_t base_ = 0;")
        out.append("  std::size_t max_buffer_;")
        if st["kind"] == "header_objects":
            out.append("  int header_ = -1;  // which header started the stream, -1 before it")
            args = sorted({a for h in st["headers"] for a in h["args"]})
            for a in args:
                out.append(f"  bool arg_{a}_ = false;")
        out.append("};")
        out.append("")
        return out

    # ---- source ----
    def source(self) -> list[str]:
        out = [f"namespace {self.ns} {{", "namespace {", ""]
        order = self.order()
        for s in order:
            name = self.tn(s["name"])
            out.append(f"bool dec(quic::Reader& r, std::size_t end, const {name}::Args& args, {name}& out);")
            out.append(f"Status enc(ByteVec& out, const {name}& v, const {name}::Args& args);")
            out.append(f"Json to_json_value(const {name}& v);")
            out.append(f"bool from_json_into(const Json& j, Arena& arena, {name}& out, Status& err);")
        out.append("")
        out.append("[[maybe_unused]] Json json_num(std::uint64_t v) {")
        out.append("  if (v <= (std::uint64_t{1} << 53) - 1) return Json::number_u64(v);")
        out.append("  return Json::string(std::to_string(v));")
        out.append("}")
        out.append("")
        out.append(
            "[[maybe_unused]] bool json_int(const Json* v, const char* where, std::uint64_t& out, Status& err) {"
        )
        out.append('  if (v == nullptr) return pj::fail(err, std::string(where) + ": missing field");')
        out.append("  if (v->is_string()) {")
        out.append("    const std::string& t = v->text();")
        out.append("    bool digits = !t.empty() && t.size() <= 20;")
        out.append("    for (char c : t) digits = digits && c >= '0' && c <= '9';")
        out.append("    auto n = digits ? Json::number_text(t).as_u64() : std::nullopt;")
        out.append('    if (!n) return pj::fail(err, std::string(where) + ": expected an integer");')
        out.append("    out = *n;")
        out.append("    return true;")
        out.append("  }")
        out.append('  if (!v->is_number() || v->text().find_first_of(".eE") != std::string::npos) {')
        out.append('    return pj::fail(err, std::string(where) + ": expected an integer");')
        out.append("  }")
        out.append("  auto n = v->as_u64();")
        out.append("  if (!n) {")
        out.append("    // A negative or too large integer is valid JSON that no encoder accepts.")
        out.append('    err = encode_error(std::string(where) + ": " + v->text() + " is out of range");')
        out.append("    return false;")
        out.append("  }")
        out.append("  out = *n;")
        out.append("  return true;")
        out.append("}")
        out.append("")
        out.append(
            "[[maybe_unused]] bool json_hex(const Json* v, const char* where, Arena& arena, Bytes& out, Status& err) {"
        )
        out.append('  if (v == nullptr) return pj::fail(err, std::string(where) + ": missing field");')
        out.append('  if (!v->is_string()) return pj::fail(err, std::string(where) + ": expected a hex string");')
        out.append("  auto b = from_hex(v->text());")
        out.append('  if (!b) return pj::fail(err, std::string(where) + ": not a hex string");')
        out.append("  out = arena.keep(Bytes(*b));")
        out.append("  return true;")
        out.append("}")
        out.append("")
        out.append(
            "[[maybe_unused]] bool json_text(const Json* v, const char* where, Arena& arena, std::string_view& out, Status& err) {"  # noqa: E501
        )
        out.append('  if (v == nullptr) return pj::fail(err, std::string(where) + ": missing field");')
        out.append('  if (!v->is_string()) return pj::fail(err, std::string(where) + ": expected a string");')
        out.append("  out = arena.keep(std::string_view(v->text()));")
        out.append("  return true;")
        out.append("}")
        out.append("")
        out.append("[[maybe_unused]] bool json_array(const Json* v, const char* where, Status& err) {")
        out.append('  if (v == nullptr) return pj::fail(err, std::string(where) + ": missing field");')
        out.append('  return v->is_array() || pj::fail(err, std::string(where) + ": expected an array");')
        out.append("}")
        out.append("")
        out.append("[[maybe_unused]] bool absent(const Json& j, const char* name) {")
        out.append("  const Json* v = j.find(name);")
        out.append("  return v == nullptr || v->is_null();")
        out.append("}")
        out.append("")
        for s in order:
            out += self.variants_fn(s)
            out += self.dec_fn(s)
            out += self.enc_fn(s)
            out += self.json_fns(s)
        out.append("}  // namespace")
        out.append("")
        for cs in self.p["codes"]:
            t = self.n.type_name(cs["words"])
            out.append(f"std::string_view {t}::name_of(std::uint64_t value) noexcept {{")
            out.append("  switch (value) {")
            for c in cs["values"]:
                out.append(f"    case {u64(c['value'])}:")
                out.append(f"      return {cstr(c['name'])};")
            out.append("    default:")
            out.append('      return "";')
            out.append("  }")
            out.append("}")
            out.append("")
        for s in order:
            out += self.public_fns(s)
        for st in self.p["streams"]:
            out += self.stream_impl(st)
        out += self.registry()
        out.append(f"}}  // namespace {self.ns}")
        return out

    def flags_of(self, s: WireStruct) -> list[str]:
        return s["flags"]

    def variants_fn(self, s: WireStruct) -> list[str]:
        if not s["variants"]:
            return []
        name = self.tn(s["name"])
        params = "".join(f", bool& f_{fl}" for fl in s["flags"])
        out = [f"// The variant flags of a {name} type code; false for a code that is not defined."]
        out.append(f"bool variant_{name}(std::uint64_t code{params}) {{")
        out.append("  switch (code) {")
        for v in s["variants"]:
            out.append(f"    case {u64(v['code'])}:")
            for fl in s["flags"]:
                out.append(f"      f_{fl} = {'true' if v['flags'].get(fl) else 'false'};")
            out.append("      return true;")
        out.append("    default:")
        out.append("      return false;")
        out.append("  }")
        out.append("}")
        out.append("")
        return out

    def int_checks(self, c: _Code, ind: int, t: WireType, v: str, where: str, start: str | None, enc: bool) -> None:
        def fail(cond: str, msg: str) -> None:
            if enc:
                c.add(ind, f'if ({cond}) return encode_error("{where}: {msg}");')
            else:
                c.add(ind, f'if ({cond}) return r.fail_at(Reason::kInvalidValue, "{where}: {msg}", {start});')

        if t["const"] is not None:
            fail(f"{v} != {u64(t['const'])}", f"not the constant {t['const']}")
        if t["codes"] is not None and t["closed"]:
            fail(f"!{self.code_type(t['codes'])}::contains({v})", f"not a {t['codes']} code")
        if t["min"] is not None:
            fail(f"{v} < {u64(t['min'])}", f"below {t['min']}")
        if t["max"] is not None and t["max"] < _INT_MAX[t["type"]]:
            fail(f"{v} > {u64(t['max'])}", f"above {t['max']}")
        if t["mask"] is not None:
            fail(f"({v} & ~{u64(t['mask'])}) != 0", f"bits outside {t['mask']:#x}")

    def has_int_checks(self, t: WireType) -> bool:
        return (
            any(t[x] is not None for x in ("const", "min", "mask"))
            or (t["codes"] is not None and t["closed"])
            or (t["max"] is not None and t["max"] < _INT_MAX[t["type"]])
        )

    def too_large(self, c: _Code, ind: int, n: str, mx: int | None, where: str, what: str) -> None:
        if mx is not None:
            c.add(ind, f'if ({n} > {u64(mx)}) return r.fail(Reason::kTooLarge, "{where}: {what} over {mx}");')

    def length_expr(self, c: _Code, ind: int, s: WireStruct, ln: dict[str, object], end: str) -> str:
        k = ln["kind"]
        if k == "varint":
            n = c.fresh("n")
            c.add(ind, f"std::uint64_t {n} = 0;")
            c.add(ind, f"if (!r.varint({end}, {n})) return false;")
            return n
        if k == "field":
            return self.field_ref(s, str(ln["field"]), "out.")
        if k == "fixed":
            return f"{ln['size']}u"
        return f"({end} - r.pos)"

    def frame_dec(self, c: _Code, ind: int, s: WireStruct, t: WireType, end: str, where: str) -> str:
        ln = t["frame"]
        assert ln is not None
        sub = c.fresh("fe")
        if ln["kind"] == "rest":
            c.add(ind, f"const std::size_t {sub} = {end};")
            return sub
        n = self.length_expr(c, ind, s, dict(ln), end)
        self.too_large(c, ind, n, t["max_bytes"], where, "bytes")
        c.add(ind, f"std::size_t {sub} = 0;")
        c.add(ind, f"if (!r.sub_end({n}, {end}, {sub})) return false;")
        return sub

    def dec_value(self, c: _Code, ind: int, s: WireStruct, t: WireType, dst: str, end: str, where: str) -> None:
        k = t["type"]
        if k in _INT_MAX:
            checks = self.has_int_checks(t)
            start = None
            if checks:
                start = c.fresh("o")
                c.add(ind, f"const std::size_t {start} = r.pos;")
            read = f"r.varint({end}, {dst})" if k == "varint" else f"r.uint({_INT_SIZE[k]}, {end}, {dst})"
            c.add(ind, f"if (!{read}) return false;")
            if checks:
                self.int_checks(c, ind, t, dst, where, start, False)
            return
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            raw = dst if k == "bytes" else c.fresh("raw")
            if k == "string":
                c.add(ind, f"Bytes {raw};")
            start = c.fresh("o")
            if ln["kind"] == "fixed":
                c.add(ind, f"const std::size_t {start} = r.pos;")
                c.add(ind, f"if (!r.fixed({ln['size']}u, {end}, {raw})) return false;")
            else:
                n = self.length_expr(c, ind, s, dict(ln), end)
                if ln["kind"] != "rest":
                    self.too_large(c, ind, n, t["max"], where, "bytes")
                c.add(ind, f"const std::size_t {start} = r.pos;")
                c.add(ind, f"if (!r.raw({n}, {end}, {raw})) return false;")
                if ln["kind"] == "rest" and t["max"] is not None:
                    self.too_large(c, ind, f"{raw}.size()", t["max"], where, "bytes")
            if k == "string":
                c.add(ind, f"if (!r.text({raw}, {start}, {dst})) return false;")
            else:
                c.add(ind, f"(void){start};")
            return
        if k == "struct":
            sname = self.tn(str(t["struct"]))
            if t["frame"] is None:
                c.add(ind, f"if (!dec(r, {end}, {sname}::Args{{}}, {dst})) return false;")
                return
            sub = self.frame_dec(c, ind, s, t, end, where)
            c.add(ind, f"if (!dec(r, {sub}, {sname}::Args{{}}, {dst})) return false;")
            c.add(
                ind, f'if (r.pos != {sub}) return r.fail(Reason::kTrailingBytes, "{where}: bytes left in its frame");'
            )
            return
        elem = t["element"]
        ln = t["length"]
        assert elem is not None and ln is not None
        e = end
        start = c.fresh("o")
        c.add(ind, f"const std::size_t {start} = r.pos;")
        if t["frame"] is not None:
            e = self.frame_dec(c, ind, s, t, end, where)
        etype = self.ctype(elem)
        if ln["kind"] == "rest":
            if self.min_size(elem) == 0:
                raise WireGenError(f"{where}: a list read to its end needs elements of at least one byte")
            c.add(ind, f"while (r.pos < {e}) {{")
            if t["max"] is not None:
                c.add(
                    ind + 1,
                    f'if ({dst}.size() >= {t["max"]}u) return r.fail(Reason::kTooLarge, "{where}: more than {t["max"]} elements");',  # noqa: E501
                )
        else:
            count = self.length_expr(c, ind, s, dict(ln), e)
            self.too_large(c, ind, count, t["max"], where, "elements")
            if t["min"]:
                c.add(
                    ind,
                    f'if ({count} < {t["min"]}u) return r.fail_at(Reason::kInvalidValue, "{where}: too few elements", {start});',  # noqa: E501
                )
            c.add(
                ind,
                f"if (!r.need(static_cast<std::size_t>({count}) * {max(1, self.min_size(elem))}u, {e})) return false;",
            )
            c.add(ind, f"{dst}.reserve(static_cast<std::size_t>({count}));")
            i = c.fresh("i")
            c.add(ind, f"for (std::uint64_t {i} = 0; {i} < {count}; ++{i}) {{")
        item = c.fresh("x")
        c.add(ind + 1, f"{etype}& {item} = {dst}.emplace_back();")
        self.dec_value(c, ind + 1, s, elem, item, e, where + "[]")
        c.add(ind, "}")
        if ln["kind"] == "rest" and t["min"]:
            c.add(
                ind,
                f'if ({dst}.size() < {t["min"]}u) return r.fail_at(Reason::kInvalidValue, "{where}: too few elements", {start});',  # noqa: E501
            )
        else:
            c.add(ind, f"(void){start};")
        if t["frame"] is not None and ln["kind"] != "rest":
            c.add(ind, f'if (r.pos != {e}) return r.fail(Reason::kTrailingBytes, "{where}: bytes left in its frame");')

    def dec_fn(self, s: WireStruct) -> list[str]:
        name = self.tn(s["name"])
        c = _Code()
        c.add(0, f"bool dec(quic::Reader& r, std::size_t end, const {name}::Args& args, {name}& out) {{")
        if not s["args"]:
            c.add(1, "(void)args;")
        for fl in s["flags"]:
            c.add(1, f"bool f_{fl} = false;")
        for i, f in enumerate(s["fields"]):
            fld = "out." + self.n.field(f["words"])
            where = f"{s['name']}.{f['name']}"
            if f["when"] is None:
                self.dec_value(c, 1, s, f["type"], fld, "end", where)
            else:
                c.add(1, f"if ({self.cond(s, f['when'], 'out.')}) {{")
                tmp = c.fresh("t")
                c.add(2, f"auto& {tmp} = {fld}.emplace();")
                self.dec_value(c, 2, s, f["type"], tmp, "end", where)
                c.add(1, "}")
            if i == 0 and s["variants"]:
                flags = "".join(f", f_{fl}" for fl in s["flags"])
                c.add(1, f"if (!variant_{name}({fld}{flags})) {{")
                c.add(2, f'return r.fail(Reason::kUnknownType, "{s["name"]}: unknown type " + std::to_string({fld}));')
                c.add(1, "}")
        if not s["fields"]:
            c.add(1, "(void)r;")
            c.add(1, "(void)end;")
            c.add(1, "(void)out;")
        c.add(1, "return true;")
        c.add(0, "}")
        c.add(0, "")
        return c.lines

    def length_enc(
        self, c: _Code, ind: int, s: WireStruct, ln: dict[str, object], n: str, out: str, where: str
    ) -> None:
        k = ln["kind"]
        if k == "varint":
            c.add(ind, f"if (Status st = quic::write_varint({out}, {n}); !st) return st;")
        elif k == "field":
            ref = self.field_ref(s, str(ln["field"]), "v.")
            c.add(ind, f'if ({n} != {ref}) return encode_error("{where}: its length does not match {ln["field"]}");')
        elif k == "fixed":
            c.add(ind, f'if ({n} != {ln["size"]}u) return encode_error("{where}: length is not {ln["size"]}");')

    def too_large_enc(self, c: _Code, ind: int, n: str, mx: int | None, where: str, what: str) -> None:
        if mx is not None:
            c.add(ind, f'if ({n} > {u64(mx)}) return encode_error("{where}: {what} over {mx}");')

    def enc_value(self, c: _Code, ind: int, s: WireStruct, t: WireType, v: str, out: str, where: str) -> None:
        k = t["type"]
        if k in _INT_MAX:
            self.int_checks(c, ind, t, v, where, None, True)
            if k == "varint":
                c.add(ind, f"if (Status st = quic::write_varint({out}, {v}); !st) return st;")
            else:
                c.add(ind, f"if (Status st = quic::write_uint({out}, {v}, {_INT_SIZE[k]}); !st) return st;")
            return
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            self.too_large_enc(c, ind, f"{v}.size()", t["max"], where, "bytes")
            self.length_enc(c, ind, s, dict(ln), f"{v}.size()", out, where)
            if k == "string":
                c.add(ind, f"append({out}, as_bytes({v}));")
            else:
                c.add(ind, f"append({out}, {v});")
            return
        if k == "struct":
            sname = self.tn(str(t["struct"]))
            if t["frame"] is None:
                c.add(ind, f"if (Status st = enc({out}, {v}, {sname}::Args{{}}); !st) return st;")
                return
            buf = c.fresh("buf")
            c.add(ind, f"ByteVec {buf};")
            c.add(ind, f"if (Status st = enc({buf}, {v}, {sname}::Args{{}}); !st) return st;")
            self.too_large_enc(c, ind, f"{buf}.size()", t["max_bytes"], where, "bytes")
            self.length_enc(c, ind, s, dict(t["frame"]), f"{buf}.size()", out, where)
            c.add(ind, f"append({out}, {buf});")
            return
        elem = t["element"]
        ln = t["length"]
        assert elem is not None and ln is not None
        target = out
        if t["frame"] is not None:
            target = c.fresh("buf")
            c.add(ind, f"ByteVec {target};")
        self.too_large_enc(c, ind, f"{v}.size()", t["max"], where, "elements")
        if t["min"]:
            c.add(ind, f'if ({v}.size() < {t["min"]}u) return encode_error("{where}: fewer than {t["min"]} elements");')
        self.length_enc(c, ind, s, dict(ln), f"{v}.size()", target, where)
        item = c.fresh("x")
        c.add(ind, f"for (const auto& {item} : {v}) {{")
        self.enc_value(c, ind + 1, s, elem, item, target, where + "[]")
        c.add(ind, "}")
        if t["frame"] is not None:
            self.too_large_enc(c, ind, f"{target}.size()", t["max_bytes"], where, "bytes")
            self.length_enc(c, ind, s, dict(t["frame"]), f"{target}.size()", out, where)
            c.add(ind, f"append({out}, {target});")

    def enc_fn(self, s: WireStruct) -> list[str]:
        name = self.tn(s["name"])
        c = _Code()
        c.add(0, f"Status enc(ByteVec& out, const {name}& v, const {name}::Args& args) {{")
        if not s["args"]:
            c.add(1, "(void)args;")
        for fl in s["flags"]:
            c.add(1, f"bool f_{fl} = false;")
        for i, f in enumerate(s["fields"]):
            fld = "v." + self.n.field(f["words"])
            where = f"{s['name']}.{f['name']}"
            if f["when"] is None:
                self.enc_value(c, 1, s, f["type"], fld, "out", where)
            else:
                cond = self.cond(s, f["when"], "v.")
                c.add(1, f"if ({cond}) {{")
                c.add(2, f'if (!{fld}) return encode_error("{where} is required when {self.cond_text(f["when"])}");')
                self.enc_value(c, 2, s, f["type"], f"(*{fld})", "out", where)
                c.add(1, f"}} else if ({fld}) {{")
                c.add(2, f'return encode_error("{where} must be absent unless {self.cond_text(f["when"])}");')
                c.add(1, "}")
            if i == 0 and s["variants"]:
                flags = "".join(f", f_{fl}" for fl in s["flags"])
                c.add(1, f'if (!variant_{name}({fld}{flags})) return encode_error("{s["name"]}: unknown type");')
        if not s["fields"]:
            c.add(1, "(void)out;")
            c.add(1, "(void)v;")
        c.add(1, "return {};")
        c.add(0, "}")
        c.add(0, "")
        return c.lines

    def to_json_expr(self, t: WireType, v: str) -> str:
        k = t["type"]
        if k in _INT_MAX:
            return f"json_num({v})"
        if k == "bytes":
            return f"Json::string(to_hex({v}))"
        if k == "string":
            return f"Json::string(std::string({v}))"
        if k == "struct":
            return f"to_json_value({v})"
        assert t["element"] is not None
        inner = self.to_json_expr(t["element"], "x")
        return f"[&] {{ Json a = Json::array(); for (const auto& x : {v}) a.push({inner}); return a; }}()"

    def from_json_value(self, c: _Code, ind: int, t: WireType, src: str, dst: str, where: str) -> None:
        k = t["type"]
        if k in _INT_MAX:
            c.add(ind, f'if (!json_int({src}, "{where}", {dst}, err)) return false;')
        elif k == "bytes":
            c.add(ind, f'if (!json_hex({src}, "{where}", arena, {dst}, err)) return false;')
        elif k == "string":
            c.add(ind, f'if (!json_text({src}, "{where}", arena, {dst}, err)) return false;')
        elif k == "struct":
            if not src.startswith("&"):
                c.add(ind, f'if ({src} == nullptr) return pj::fail(err, "{where}: missing field");')
            c.add(ind, f"if (!from_json_into(*{src}, arena, {dst}, err)) return false;")
        else:
            assert t["element"] is not None
            c.add(ind, f'if (!json_array({src}, "{where}", err)) return false;')
            x = c.fresh("x")
            c.add(ind, f"for (const Json& {x} : {src}->items()) {{")
            y = c.fresh("y")
            c.add(ind + 1, f"auto& {y} = {dst}.emplace_back();")
            self.from_json_value(c, ind + 1, t["element"], f"&{x}", y, where + "[]")
            c.add(ind, "}")

    def json_fns(self, s: WireStruct) -> list[str]:
        name = self.tn(s["name"])
        c = _Code()
        c.add(0, f"Json to_json_value(const {name}& v) {{")
        c.add(1, "Json j = Json::object();")
        if not s["fields"]:
            c.add(1, "(void)v;")
        for f in s["fields"]:
            fld = "v." + self.n.field(f["words"])
            if f["when"] is None:
                c.add(1, f"j.set({cstr(f['name'])}, {self.to_json_expr(f['type'], fld)});")
            else:
                c.add(1, f"if ({fld}) j.set({cstr(f['name'])}, {self.to_json_expr(f['type'], '(*' + fld + ')')});")
        c.add(1, "return j;")
        c.add(0, "}")
        c.add(0, "")
        c.add(0, f"bool from_json_into(const Json& j, Arena& arena, {name}& out, Status& err) {{")
        c.add(1, f'if (!j.is_object()) return pj::fail(err, "{s["name"]}: expected an object");')
        names = " && ".join(f"key != {cstr(f['name'])}" for f in s["fields"]) or "true"
        c.add(1, "for (const auto& member : j.members()) {")
        c.add(2, "const std::string& key = member.first;")
        c.add(2, f'if ({names}) return pj::fail(err, "{s["name"]}: unknown field " + key);')
        c.add(1, "}")
        c.add(1, "(void)arena;")
        if not s["fields"]:
            c.add(1, "(void)out;")
        for f in s["fields"]:
            fld = "out." + self.n.field(f["words"])
            where = f"{s['name']}.{f['name']}"
            src = f"j.find({cstr(f['name'])})"
            if f["when"] is None:
                self.from_json_value(c, 1, f["type"], src, fld, where)
            else:
                c.add(1, f"if (!absent(j, {cstr(f['name'])})) {{")
                tmp = c.fresh("t")
                c.add(2, f"auto& {tmp} = {fld}.emplace();")
                self.from_json_value(c, 2, f["type"], src, tmp, where)
                c.add(1, "}")
        c.add(1, "return true;")
        c.add(0, "}")
        c.add(0, "")
        return c.lines

    def public_fns(self, s: WireStruct) -> list[str]:
        name = self.tn(s["name"])
        return [
            f"Result<{name}> {name}::decode(Bytes data, const Args& args) {{",
            "  quic::Reader r(data);",
            f"  {name} v;",
            "  if (!dec(r, r.stop, args, v)) return r.err;",
            "  if (r.pos != r.stop) {",
            f'    (void)r.fail(Reason::kTrailingBytes, "bytes left after {s["name"]}");',
            "    return r.err;",
            "  }",
            "  return v;",
            "}",
            "",
            f"Status {name}::encode_to(ByteVec& out, const Args& args) const {{ return enc(out, *this, args); }}",
            "",
            f"Result<ByteVec> {name}::encode(const Args& args) const {{",
            "  ByteVec out;",
            "  if (Status st = enc(out, *this, args); !st) return st;",
            "  return out;",
            "}",
            "",
            f"Json {name}::to_json() const {{ return to_json_value(*this); }}",
            "",
            f"Result<{name}> {name}::from_json(const Json& value, Arena& arena) {{",
            f"  {name} v;",
            "  Status err;",
            "  if (!from_json_into(value, arena, v, err)) return err;",
            "  return v;",
            "}",
            "",
        ]

    # ---- streams ----
    def item_json(self, st: WireStream) -> list[str]:
        """A function turning one parsed item into {"struct", "value"}."""
        item = self.n.type_name([*st["words"], "item"])
        access = "it.message" if st["kind"] == "framed" else "it"
        if st["kind"] == "sequence":
            return [
                f"Json item_json(const {item}& it) {{",
                "  Json j = Json::object();",
                f'  j.set("struct", Json::string(std::string({item}::kName)));',
                '  j.set("value", it.to_json());',
                "  return j;",
                "}",
                "",
            ]
        return [
            f"Json item_json(const {item}& it) {{",
            "  return std::visit(",
            "      [](const auto& m) {",
            "        Json j = Json::object();",
            '        j.set("struct", Json::string(std::string(std::decay_t<decltype(m)>::kName)));',
            '        j.set("value", m.to_json());',
            "        return j;",
            "      },",
            f"      {access});",
            "}",
            "",
        ]

    def stream_impl(self, st: WireStream) -> list[str]:
        fn = self.n.func(st["words"])
        if st["kind"] == "datagram":
            msg = self.tn(str(st["message"]))
            return [
                f"Result<{msg}> decode_{fn}(Bytes data) {{ return {msg}::decode(data); }}",
                "",
                "namespace {",
                f"Result<Json> parse_{fn}_json(Bytes data, std::size_t chunk) {{",
                "  (void)chunk;",
                f"  auto v = {msg}::decode(data);",
                "  if (!v) return v.error();",
                "  Json j = Json::object();",
                f'  j.set("struct", Json::string({cstr(str(st["message"]))}));',
                '  j.set("value", v->to_json());',
                "  return Json::array({std::move(j)});",
                "}",
                "}  // namespace",
                "",
            ]
        parser = self.n.type_name([*st["words"], "parser"])
        out: list[str] = []
        out.append(f"Status {parser}::feed(Bytes chunk, std::vector<Item>& out) {{")
        out.append("  hold_.clear();")
        out.append("  std::size_t ci = 0;")
        out.append("  if (!pending_.empty()) {")
        out.append("    // Complete the unfinished item, adding only as many bytes as its reads asked for.")
        out.append("    while (true) {")
        out.append("      const std::size_t want = need_ > pending_.size() ? need_ - pending_.size() : 1;")
        out.append("      const std::size_t take = std::min(want, chunk.size() - ci);")
        out.append("      if (take == 0) return {};")
        out.append("      pending_.insert(pending_.end(), chunk.begin() + static_cast<std::ptrdiff_t>(ci),")
        out.append("                      chunk.begin() + static_cast<std::ptrdiff_t>(ci + take));")
        out.append("      ci += take;")
        out.append("      quic::Reader r(Bytes(pending_), true, base_);")
        out.append("      if (!one(r, out)) {")
        out.append("        if (!r.err.error().incomplete) return r.err;")
        out.append("        need_ = r.err.error().need;")
        out.append(
            '        if (need_ > max_buffer_) return decode_error(Reason::kTooLarge, "an item is over the buffer limit", base_);'  # noqa: E501
        )
        out.append("        continue;")
        out.append("      }")
        out.append("      ci -= pending_.size() - r.pos;  // bytes after the item belong to the next one")
        out.append("      base_ += r.pos;")
        out.append("      hold_ = std::move(pending_);")
        out.append("      pending_.clear();")
        out.append("      break;")
        out.append("    }")
        out.append("  }")
        out.append("  // Complete items are parsed in place, straight into `out`, by one reader over the chunk.")
        out.append("  quic::Reader r(chunk.subspan(ci), true, base_);")
        out.append("  while (r.pos < r.stop) {")
        out.append("    const std::size_t start = r.pos;")
        out.append("    if (!one(r, out)) {")
        out.append("      if (!r.err.error().incomplete) return r.err;")
        out.append("      need_ = r.err.error().need - start;")
        out.append(
            '      if (need_ > max_buffer_) return decode_error(Reason::kTooLarge, "an item is over the buffer limit", base_);'  # noqa: E501
        )
        out.append("      pending_.assign(chunk.begin() + static_cast<std::ptrdiff_t>(ci + start), chunk.end());")
        out.append("      return {};")
        out.append("    }")
        out.append(
            '    if (r.pos == start) return decode_error(Reason::kInvalidValue, "an empty item cannot advance the stream", base_);'  # noqa: E501
        )
        out.append("    base_ += r.pos - start;")
        out.append("  }")
        out.append("  return {};")
        out.append("}")
        out.append("")
        if st["kind"] == "sequence":
            msg = self.tn(str(st["message"]))
            out.append(f"bool {parser}::one(quic::Reader& r, std::vector<Item>& out) {{")
            out.append(f"  if (dec(r, r.stop, {msg}::Args{{}}, out.emplace_back())) return true;")
            out.append("  out.pop_back();")
            out.append("  return false;")
            out.append("}")
            out.append("")
            out.append(f"Status {parser}::close() {{")
            out.append("  hold_.clear();")
            out.append("  if (pending_.empty()) return {};")
            out.append("  quic::Reader r(Bytes(pending_), false, base_);")
            out.append(f"  {msg} v;")
            out.append(f"  if (!dec(r, r.stop, {msg}::Args{{}}, v)) return r.err;")
            out.append('  return decode_error(Reason::kTruncated, "the stream ended inside a message", base_);')
            out.append("}")
            out.append("")
        elif st["kind"] == "framed":
            cs = self.codes[str(st["dispatch"])]
            tsize = (
                "r.varint(r.stop, code)"
                if st["type"] == "varint"
                else f"r.uint({_INT_SIZE[str(st['type'])]}, r.stop, code)"
            )
            lsize = (
                "r.varint(r.stop, length)"
                if st["length"] == "varint"
                else f"r.uint({_INT_SIZE[str(st['length'])]}, r.stop, length)"
            )
            maxlen = st["max"] if st["max"] is not None else _INT_MAX[str(st["length"])]
            start = len(out)
            out.append("  const std::size_t at = r.base + r.pos;  // where the message starts")
            out.append("  std::uint64_t code = 0;")
            out.append("  std::uint64_t length = 0;")
            out.append(f"  if (!{tsize} || !{lsize}) return r.err;")
            out.append("  item.code = code;")
            out.append("  quic::Reader body(Bytes(), false, 0);")
            out.append(f"  const bool too_large = length > {u64(maxlen)} || length > max_buffer_;")
            out.append("  auto open = [&]() -> Status {")
            out.append(
                '    if (too_large) return decode_error(Reason::kTooLarge, "a message is over the length limit", at);'
            )
            out.append("    if (length > r.stop - r.pos) {")
            out.append(
                '      Error e = decode_error(Reason::kLengthPastEnd, "the stream ends inside a message", r.base + r.pos);'  # noqa: E501
            )
            out.append("      e.incomplete = true;")
            out.append("      e.need = r.pos + static_cast<std::size_t>(length);")
            out.append("      return e;")
            out.append("    }")
            out.append(
                "    body = quic::Reader(Bytes(r.buf + r.pos, static_cast<std::size_t>(length)), false, r.base + r.pos);"  # noqa: E501
            )
            out.append("    r.pos += static_cast<std::size_t>(length);")
            out.append("    return {};")
            out.append("  };")
            out.append("  switch (code) {")
            for c in cs["values"]:
                if not c["struct"]:
                    continue
                sn = self.tn(c["struct"])
                out.append(f"    case {u64(c['value'])}: {{")
                out.append("      if (Status st = open(); !st) return st;")
                out.append(f"      auto& m = item.message.emplace<{sn}>();")
                out.append(f"      if (!dec(body, body.stop, {sn}::Args{{}}, m)) return body.err;")
                out.append("      break;")
                out.append("    }")
            out.append("    default:")
            out.append(
                f'      return decode_error(Reason::kUnknownType, "{st["name"]}: unknown message type " + std::to_string(code), at);'  # noqa: E501
            )
            out.append("  }")
            out.append("  if (body.pos != body.stop) {")
            out.append('    (void)body.fail(Reason::kTrailingBytes, "bytes left in the message");')
            out.append("    return body.err;")
            out.append("  }")
            out.append("  return {};")
            # The body above returns a Status; run it as a lambda over a new item in `out`.
            lines = ["  " + x for x in out[start:]]
            del out[start:]
            out.append(f"bool {parser}::one(quic::Reader& r, std::vector<Item>& out) {{")
            out.append("  Item& item = out.emplace_back();")
            out.append("  Status res = [&]() -> Status {")
            out += lines
            out.append("  }();")
            out.append("  if (res) return true;")
            out.append("  out.pop_back();")
            out.append("  r.err = std::move(res);")
            out.append("  return false;")
            out.append("}")
            out.append("")
            out.append(f"Status {parser}::close() {{")
            out.append("  hold_.clear();")
            out.append("  if (pending_.empty()) return {};")
            out.append("  quic::Reader r(Bytes(pending_), false, base_);")
            out.append("  std::uint64_t code = 0;")
            out.append("  std::uint64_t length = 0;")
            out.append(f"  if (!{tsize} || !{lsize}) return r.err;")
            out.append('  return decode_error(Reason::kLengthPastEnd, "the stream ended inside a message", base_);')
            out.append("}")
            out.append("")
        else:
            out.append(f"bool {parser}::one(quic::Reader& r, std::vector<Item>& out) {{")
            for i, h in enumerate(st["headers"]):
                hn = self.tn(h["header"])
                on = self.tn(h["object"])
                osd = self.structs[h["object"]]
                out.append(f"  if (header_ == {i}) {{")
                out.append(f"    {on}::Args a;")
                for a in osd["args"]:
                    flag = h["args"].get(a)
                    if flag:
                        out.append(f"    a.{self.n.field(a.split('_'))} = arg_{flag}_;")
                out.append(f"    auto& v = std::get<{on}>(out.emplace_back(std::in_place_type<{on}>));")
                out.append("    if (dec(r, r.stop, a, v)) return true;")
                out.append("    out.pop_back();")
                out.append("    return false;")
                out.append("  }")
            out.append("  std::uint64_t code = 0;")
            out.append("  {")
            out.append("    quic::Reader peek(Bytes(r.buf, r.stop), true, r.base);")
            out.append("    peek.pos = r.pos;")
            out.append("    if (!peek.varint(peek.stop, code)) {")
            out.append("      r.err = std::move(peek.err);")
            out.append("      return false;")
            out.append("    }")
            out.append("  }")
            out.append("  switch (code) {")
            for i, h in enumerate(st["headers"]):
                hn = self.tn(h["header"])
                hs = self.structs[h["header"]]
                labels = [f"    case {u64(code)}:" for code in h["codes"]]
                out += labels[:-1]
                out.append(labels[-1] + " {")
                out.append(f"      auto& hv = std::get<{hn}>(out.emplace_back(std::in_place_type<{hn}>));")
                out.append(f"      if (!dec(r, r.stop, {hn}::Args{{}}, hv)) {{")
                out.append("        out.pop_back();")
                out.append("        return false;")
                out.append("      }")
                out.append(f"      header_ = {i};")
                if h["args"]:
                    flags = sorted(set(h["args"].values()))
                    if hs["variants"]:
                        out += [f"      bool f_{fl} = false;" for fl in hs["flags"]]
                        out.append(
                            f"      (void)variant_{hn}(hv.{self.n.field(hs['fields'][0]['words'])}{''.join(', f_' + fl for fl in hs['flags'])});"  # noqa: E501
                        )
                        for fl in flags:
                            out.append(f"      arg_{fl}_ = f_{fl};")
                out.append("      return true;")
                out.append("    }")
            out.append("    default:")
            out.append(
                f'      r.err = decode_error(Reason::kUnknownType, "{st["name"]}: unknown stream type " + std::to_string(code), r.base + r.pos);'  # noqa: E501
            )
            out.append("      return false;")
            out.append("  }")
            out.append("}")
            out.append("")
            out.append(f"Status {parser}::close() {{")
            out.append("  hold_.clear();")
            out.append("  if (pending_.empty() && header_ >= 0) return {};")
            out.append("  quic::Reader r(Bytes(pending_), false, base_);")
            out.append("  std::vector<Item> items;")
            out.append("  if (!one(r, items)) return r.err;")
            out.append('  return decode_error(Reason::kTruncated, "the stream ended inside an item", base_);')
            out.append("}")
            out.append("")
        out.append("namespace {")
        out += self.item_json(st)
        out.append(f"Result<Json> parse_{fn}_json(Bytes data, std::size_t chunk) {{")
        out.append(f"  {parser} p;")
        out.append(f"  std::vector<{parser}::Item> items;")
        out.append("  Json all = Json::array();")
        out.append("  if (chunk == 0) chunk = data.size() == 0 ? 1 : data.size();")
        out.append("  for (std::size_t i = 0; i < data.size(); i += chunk) {")
        out.append("    items.clear();")
        out.append(
            "    if (Status st = p.feed(data.subspan(i, std::min(chunk, data.size() - i)), items); !st) return st.error();"  # noqa: E501
        )
        out.append("    for (const auto& it : items) all.push(item_json(it));")
        out.append("  }")
        out.append("  if (Status st = p.close(); !st) return st.error();")
        out.append("  return all;")
        out.append("}")
        out.append("}  // namespace")
        out.append("")
        return out

    def registry(self) -> list[str]:
        out = ["namespace {", ""]
        for s in self.p["structs"]:
            name = self.tn(s["name"])
            argset = "".join(
                f"  a.{self.n.field(x.split('_'))} = args.size() > {i} && args[{i}];\n" for i, x in enumerate(s["args"])
            )
            out.append(f"{name}::Args args_{name}(const std::vector<bool>& args) {{")
            out.append(f"  {name}::Args a;")
            if argset:
                out += argset.rstrip("\n").split("\n")
            else:
                out.append("  (void)args;")
            out.append("  return a;")
            out.append("}")
            out.append(f"Result<ByteVec> rt_{name}(Bytes data, const std::vector<bool>& args) {{")
            out.append(f"  auto v = {name}::decode(data, args_{name}(args));")
            out.append("  if (!v) return v.error();")
            out.append(f"  return v->encode(args_{name}(args));")
            out.append("}")
            out.append(f"Result<Json> tj_{name}(Bytes data, const std::vector<bool>& args) {{")
            out.append(f"  auto v = {name}::decode(data, args_{name}(args));")
            out.append("  if (!v) return v.error();")
            out.append("  return v->to_json();")
            out.append("}")
            out.append(f"Result<ByteVec> fj_{name}(const Json& value, const std::vector<bool>& args) {{")
            out.append("  Arena arena;")
            out.append(f"  auto v = {name}::from_json(value, arena);")
            out.append("  if (!v) return v.error();")
            out.append(f"  return v->encode(args_{name}(args));")
            out.append("}")
            if s["args"]:
                out.append(f"constexpr std::string_view kArgs_{name}[] = {{{', '.join(cstr(a) for a in s['args'])}}};")
            out.append("")
        out.append("constexpr WireStructOps kStructs[] = {")
        for s in self.p["structs"]:
            name = self.tn(s["name"])
            args = f"kArgs_{name}" if s["args"] else "{}"
            out.append(f"    {{{cstr(s['name'])}, {args}, rt_{name}, tj_{name}, fj_{name}}},")
        out.append("};")
        out.append("")
        out.append("constexpr StreamOps kStreams[] = {")
        for st in self.p["streams"]:
            out.append(f"    {{{cstr(st['name'])}, parse_{self.n.func(st['words'])}_json}},")
        out.append("};")
        out.append("")
        out.append("}  // namespace")
        out.append("")
        out.append("const WireStructOps* find_struct(std::string_view name) noexcept {")
        out.append("  for (const auto& s : kStructs) {")
        out.append("    if (s.name == name) return &s;")
        out.append("  }")
        out.append("  return nullptr;")
        out.append("}")
        out.append("")
        out.append("const StreamOps* find_stream(std::string_view name) noexcept {")
        out.append("  for (const auto& s : kStreams) {")
        out.append("    if (s.name == name) return &s;")
        out.append("  }")
        out.append("  return nullptr;")
        out.append("}")
        out.append("")
        return out
