"""The `typescript` target: the npm package `@clutchcall/sdk` under `generated/typescript/`.

ESM TypeScript sources under src/ (compiled by tsc to dist/), generated from the IR only:
runtime modules come from templates/ (they change only with this backend), the per-IDL
modules from emit_messages.py and emit_wire.py. The package's own tests (test/) read the
golden vectors at run time from $CLUTCHCALL_VECTORS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...ir.model import IR
from ..base import Backend, GeneratedFile, NameClash, header_comment, header_lines, register
from ..common import package_version, template_env
from .emit_api import bridges_ts, services_ts
from .emit_messages import MessagesEmitter
from .emit_wire import WireEmitter
from .namer import TsNamer, check_typescript_names
from .text import jsdoc, obj, ts_str

_TEMPLATES = Path(__file__).parent / "templates"
# Exact devDependency versions of the package (no runtime dependencies).
DEV_DEPENDENCIES = {"@types/node": "20.19.25", "prettier": "3.6.2", "typescript": "5.9.3"}
# Runtime modules copied from templates/ (only the header is filled in).
_RUNTIME = [
    "src/errors.ts",
    "src/json.ts",
    "src/protowire.ts",
    "src/service_types.ts",
    "src/wire/quic.ts",
    "src/wire/runtime.ts",
    "test/vectors.test.ts",
    "test/usability.test.ts",
]


class TypeScriptBackend:
    name = "typescript"
    description = "TypeScript package `@clutchcall/sdk`: DTO codecs, enums, services, bridges, wire protocols"

    def __init__(self) -> None:
        self.namer = TsNamer()

    def check_names(self, ir: IR) -> list[NameClash]:
        return check_typescript_names(ir)

    def generate(self, ir: IR) -> list[GeneratedFile]:
        env = template_env(_TEMPLATES)
        header = header_comment(ir)
        files: list[GeneratedFile] = []

        def source(path: str, doc: str, lines: list[str]) -> None:
            body = "\n".join([header, *jsdoc(doc), "", *lines]) + "\n"
            files.append(GeneratedFile(path, body))

        def render(path: str, template: str, **ctx: Any) -> None:
            files.append(GeneratedFile(path, env.get_template(template).render(header=header, **ctx)))

        render(
            "package.json",
            "package.json.j2",
            header_json=[json.dumps(x) for x in header_lines(ir)],
            version=package_version(ir),
            dev=json.dumps(DEV_DEPENDENCIES, indent=2).replace("\n", "\n  "),
            description=ts_str(f"ClutchCall SDK ({ir['package']}), generated from {ir['source_name']}"),
        )
        render("tsconfig.json", "tsconfig.json.j2")
        render("tsconfig.test.json", "tsconfig.test.json.j2")
        render(".prettierignore", "prettierignore.j2", header_hash=header_lines(ir))
        render("README.md", "README.md.j2", header_text=" ".join(header_lines(ir)), package=ir["package"])
        errors = [
            {"name": e["name"], "key": e["name"], "doc": ts_str(" ".join(e["doc"].split()))}
            for e in ir["decode_errors"]
        ]
        reason_lines = obj([(e["key"], [e["doc"]]) for e in errors], 2, "", "")[1:-1]
        for path in _RUNTIME:
            render(path, path + ".j2", errors=errors, reason_lines=reason_lines)

        em = MessagesEmitter(ir, self.namer)
        source(
            "src/enums.ts", f"The enums of {ir['package']}: value constants, ProtoJSON names, helpers.", em.enums_ts()
        )
        source(
            "src/messages.ts",
            f"The messages of {ir['package']}. Implicit scalars hold their zero value when unset; "
            "optional fields, oneofs and message fields are undefined when absent. Enums are open "
            "numbers and unknown fields are kept, so a decode/encode round trip loses nothing.",
            em.messages_ts(),
        )
        source("src/services.ts", "Method IDs and service descriptors.", services_ts(ir, self.namer))
        source("src/bridges.ts", "Media bridges, MoQT track kinds and the tenant token.", bridges_ts(ir, self.namer))

        protos = []
        for p in ir["wire"]:
            mod = self.namer.file_name(p["words"])
            w = WireEmitter(p, self.namer)
            lines = w.module()
            if p["name"] == "envelope":
                # The legacy RPC envelope gets a request constructor, as in every SDK.
                lines.insert(2, 'import type { Message } from "../protowire.js";')
                lines += env.get_template("src/wire/envelope_request.ts.j2").render().splitlines()
            source(f"src/wire/{mod}.ts", f"Wire protocol `{p['name']}` (family {p['family']}). {p['doc']}", lines)
            protos.append({"module": mod, "alias": self.namer.prop_name(p["words"])})
        index = [
            'export * from "./errors.js";',
            'export * from "./json.js";',
            'export * from "./protowire.js";',
            'export * from "./service_types.js";',
            'export * from "./enums.js";',
            'export * from "./messages.js";',
            'export * from "./services.js";',
            'export * from "./bridges.js";',
            'export * from "./wire/quic.js";',
            'export * from "./wire/runtime.js";',
        ]
        index += [f'export * as {x["alias"]} from "./wire/{x["module"]}.js";' for x in protos]
        source("src/index.ts", ir["doc"] or ir["package"], index)
        return files


@register("typescript")
def _factory() -> Backend:
    return TypeScriptBackend()
