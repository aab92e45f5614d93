"""Services (method IDs, descriptors with HTTP rules), bridges and track kinds: `services.h`."""

from __future__ import annotations

from ...ir.model import IR
from .namer import CppNamer
from .text import cstr, doc


def services_header(ir: IR, n: CppNamer) -> list[str]:
    out: list[str] = []
    out.append("/// How a method streams.")
    out += ["enum class Streaming : std::uint8_t {", "  kNone,", "  kClient,", "  kServer,", "  kBidi,", "};"]
    out.append("")
    out.append("/// The HTTP mapping of a method (control-plane REST).")
    out.append("struct HttpRule {")
    out.append("  std::string_view method;")
    out.append("  std::string_view path;")
    out.append('  std::string_view body;  ///< "*", a field name, or "" for none')
    out.append("};")
    out.append("")
    out.append("/// One method of a service.")
    out.append("struct MethodDescriptor {")
    out.append("  std::string_view service;")
    out.append("  std::string_view name;")
    out.append("  std::uint32_t id;")
    out.append("  std::string_view request;   ///< IDL message name")
    out.append("  std::string_view response;  ///< IDL message name")
    out.append("  bool idempotent;")
    out.append("  Streaming streaming;")
    out.append("  bool has_http;")
    out.append("  HttpRule http;")
    out.append("};")
    out.append("")
    out.append("/// One service and its reserved IDs and names.")
    out.append("struct ServiceDescriptor {")
    out.append("  std::string_view name;")
    out.append("  bool legacy;")
    out.append("  std::span<const MethodDescriptor> methods;")
    out.append("  std::span<const std::uint32_t> reserved_ids;  ///< inclusive [lo, hi] pairs, flattened")
    out.append("  std::span<const std::string_view> reserved_names;")
    out.append("};")
    out.append("")
    for svc in ir["services"]:
        for m in svc["methods"]:
            out += doc(f"{svc['name']}.{m['name']}: {m['doc']}")
            out.append(f"inline constexpr std::uint32_t {n.const(['method', *svc['words'], *m['words']])} = {m['id']};")
    out.append("")
    stream = {"none": "kNone", "client": "kClient", "server": "kServer", "bidi": "kBidi"}
    for svc in ir["services"]:
        base = n.const(["service", *svc["words"]])
        out += doc(svc["doc"])
        out.append(f"inline constexpr MethodDescriptor {base}Methods[] = {{")
        for m in svc["methods"]:
            h = m["http"]
            http = f"{{{cstr(h['method'])}, {cstr(h['path'])}, {cstr(h['body'] or '')}}}" if h else '{"", "", ""}'
            out.append(
                f"    {{{cstr(svc['name'])}, {cstr(m['name'])}, {m['id']}, {cstr(m['request'])}, {cstr(m['response'])}, "  # noqa: E501
                f"{'true' if m['idempotent'] else 'false'}, Streaming::{stream[m['streaming']]}, {'true' if h else 'false'}, {http}}},"  # noqa: E501
            )
        out.append("};")
        ids = [x for r in svc["reserved_ids"] for x in r]
        if ids:
            out.append(f"inline constexpr std::uint32_t {base}ReservedIds[] = {{{', '.join(str(i) for i in ids)}}};")
        if svc["reserved_names"]:
            out.append(
                f"inline constexpr std::string_view {base}ReservedNames[] = {{{', '.join(cstr(x) for x in svc['reserved_names'])}}};"  # noqa: E501
            )
        rid = f"{base}ReservedIds" if ids else "{}"
        rnm = f"{base}ReservedNames" if svc["reserved_names"] else "{}"
        out.append(
            f"inline constexpr ServiceDescriptor {base}{{{cstr(svc['name'])}, {'true' if svc['legacy'] else 'false'}, {base}Methods, {rid}, {rnm}}};"  # noqa: E501
        )
        out.append("")
    out.append("/// Every service, in IDL order.")
    out.append("inline constexpr const ServiceDescriptor* kServices[] = {")
    for svc in ir["services"]:
        out.append(f"    &{n.const(['service', *svc['words']])},")
    out.append("};")
    out.append("")
    out.append("/// The method with numeric ID `id` (IDs are unique across the API), or nullptr.")
    out.append("inline const MethodDescriptor* find_method(std::uint32_t id) noexcept {")
    out.append("  for (const ServiceDescriptor* s : kServices) {")
    out.append("    for (const auto& m : s->methods) {")
    out.append("      if (m.id == id) return &m;")
    out.append("    }")
    out.append("  }")
    out.append("  return nullptr;")
    out.append("}")
    out.append("")
    return out


