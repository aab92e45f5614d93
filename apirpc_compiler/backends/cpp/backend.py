"""The `cpp` target: a C++20 CMake package under `generated/cpp/` (target `clutchcall::sdk`).

Layout: `include/clutchcall/` (runtime.h: the one Error type, Result/Status, byte views and
the protobuf/QUIC readers; json.h; enums.h; messages.h; services.h; bridges.h; registry.h;
wire/<protocol>.h), `src/` (the matching sources), `tests/vectors_test.cc` (GoogleTest over
$CLUTCHCALL_VECTORS, default the repository's tests/vectors), `CMakeLists.txt` and
`.clang-format`. No dependency but the C++ standard library; no exceptions across the API.

The emitters write clang-format-clean text directly (the package's `.clang-format`, see
CLANG_FORMAT_STYLE); no formatter runs at generation time.
"""

from __future__ import annotations

from pathlib import Path

from ...ir.model import IR
from ..base import GeneratedFile, NameClash, header_comment, header_lines, register
from ..common import package_version, template_env, wrap_text
from .emit_api import bridges_header, services_header
from .emit_messages import MessageEmitter, message_order
from .emit_wire import ProtocolEmitter
from .namer import CppNamer, check_cpp_names

_TEMPLATES = Path(__file__).parent / "templates"
# The package's clang-format style. ColumnLimit 0 keeps the emitter's own line breaks (one
# statement per line), so the emitters produce clang-format-clean text directly, with no
# formatter run at generation time (generation is pure Python and byte-identical everywhere).
CLANG_FORMAT_STYLE = """BasedOnStyle: Google
ColumnLimit: 0
IncludeBlocks: Preserve
SortIncludes: false
SortUsingDeclarations: false
DerivePointerAlignment: false
PointerAlignment: Left
AllowShortFunctionsOnASingleLine: All
AllowShortBlocksOnASingleLine: Always
AllowShortEnumsOnASingleLine: true
PackConstructorInitializers: CurrentLine
"""


def _index(ir: IR, n: CppNamer) -> list[str]:
    """README lines naming every enum value, message field and method constant in C++ spelling."""

    def item(name: str, parts: list[str]) -> list[str]:
        lines = wrap_text(f"- `{name}`: " + ", ".join(f"`{p}`" for p in parts), 94)
        return lines[:1] + [f"  {x}" for x in lines[1:]]

    out = ["### Enums (`clutchcall/enums.h`)", ""]
    for e in ir["enums"]:
        out += item(n.type_name(e["words"]), [n.const(v["words"]) for v in e["values"]])
    out += ["", "### Messages (`clutchcall/messages.h`), with their fields", ""]
    for m in message_order(ir):
        out += item(n.type_name(m["words"]), [n.field(f["words"]) for f in m["fields"]] or ["(no fields)"])
    out += ["", "### Method IDs (`clutchcall/services.h`)", ""]
    for svc in ir["services"]:
        consts = [f"{n.const(['method', *svc['words'], *m['words']])} = {m['id']}" for m in svc["methods"]]
        out += item(svc["name"], consts or ["(no methods)"])
    return out


