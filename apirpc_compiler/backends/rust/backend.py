"""The `rust` target: a dependency-free crate `clutchcall` under `generated/rust/`.

Runtime helpers (protobuf wire, QUIC varints, a small JSON reader/writer) are templates in
`templates/`; per-type code comes from the emitters (`emit_messages`, `emit_wire`, `emit_api`).
The crate's native tests read the golden vectors at run time (`CLUTCHCALL_VECTORS`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...ir.model import IR
from ..base import Backend, GeneratedFile, NameClash, header_comment, header_lines, register
from ..common import package_version, template_env
from .emit_api import bridges_rs, services_rs
from .emit_messages import MessageEmitter
from .emit_wire import wire_modules
from .namer import RustNamer, check_rust_names
from .text import Lines, doc

CRATE = "clutchcall"
_TEMPLATES = Path(__file__).parent / "templates"


class RustBackend:
    name = "rust"
    description = "Rust crate `clutchcall` (no dependencies): DTO codecs, enums, services, bridges, wire protocols"

    def __init__(self) -> None:
        self.namer = RustNamer()

    def check_names(self, ir: IR) -> list[NameClash]:
        return check_rust_names(ir)

    def generate(self, ir: IR) -> list[GeneratedFile]:
        env = template_env(_TEMPLATES)
        head = header_comment(ir)
        files: list[GeneratedFile] = []

        def put(path: str, template: str, **ctx: Any) -> None:
            files.append(GeneratedFile(path, env.get_template(template).render(header=head, **ctx)))

        def raw(path: str, body: str, preamble: str = "") -> None:
            files.append(GeneratedFile(path, head + "\n" + preamble + body))

        n = self.namer
        put("Cargo.toml", "Cargo.toml.j2", crate=CRATE, version=package_version(ir))
        files[-1] = GeneratedFile("Cargo.toml", files[-1].content.replace("// ", "# ", 2))
        put("README.md", "README.md.j2", crate=CRATE, package=ir["package"], header_text="\n".join(header_lines(ir)))
        put("src/lib.rs", "lib.rs.j2", doc="\n".join(doc(ir["doc"] or ir["package"], 0, "//!")))
        errors = [
            {
                "name": e["name"],
                "variant": n.type_name(e["words"]),
                "doc": [x.strip() for x in doc(e["doc"] or e["name"], 4)],
            }
            for e in ir["decode_errors"]
        ]
        put("src/error.rs", "error.rs.j2", errors=errors)
        put("src/json.rs", "json.rs.j2")
        put("src/protowire.rs", "protowire.rs.j2")
        me = MessageEmitter(ir, n)
        enums = Lines()
        me.enums_rs(enums)
        raw("src/enums.rs", enums.text(), "//! Every enum of the API, open: unknown numbers are kept.\n")
        msgs = Lines()
        me.messages_rs(msgs)
        head_rs = env.get_template("messages_head.rs.j2").render(
            header=head, package=ir["package"], first_message=n.type_name(ir["messages"][0]["words"])
        )
        files.append(GeneratedFile("src/messages.rs", head_rs + msgs.text()))
        put(
            "src/registry.rs",
            "registry.rs.j2",
            messages=[{"name": m["name"], "cls": n.type_name(m["words"])} for m in ir["messages"]],
        )
        raw("src/services.rs", services_rs(ir, n), "//! Method ids and service descriptors.\n\n")
        raw("src/bridges.rs", bridges_rs(ir, n), "//! MoQT media bridges: track names, roles, capability tags.\n\n")
        mods = wire_modules(ir, n)
        put(
            "src/wire/mod.rs",
            "wire/mod.rs.j2",
            modules=list(mods),
            all_modules=sorted([*mods, "quic", "stream", "value"]),
            protos=[p["name"] for p in ir["wire"]],
            envelope=next((n.plain(n.fn_name(p["words"])) for p in ir["wire"] if p["name"] == "envelope"), None),
        )
        put("src/wire/quic.rs", "wire/quic.rs.j2")
        put("src/wire/value.rs", "wire/value.rs.j2")
        put("src/wire/stream.rs", "wire/stream.rs.j2")
        for (mod, body), p in zip(mods.items(), ir["wire"], strict=True):
            pre = "\n".join(doc(f"Wire protocol `{p['name']}`: {p['doc']}", 0, "//!")) + "\n\n"
            raw(f"src/wire/{mod}.rs", body, pre)
        put("tests/vectors.rs", "tests/vectors.rs.j2", protocols=[p["name"] for p in ir["wire"]])
        put("tests/usability.rs", "tests/usability.rs.j2")
        return files


@register("rust")
def _factory() -> Backend:
    return RustBackend()