def bridges_header(ir: IR, n: CppNamer) -> list[str]:
    out: list[str] = []
    out.append("/// A MoQT track kind and how it is delivered.")
    out.append("struct TrackKind {")
    out.append("  std::string_view name;")
    out.append("  bool subgroup;  ///< delivered on subgroup streams")
    out.append("  bool datagram;  ///< may be delivered as datagrams")
    out.append("  bool per_object_priority;")
    out.append("};")
    out.append("")
    out.append("inline constexpr TrackKind kTrackKinds[] = {")
    for k in ir["track_kinds"]:
        out.append(
            f"    {{{cstr(k['name'])}, {'true' if 'subgroup' in k['delivery'] else 'false'}, "
            f"{'true' if 'datagram' in k['delivery'] else 'false'}, {'true' if k['priority'] == 'per_object' else 'false'}}},"  # noqa: E501
        )
    out.append("};")
    out.append("")
    out.append("/// Fills `{name}` placeholders of a bridge template (`voice/{sid}`).")
    out.append("inline std::string fill_template(std::string_view tpl, std::string_view key, std::string_view value) {")
    out.append("  std::string out;")
    out.append('  std::string needle = "{" + std::string(key) + "}";')
    out.append("  std::size_t i = 0;")
    out.append("  while (true) {")
    out.append("    std::size_t j = tpl.find(needle, i);")
    out.append("    if (j == std::string_view::npos) break;")
    out.append("    out += tpl.substr(i, j - i);")
    out.append("    out += value;")
    out.append("    i = j + needle.size();")
    out.append("  }")
    out.append("  out += tpl.substr(i);")
    out.append("  return out;")
    out.append("}")
    out.append("")
    for b in ir["bridges"]:
        ns = n.namespace(b["words"])
        out += doc(b["doc"])
        out.append(f"namespace {ns} {{")
        out.append(f"inline constexpr std::string_view kName = {cstr(b['name'])};")
        out.append(f"inline constexpr std::string_view kNamespaceTemplate = {cstr(b['namespace'])};")
        out.append(f"inline constexpr std::string_view kCapabilityTemplate = {cstr(b['capability'])};")
        for t in b["tracks"]:
            out += doc(t["doc"])
            out.append(f"inline constexpr std::string_view {n.const(['track', *t['words']])} = {cstr(t['name'])};")
            out.append(f"/// The full track name of `{t['name']}` for call `sid`: namespace then the track name.")
            out.append(f"inline std::string {n.func([*t['words'], 'track'])}(std::string_view sid) {{")
            out.append(
                f'  return fill_template(kNamespaceTemplate, "sid", sid) + "/" + std::string({n.const(["track", *t["words"]])});'  # noqa: E501
            )
            out.append("}")
        out.append("/// The capability tag for a codec.")
        out.append("inline std::string capability(std::string_view codec) {")
        out.append('  return fill_template(kCapabilityTemplate, "codec", codec);')
        out.append("}")
        for r in b["roles"]:
            out += doc(r["doc"])
            out.append(
                f"inline constexpr std::string_view {n.const(['role', *r['words'], 'publishes'])}[] = {{{', '.join(cstr(x) for x in r['publish']) or cstr('')}}};"  # noqa: E501
            )
            out.append(
                f"inline constexpr std::string_view {n.const(['role', *r['words'], 'subscribes'])}[] = {{{', '.join(cstr(x) for x in r['subscribe']) or cstr('')}}};"  # noqa: E501
            )
        out.append(f"}}  // namespace {ns}")
        out.append("")
    return out