class CppBackend:
    name = "cpp"
    description = "C++20 CMake package (DTO codecs, ProtoJSON, services, bridges, zero-copy wire protocols), std only"

    def check_names(self, ir: IR) -> list[NameClash]:
        return check_cpp_names(ir)

    def generate(self, ir: IR) -> list[GeneratedFile]:
        n = CppNamer()
        hc = header_comment(ir)
        env = template_env(_TEMPLATES)
        reasons = [
            {"name": r["name"], "const": n.const(r["words"]), "doc": wrap_text(r["doc"], 90)}
            for r in ir["decode_errors"]
        ]
        protocols = [{"name": p["name"], "ns": n.namespace(p["words"])} for p in ir["wire"]]
        ctx = {
            "header": hc,
            "yaml_header": header_comment(ir, "#") + "\n",
            "md_header": "<!-- " + " ".join(header_lines(ir)) + " -->",
            "reasons": reasons,
            "protocols": protocols,
            "messages": [{"name": m["name"], "type": n.type_name(m["words"])} for m in message_order(ir)],
            "package": ir["package"],
            "version": package_version(ir),
            "doc": wrap_text(ir["doc"], 90),
            "clang_format": CLANG_FORMAT_STYLE,
            "index": _index(ir, n),
        }
        files: dict[str, str] = {}
        for tpl, out in (
            ("runtime.h.j2", "include/clutchcall/runtime.h"),
            ("runtime.cc.j2", "src/runtime.cc"),
            ("json.h.j2", "include/clutchcall/json.h"),
            ("json.cc.j2", "src/json.cc"),
            ("registry.h.j2", "include/clutchcall/registry.h"),
            ("registry.cc.j2", "src/registry.cc"),
            ("vectors_test.cc.j2", "tests/vectors_test.cc"),
            ("CMakeLists.txt.j2", "CMakeLists.txt"),
            ("clutchcallConfig.cmake.in.j2", "cmake/clutchcallConfig.cmake.in"),
            ("clang-format.j2", ".clang-format"),
            ("README.md.j2", "README.md"),
        ):
            files[out] = env.get_template(tpl).render(ctx)
        msgs = MessageEmitter(ir, n)

        def unit(includes: list[str], body: list[str], pragma: bool, doc_lines: list[str] | None = None) -> str:
            lines = [hc]
            if doc_lines:
                lines += ["/// @file", *[f"/// {x}" for x in doc_lines]]
            if pragma:
                lines.append("#pragma once")
            lines.append("")
            lines += [f"#include {i}" if i else "" for i in includes]
            lines += ["", "namespace clutchcall {", "", *body, "}  // namespace clutchcall", ""]
            return "\n".join(lines)

        std = ["<cstddef>", "<cstdint>", "<optional>", "<span>", "<string>", "<string_view>", "<vector>"]
        files["include/clutchcall/enums.h"] = unit(
            std, msgs.enums_header(), True, ["Enums of the API: open (any int32 is kept), with their ProtoJSON names."]
        )
        files["src/enums.cc"] = unit(['"clutchcall/enums.h"'], msgs.enums_source(), False)
        files["include/clutchcall/messages.h"] = unit(
            [*std, '"clutchcall/enums.h"', '"clutchcall/json.h"', '"clutchcall/runtime.h"'],
            msgs.messages_header(),
            True,
            ["DTO messages with the protobuf binary codec and ProtoJSON."],
        )
        files["src/messages.cc"] = unit(
            ['"clutchcall/messages.h"', "", "<cassert>", "<cmath>", "<string>", "<utility>"],
            msgs.messages_source(),
            False,
        )
        files["include/clutchcall/services.h"] = unit(
            [*std], services_header(ir, n), True, ["Method IDs and service descriptors."]
        )
        files["include/clutchcall/bridges.h"] = unit(
            [*std], bridges_header(ir, n), True, ["Media bridges and track kinds."]
        )
        for p in ir["wire"]:
            pe = ProtocolEmitter(p, n)
            ns = pe.ns
            files[f"include/clutchcall/wire/{ns}.h"] = unit(
                [*std, "<variant>", '"clutchcall/json.h"', '"clutchcall/registry.h"', '"clutchcall/runtime.h"'],
                ["namespace wire {", *pe.header(), "}  // namespace wire", "", *pe.instantiations("extern ")],
                True,
                [f"Wire protocol `{p['name']}` (family {p['family']}, version {p['version']:#x})."],
            )
            files[f"src/wire_{ns}.cc"] = unit(
                [f'"clutchcall/wire/{ns}.h"', "", "<algorithm>", "<string>", "<type_traits>", "<utility>"],
                ["namespace wire {", *pe.source(), "}  // namespace wire", "", *pe.instantiations("")],
                False,
            )
        return [GeneratedFile(path, text) for path, text in sorted(files.items())]


@register("cpp")
def _factory() -> CppBackend:
    return CppBackend()
