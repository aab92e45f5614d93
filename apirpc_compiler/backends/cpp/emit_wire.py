"""Wire protocols (the IR's `wire` list): one header and one source per protocol.

Every struct becomes a view struct: `bytes` fields are `Bytes` and `string` fields
`std::string_view` pointing into the decoded input (zero copy), conditional fields are
std::optional, lists std::vector. Decoders are straight C++ over `quic::Reader` (bounded
reads, errors in the order the vectors README gives); encoders check every constraint and
return an encode error. Each stream grammar gets an incremental parser that buffers only
the bytes of an unfinished item.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...ir import plan
from ...ir.model import WireProtocol, WireStream, WireStruct, WireType
from ...ir.wire import code_sets_by_name, structs_by_name
from ..common import INT_MAX, INT_SIZE, WireGenError, plan_cond_text, shift_literal
from .namer import CppNamer
from .text import cstr, doc, u64


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
        self.structs = structs_by_name(p)
        self.codes = code_sets_by_name(p)
        self.plan = plan.lower_protocol(p)
        self.plans = {sp.name: sp for sp in self.plan.structs}
        self.stream_plans = {sp.name: sp for sp in self.plan.streams}

    # ---- names and types ----
    def tn(self, struct: str) -> str:
        return self.n.type_name(self.structs[struct]["words"])

    def code_type(self, name: str) -> str:
        return self.n.type_name(self.codes[name]["words"])

    def ctype(self, t: plan.TypeDesc) -> str:
        if t.kind == "int":
            return "std::uint64_t"
        if t.kind == "bytes":
            return "Bytes"
        if t.kind == "string":
            return "std::string_view"
        if t.kind == "struct":
            return self.tn(str(t.struct))
        assert t.element is not None
        return f"std::vector<{self.ctype(t.element)}>"

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
        out.append(
            f"inline constexpr std::size_t kDefaultMaxBuffer = {shift_literal(self.plan.max_buffer, 'std::size_t{1}')};"
        )
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
        for f, pf in zip(s["fields"], self.plans[s["name"]].fields, strict=True):
            out += doc(f["doc"] + (f" Present only when {plan_cond_text(pf.cond)}." if pf.cond else ""), "  ")
            init = "{}" if pf.cond is None and pf.type.kind == "int" else ""
            if pf.initial is not None:
                init = f"{{{pf.initial}u}}"  # a default-built value encodes
            ctype = self.ctype(pf.type)
            out.append(f"  {f'std::optional<{ctype}>' if pf.cond else ctype} {self.n.field(f['words'])}{init};")
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
        """The structs a stream's items can be, in the order its states reach them."""
        sp = self.stream_plans[st["name"]]
        seen: list[str] = []
        for tr in self.transitions(sp):
            if tr.struct not in seen:
                seen.append(tr.struct)
        return seen

    def transitions(self, sp: plan.StreamPlan) -> list[plan.Transition]:
        """Every transition, a header's followed by its objects'."""
        out: list[plan.Transition] = []
        for tr in self.state(sp, sp.initial).transitions:
            out.append(tr)
            if tr.next != sp.initial:
                out += self.state(sp, tr.next).transitions
        return out

    @staticmethod
    def state(sp: plan.StreamPlan, name: str) -> plan.StreamState:
        return next(x for x in sp.states if x.name == name)

    def stream_decl(self, st: WireStream) -> list[str]:
        parser = self.n.type_name([*st["words"], "parser"])
        item = self.n.type_name([*st["words"], "item"])
        kinds = self.stream_items(st)
        out: list[str] = []
        if st["kind"] == "datagram":
            out += doc(st["doc"])
            msg = self.tn(kinds[0])
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
            sp = self.stream_plans[st["name"]]
            flags = sorted({b.flag for state in sp.states for tr in state.transitions for b in tr.args})
            for a in flags:
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
        for s in order:
            out += self.variants_fn(s)
            out += _Decoder(self, s, self.plans[s["name"]], "out.").fn()
            out += _Encoder(self, s, self.plans[s["name"]], "v.").fn()
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

    def to_json_expr(self, t: WireType, v: str) -> str:
        k = t["type"]
        if k in INT_MAX:
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
        if k in INT_MAX:
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
            f'    (void)r.fail({_reason(self.plans[s["name"]].whole_reason)}, "bytes left after {s["name"]}");',
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

    def read_int(self, width: str, var: str) -> str:
        return f"r.varint(r.stop, {var})" if width == "varint" else f"r.uint({INT_SIZE[width]}, r.stop, {var})"

    def stream_impl(self, st: WireStream) -> list[str]:
        fn = self.n.func(st["words"])
        sp = self.stream_plans[st["name"]]
        start = self.state(sp, sp.initial)
        if st["kind"] == "datagram":
            if start.trailing != self.plans[start.transitions[0].struct].whole_reason:
                raise WireGenError(f"cpp: {st['name']}: a datagram is decoded as one whole struct")
            msg = self.tn(start.transitions[0].struct)
            return [
                f"Result<{msg}> decode_{fn}(Bytes data) {{ return {msg}::decode(data); }}",
                "",
                "namespace {",
                f"Result<Json> parse_{fn}_json(Bytes data, std::size_t chunk) {{",
                "  (void)chunk;",
                f"  auto v = {msg}::decode(data);",
                "  if (!v) return v.error();",
                "  Json j = Json::object();",
                f'  j.set("struct", Json::string({cstr(start.transitions[0].struct)}));',
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
            f'        if (need_ > max_buffer_) return decode_error({_reason(sp.buffer_reason)}, "an item is over the buffer limit", base_);'  # noqa: E501
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
            f'      if (need_ > max_buffer_) return decode_error({_reason(sp.buffer_reason)}, "an item is over the buffer limit", base_);'  # noqa: E501
        )
        out.append("      pending_.assign(chunk.begin() + static_cast<std::ptrdiff_t>(ci + start), chunk.end());")
        out.append("      return {};")
        out.append("    }")
        out.append(
            f'    if (r.pos == start) return decode_error({_reason(sp.empty_item_reason)}, "an empty item cannot advance the stream", base_);'  # noqa: E501
        )
        out.append("    base_ += r.pos - start;")
        out.append("  }")
        out.append("  return {};")
        out.append("}")
        out.append("")
        if st["kind"] == "sequence":
            msg = self.tn(start.transitions[0].struct)
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
            frame = start.frame
            assert frame is not None
            tsize, lsize = self.read_int(frame.type, "code"), self.read_int(frame.length, "length")
            maxlen = frame.max_length
            first = len(out)
            out.append("  const std::size_t at = r.base + r.pos;  // where the message starts")
            out.append("  std::uint64_t code = 0;")
            out.append("  std::uint64_t length = 0;")
            out.append(f"  if (!{tsize} || !{lsize}) return r.err;")
            out.append("  item.code = code;")
            out.append("  quic::Reader body(Bytes(), false, 0);")
            out.append(f"  const bool too_large = length > {u64(maxlen)} || length > max_buffer_;")
            out.append("  auto open = [&]() -> Status {")
            out.append(
                f'    if (too_large) return decode_error({_reason(frame.too_large_reason)}, "a message is over the length limit", at);'  # noqa: E501
            )
            out.append("    if (length > r.stop - r.pos) {")
            out.append(
                f'      Error e = decode_error({_reason(frame.past_end_reason)}, "the stream ends inside a message", r.base + r.pos);'  # noqa: E501
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
            for tr in start.transitions:
                sn = self.tn(tr.struct)
                out += [f"    case {u64(code)}:" for code in (tr.codes or ())[:-1]]
                out.append(f"    case {u64((tr.codes or (0,))[-1])}: {{")
                out.append("      if (Status st = open(); !st) return st;")
                out.append(f"      auto& m = item.message.emplace<{sn}>();")
                out.append(f"      if (!dec(body, body.stop, {sn}::Args{{}}, m)) return body.err;")
                out.append("      break;")
                out.append("    }")
            out.append("    default:")
            out.append(
                f'      return decode_error({_reason(frame.unknown_reason)}, "{st["name"]}: unknown message type " + std::to_string(code), at);'  # noqa: E501
            )
            out.append("  }")
            out.append("  if (body.pos != body.stop) {")
            out.append(f'    (void)body.fail({_reason(frame.trailing_reason)}, "bytes left in the message");')
            out.append("    return body.err;")
            out.append("  }")
            out.append("  return {};")
            # The body above returns a Status; run it as a lambda over a new item in `out`.
            lines = ["  " + x for x in out[first:]]
            del out[first:]
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
            out.append(
                f'  return decode_error({_reason(frame.past_end_reason)}, "the stream ended inside a message", base_);'
            )
            out.append("}")
            out.append("")
        else:
            out.append(f"bool {parser}::one(quic::Reader& r, std::vector<Item>& out) {{")
            if start.peek is None or start.at_end != "truncated":
                raise WireGenError(f"cpp: {st['name']}: a stream must start with a header, its type code peeked")
            for i, h in enumerate(start.transitions):
                obj = self.state(sp, h.next).transitions[0]
                on = self.tn(obj.struct)
                out.append(f"  if (header_ == {i}) {{")
                out.append(f"    {on}::Args a;")
                for b in obj.args:
                    out.append(f"    a.{self.n.field(b.arg.split('_'))} = arg_{b.flag}_;")
                out.append(f"    auto& v = std::get<{on}>(out.emplace_back(std::in_place_type<{on}>));")
                out.append("    if (dec(r, r.stop, a, v)) return true;")
                out.append("    out.pop_back();")
                out.append("    return false;")
                out.append("  }")
            out.append("  std::uint64_t code = 0;")
            out.append("  {")
            out.append("    quic::Reader peek(Bytes(r.buf, r.stop), true, r.base);")
            out.append("    peek.pos = r.pos;")
            out.append(f"    if (!{self.read_int(start.peek, 'code').replace('r.', 'peek.')}) {{")
            out.append("      r.err = std::move(peek.err);")
            out.append("      return false;")
            out.append("    }")
            out.append("  }")
            out.append("  switch (code) {")
            for i, h in enumerate(start.transitions):
                hn = self.tn(h.struct)
                hp = self.plans[h.struct]
                labels = [f"    case {u64(code)}:" for code in h.codes or ()]
                out += labels[:-1]
                out.append(labels[-1] + " {")
                out.append(f"      auto& hv = std::get<{hn}>(out.emplace_back(std::in_place_type<{hn}>));")
                out.append(f"      if (!dec(r, r.stop, {hn}::Args{{}}, hv)) {{")
                out.append("        out.pop_back();")
                out.append("        return false;")
                out.append("      }")
                out.append(f"      header_ = {i};")
                flags = sorted({b.flag for b in self.state(sp, h.next).transitions[0].args})
                if flags and h.binds_flags:
                    code_field = self.n.field(self.structs[h.struct]["fields"][0]["words"])
                    out += [f"      bool f_{fl} = false;" for fl in hp.flags]
                    out.append(f"      (void)variant_{hn}(hv.{code_field}{''.join(', f_' + fl for fl in hp.flags)});")
                    for fl in flags:
                        out.append(f"      arg_{fl}_ = f_{fl};")
                out.append("      return true;")
                out.append("    }")
            out.append("    default:")
            out.append(
                f'      r.err = decode_error({_reason(start.unknown_reason)}, "{st["name"]}: unknown stream type " + std::to_string(code), r.base + r.pos);'  # noqa: E501
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


def _reason(reason: str) -> str:
    return "Reason::k" + "".join(w.capitalize() for w in reason.split("_"))


def _fields(ops: tuple[plan.Op, ...]) -> list[tuple[plan.Begin, list[plan.Op]]]:
    """A struct's ops split at each field's `begin`."""
    out: list[tuple[plan.Begin, list[plan.Op]]] = []
    for op in ops:
        if isinstance(op, plan.Begin):
            out.append((op, []))
        elif out:
            out[-1][1].append(op)
        else:
            raise WireGenError(f"cpp: {op.op} before the first field")
    return out


class _Codec:
    """What decoding and encoding one struct's plan share: slot names, conditions, operands.
    `obj` is how fields are reached (`out.` when decoding, `v.` when encoding)."""

    def __init__(self, e: ProtocolEmitter, s: WireStruct, sp: plan.StructPlan, obj: str) -> None:
        self.e = e
        self.s = s
        self.sp = sp
        self.obj = obj
        self.c = _Code()
        self.names: dict[str, str] = {"end": "end", "out": "out"}
        self.list_types: dict[str, plan.TypeDesc] = {}
        self.attr = {f["name"]: obj + e.n.field(f["words"]) for f in s["fields"]}

    def flag(self, name: str) -> str:
        return f"args.{self.e.n.field(name.split('_'))}" if name in self.sp.args else f"f_{name}"

    def field_value(self, field: str, optional: bool) -> str:
        return f"{self.attr[field]}.value_or(0)" if optional else self.attr[field]

    def cond(self, c: plan.Cond) -> str:
        if isinstance(c, plan.FlagIs):
            v = self.flag(c.flag)
            return v if c.value else f"!{v}"
        if c.optional and c.test != "eq":  # value_or(0) would pass a test the plan fails
            raise WireGenError(f"cpp: {self.s['name']}: a {c.test} test of the conditional field {c.field}")
        v = self.field_value(c.field, c.optional)
        if c.test in ("eq", "ne"):
            return f"{v} {'==' if c.test == 'eq' else '!='} {u64(c.values[0])}"
        if c.test in ("in", "not_in"):
            inner = " || ".join(f"{v} == {u64(x)}" for x in c.values)
            return f"({inner})" if c.test == "in" else f"!({inner})"
        return f"({v} & 1u) == {0 if c.test == 'even' else 1}"

    def operand(self, o: plan.Operand) -> str:
        if isinstance(o, plan.Var):
            if o.name not in self.names:
                self.names[o.name] = self.c.fresh("n")
            return self.names[o.name]
        if isinstance(o, plan.FieldValue):
            return self.field_value(o.field, o.optional)
        if isinstance(o, plan.Const):
            return f"{o.value}u"
        if isinstance(o, plan.Remaining):
            return f"({self.names[o.end]} - r.pos)"
        return f"{self.names[o.name]}.size()"

    def struct_args(self, struct: str, args: tuple[str, ...]) -> str:
        t = self.e.tn(struct)
        return f"{t}::Args{{{', '.join(self.flag(a.removeprefix('f_')) for a in args)}}}"

    def check(self, ind: int, op: plan.Check, fail: str) -> None:
        """An integer constraint; `fail` formats the error return from its message."""
        v = self.names[op.var]
        bound = op.bound or 0
        if op.test == "const":
            cond, msg = f"{v} != {u64(bound)}", f"not the constant {bound}"
        elif op.test == "codes":
            cond, msg = f"!{self.e.code_type(str(op.codes))}::contains({v})", f"not a {op.codes} code"
        elif op.test == "min":
            cond, msg = f"{v} < {u64(bound)}", f"below {bound}"
        elif op.test == "max":
            cond, msg = f"{v} > {u64(bound)}", f"above {bound}"
        else:
            cond, msg = f"({v} & ~{u64(bound)}) != 0", f"bits outside {bound:#x}"
        self.c.add(ind, f"if ({cond}) " + fail.format(msg=f"{op.where}: {msg}"))

    def variant_flags(self, op: plan.Variant) -> str:
        return f"variant_{self.e.tn(op.struct)}({self.names[op.var]}{''.join(', ' + f.var for f in op.flags)})"

    def prologue(self) -> None:
        if not self.sp.args:
            self.c.add(1, "(void)args;")
        for fl in self.sp.flags:
            self.c.add(1, f"bool f_{fl} = false;")


class _Decoder(_Codec):
    """A struct's decode ops as C++ reading in place into `out`. Temporaries are named as this
    target always named them, a value's names taken before its ops are written: a string's
    `raw` then its `o`, a list's `o`, a frame's `fe` before its length `n`."""

    def fn(self) -> list[str]:
        name = self.e.tn(self.s["name"])
        self.c.add(0, f"bool dec(quic::Reader& r, std::size_t end, const {name}::Args& args, {name}& out) {{")
        self.prologue()
        for begin, ops in _fields(self.sp.decode):
            self.names[begin.var] = self.attr[begin.field]
            own = [op for op in ops if not isinstance(op, (plan.Optional, plan.Variant))]
            if own:
                self.value(1, begin.var, own)
            for op in ops:
                if isinstance(op, plan.Optional):
                    self.c.add(1, f"if ({self.cond(op.cond)}) {{")
                    tmp = self.c.fresh("t")
                    self.c.add(2, f"auto& {tmp} = {self.attr[begin.field]}.emplace();")
                    self.names[op.item] = tmp
                    self.value(2, op.item, op.body)
                    self.c.add(1, "}")
                elif isinstance(op, plan.Variant):
                    self.c.add(1, f"if (!{self.variant_flags(op)}) {{")
                    msg = f'"{op.struct}: unknown type " + std::to_string({self.names[op.var]})'
                    self.c.add(2, f"return r.fail({_reason(op.reason)}, {msg});")
                    self.c.add(1, "}")
        if not self.sp.fields:
            self.c.add(1, "(void)r;")
            self.c.add(1, "(void)end;")
            self.c.add(1, "(void)out;")
        self.c.add(1, "return true;")
        self.c.add(0, "}")
        self.c.add(0, "")
        return self.c.lines

    def value(self, ind: int, target: str, ops: Sequence[plan.Op]) -> None:
        """One value's ops, its temporaries named (and a string's raw bytes declared) first."""
        kind = next(op for op in ops if getattr(op, "var", None) == target and not isinstance(op, plan.Mark))
        fresh = self.c.fresh
        if isinstance(kind, (plan.ReadBytes, plan.ReadFixed)):
            if kind.utf8:
                self.names[target + "#raw"] = fresh("raw")
                self.c.add(ind, f"Bytes {self.names[target + '#raw']};")
            self.names[target + "#o"] = fresh("o")
        if isinstance(kind, plan.NewList):
            self.names[target + "#o"] = fresh("o")
            self.c.add(ind, f"const std::size_t {self.names[target + '#o']} = r.pos;")
        if not isinstance(kind, plan.ReadInt):
            for op in ops:
                if isinstance(op, plan.OpenFrame):
                    self.names[op.var] = fresh("fe")
        self.ops(ind, target, ops)

    def ops(self, ind: int, target: str, ops: Sequence[plan.Op]) -> None:
        n, c = self.names, self.c
        for i, op in enumerate(ops):
            if isinstance(op, plan.Mark):
                if op.var == target + "_at":
                    n[op.var] = n[target + "#o"]  # a list's start, declared with the list
                else:
                    n[op.var] = c.fresh("o")
                    c.add(ind, f"const std::size_t {n[op.var]} = r.pos;")
            elif isinstance(op, plan.ReadInt):
                if op.var != target:  # a length or count (named already if an op before it read it)
                    c.add(ind, f"std::uint64_t {self.operand(plan.Var(op.var))} = 0;")
                read = "r.varint(" if op.width == "varint" else f"r.uint({INT_SIZE[op.width]}, "
                c.add(ind, f"if (!{read}{n[op.end]}, {n[op.var]})) return false;")
            elif isinstance(op, plan.Check):
                self.check(ind, op, f'return r.fail_at({_reason(op.reason)}, "{{msg}}", {n[str(op.at)]});')
            elif isinstance(op, plan.Limit):
                subject = self.operand(op.subject)
                msg = f"{op.where}: {op.unit} over {op.limit}"
                c.add(ind, f'if ({subject} > {u64(op.limit)}) return r.fail({_reason(op.reason)}, "{msg}");')
            elif isinstance(op, (plan.ReadBytes, plan.ReadFixed)):
                place = n[op.var]
                raw = n.get(op.var + "#raw", place)
                o = n[op.var + "#o"]
                c.add(ind, f"const std::size_t {o} = r.pos;")
                if isinstance(op, plan.ReadFixed):
                    c.add(ind, f"if (!r.fixed({op.size}u, {n[op.end]}, {raw})) return false;")
                else:
                    c.add(ind, f"if (!r.raw({self.operand(op.length)}, {n[op.end]}, {raw})) return false;")
                if op.utf8:
                    c.add(ind, f"if (!r.text({raw}, {o}, {place})) return false;")
                else:
                    c.add(ind, f"(void){o};")
            elif isinstance(op, plan.OpenFrame):
                if isinstance(op.length, plan.Remaining):
                    c.add(ind, f"const std::size_t {n[op.var]} = {n[op.end]};")
                else:
                    c.add(ind, f"std::size_t {n[op.var]} = 0;")
                    c.add(ind, f"if (!r.sub_end({self.operand(op.length)}, {n[op.end]}, {n[op.var]})) return false;")
            elif isinstance(op, plan.ExpectEnd):
                msg = f"{op.where}: bytes left in its frame"
                c.add(ind, f'if (r.pos != {n[op.end]}) return r.fail({_reason(op.reason)}, "{msg}");')
            elif isinstance(op, plan.DecodeStruct):
                args = self.struct_args(op.struct, op.args)
                c.add(ind, f"if (!dec(r, {n[op.end]}, {args}, {n[op.var]})) return false;")
            elif isinstance(op, plan.NewList):
                self.list_types[op.var] = op.type  # the field is the list; elements are decoded in place
            elif isinstance(op, plan.MinCount):
                subject = self.operand(op.subject)
                msg = f"{op.where}: too few elements"
                o = n[str(op.at)] if op.at else "r.pos"
                c.add(ind, f'if ({subject} < {op.min}u) return r.fail_at({_reason(op.reason)}, "{msg}", {o});')
            elif isinstance(op, plan.Need):
                count = f"static_cast<std::size_t>({self.operand(op.count)})"
                c.add(ind, f"if (!r.need({count} * {op.min_bytes}u, {n[op.end]})) return false;")
            elif isinstance(op, plan.Room):
                msg = f"{op.where}: more than {op.max} elements"
                c.add(ind, f'if ({n[op.list]}.size() >= {op.max}u) return r.fail({_reason(op.reason)}, "{msg}");')
            elif isinstance(op, (plan.Repeat, plan.UntilEnd)):
                self.loop(ind, target, op)
                if not any(isinstance(x, plan.MinCount) for x in ops[i + 1 :]):
                    c.add(ind, f"(void){n[target + '#o']};")
            elif isinstance(op, plan.Append):
                continue  # the element was decoded in place
            else:
                raise WireGenError(f"cpp: {self.s['name']}: {op.op} is not rendered here")

    def loop(self, ind: int, target: str, op: plan.Repeat | plan.UntilEnd) -> None:
        n, c = self.names, self.c
        item = next(x.item for x in op.body if isinstance(x, plan.Append))
        element = [x for x in op.body if not isinstance(x, (plan.Room, plan.Append))]
        if isinstance(op, plan.Repeat):
            count = self.operand(op.count)
            c.add(ind, f"{n[target]}.reserve(static_cast<std::size_t>({count}));")
            i = c.fresh("i")
            c.add(ind, f"for (std::uint64_t {i} = 0; {i} < {count}; ++{i}) {{")
        else:
            c.add(ind, f"while (r.pos < {n[op.end]}) {{")
        self.ops(ind + 1, target, [x for x in op.body if isinstance(x, plan.Room)])
        x = c.fresh("x")
        elem = self.list_types[target].element
        assert elem is not None
        c.add(ind + 1, f"{self.e.ctype(elem)}& {x} = {n[target]}.emplace_back();")
        n[item] = x
        self.value(ind + 1, item, element)
        c.add(ind, "}")


class _Encoder(_Codec):
    """A struct's encode ops as C++ appending to `out` (a length-prefixed value to its own buffer)."""

    def __init__(self, e: ProtocolEmitter, s: WireStruct, sp: plan.StructPlan, obj: str) -> None:
        super().__init__(e, s, sp, obj)
        self.text: dict[str, bool] = {}  # a byte slot that views a string (written through as_bytes)

    def fn(self) -> list[str]:
        name = self.e.tn(self.s["name"])
        self.c.add(0, f"Status enc(ByteVec& out, const {name}& v, const {name}::Args& args) {{")
        self.prologue()
        for begin, ops in _fields(self.sp.encode):
            self.names[begin.var] = self.attr[begin.field]
            self.ops(1, ops)
        if not self.sp.fields:
            self.c.add(1, "(void)out;")
            self.c.add(1, "(void)v;")
        self.c.add(1, "return {};")
        self.c.add(0, "}")
        self.c.add(0, "")
        return self.c.lines

    def ops(self, ind: int, ops: Sequence[plan.Op]) -> None:
        n, c = self.names, self.c
        for op in ops:
            if isinstance(op, plan.Check):
                self.check(ind, op, 'return encode_error("{msg}");')
            elif isinstance(op, plan.WriteInt):
                write = "quic::write_varint(" if op.width == "varint" else "quic::write_uint("
                size = "" if op.width == "varint" else f", {INT_SIZE[op.width]}"
                c.add(ind, f"if (Status st = {write}{n[op.out]}, {n[op.value]}{size}); !st) return st;")
            elif isinstance(op, plan.AsBytes):
                n[op.var] = n[op.value]
                self.text[op.var] = op.utf8
            elif isinstance(op, plan.Limit):
                msg = f"{op.where}: {op.unit} over {op.limit}"
                c.add(ind, f'if ({self.operand(op.subject)} > {u64(op.limit)}) return encode_error("{msg}");')
            elif isinstance(op, plan.MinCount):
                msg = f"{op.where}: fewer than {op.min} elements"
                c.add(ind, f'if ({self.operand(op.subject)} < {op.min}u) return encode_error("{msg}");')
            elif isinstance(op, plan.WriteLength):
                self.write_length(ind, op)
            elif isinstance(op, plan.WriteBytes):
                value = f"as_bytes({n[op.value]})" if self.text.get(op.value) else n[op.value]
                c.add(ind, f"append({n[op.out]}, {value});")
            elif isinstance(op, plan.EncodeStruct):
                args = self.struct_args(op.struct, op.args)
                c.add(ind, f"if (Status st = enc({n[op.out]}, {n[op.value]}, {args}); !st) return st;")
            elif isinstance(op, plan.NewBuffer):
                n[op.var] = c.fresh("buf")
                c.add(ind, f"ByteVec {n[op.var]};")
            elif isinstance(op, plan.WriteBuffer):
                c.add(ind, f"append({n[op.out]}, {n[op.buffer]});")
            elif isinstance(op, plan.ForEach):
                n[op.item] = c.fresh("x")
                c.add(ind, f"for (const auto& {n[op.item]} : {n[op.list]}) {{")
                self.ops(ind + 1, op.body)
                c.add(ind, "}")
            elif isinstance(op, plan.Optional):
                fld = n[op.var]
                text = plan_cond_text(op.cond)
                c.add(ind, f"if ({self.cond(op.cond)}) {{")
                c.add(ind + 1, f'if (!{fld}) return encode_error("{op.where} is required when {text}");')
                n[op.item] = f"(*{fld})"
                self.ops(ind + 1, op.body)
                c.add(ind, f"}} else if ({fld}) {{")
                c.add(ind + 1, f'return encode_error("{op.where} must be absent unless {text}");')
                c.add(ind, "}")
            elif isinstance(op, plan.Variant):
                c.add(ind, f'if (!{self.variant_flags(op)}) return encode_error("{op.struct}: unknown type");')
            else:
                raise WireGenError(f"cpp: {self.s['name']}: {op.op} is not rendered here")

    def write_length(self, ind: int, op: plan.WriteLength) -> None:
        subject = self.operand(op.subject)
        if op.kind == "varint":
            self.c.add(ind, f"if (Status st = quic::write_varint({self.names[op.out]}, {subject}); !st) return st;")
        elif op.kind == "field" and op.field is not None:
            ref = self.operand(op.field)
            msg = f"{op.where}: its length does not match {op.field.field}"
            self.c.add(ind, f'if ({subject} != {ref}) return encode_error("{msg}");')
        elif op.kind == "fixed":
            self.c.add(ind, f'if ({subject} != {op.size}u) return encode_error("{op.where}: length is not {op.size}");')
