"""The `docs` target: a Markdown reference of the API and its wire formats, from the IR.

Pages (under `generated/docs/`):
    README.md             overview, auth, index of every page, service and method
    services/<name>.md    one page per service: each method's ID, HTTP route, idempotency, streaming
    messages.md           every message: field table, oneofs, reserved
    enums.md              values, attributes, state machines (table and mermaid)
    bridges.md            track kinds, bridges, their tracks and roles
    wire.md               decode error reasons and every wire protocol (codes, structs, streams)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2

from ...ir import model as m
from ..base import GeneratedFile, NameClash, header_lines, register
from . import render

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_BLANK_RUNS = re.compile(r"\n{3,}")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=False,  # Markdown, escaped by the `cell` and `prose` filters where needed
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(cell=render.cell, prose=render.prose, code=render.code, hex=render.hex_int)
    env.globals.update(
        r=render,
        message_anchor=render.message_anchor,
        enum_anchor=render.enum_anchor,
        method_anchor=render.method_anchor,
        wire_anchor=render.wire_anchor,
        service_file=render.service_file,
        methods_by_id=render.methods_by_id,
    )
    return env


class DocsBackend:
    name = "docs"
    description = "Markdown reference of the API, its messages, enums, bridges and wire protocols"

    def __init__(self) -> None:
        self._env = _environment()

    def _page(self, ir: m.IR, template: str, path: str, **extra: Any) -> GeneratedFile:
        body = self._env.get_template(template).render(ir=ir, links=render.Links(path), **extra)
        header = "".join(f"<!-- {line} -->\n" for line in header_lines(ir))
        text = header + "\n" + body
        # Templates stay readable with loose blank lines; the output is normalized here.
        text = "\n".join(line.rstrip() for line in text.split("\n"))
        text = _BLANK_RUNS.sub("\n\n", text).strip("\n") + "\n"
        return GeneratedFile(path, text)

    def generate(self, ir: m.IR) -> list[GeneratedFile]:
        files = [
            self._page(ir, "README.md.j2", "README.md"),
            self._page(ir, "messages.md.j2", "messages.md"),
            self._page(ir, "enums.md.j2", "enums.md"),
            self._page(ir, "bridges.md.j2", "bridges.md"),
            self._page(ir, "wire.md.j2", "wire.md", struct_codes=render.struct_codes),
        ]
        for svc in ir["services"]:
            files.append(self._page(ir, "service.md.j2", render.service_file(svc["name"]), service=svc))
        return files

    def check_names(self, ir: m.IR) -> list[NameClash]:
        """Anchors and file names are lower case: names differing only by case would collide."""
        groups: list[tuple[str, list[tuple[str, str]]]] = [
            ("message", [(render.message_anchor(x["name"]), f"/messages/{x['name']}") for x in ir["messages"]]),
            ("enum", [(render.enum_anchor(x["name"]), f"/enums/{x['name']}") for x in ir["enums"]]),
            ("service", [(render.service_file(x["name"]).lower(), f"/services/{x['name']}") for x in ir["services"]]),
        ]
        for p in ir["wire"]:
            base = f"/wire/protocols/{p['name']}"
            groups.append(
                (
                    f"{p['name']} wire item",
                    [
                        (render.wire_anchor(p["name"], "codes", c["name"]), f"{base}/codes/{c['name']}")
                        for c in p["codes"]
                    ]
                    + [
                        (render.wire_anchor(p["name"], "struct", s["name"]), f"{base}/structs/{s['name']}")
                        for s in p["structs"]
                    ]
                    + [
                        (render.wire_anchor(p["name"], "stream", s["name"]), f"{base}/streams/{s['name']}")
                        for s in p["streams"]
                    ],
                )
            )
        out: list[NameClash] = []
        for what, items in groups:
            for pointer, first, key in render.clashes(items):
                out.append(
                    NameClash(
                        pointer,
                        f"{what} {pointer.rsplit('/', 1)[1]!r} and {first.rsplit('/', 1)[1]!r} differ only by case: "
                        f"both become docs anchor or file {key!r}",
                        "rename one of them",
                    )
                )
        return out


@register("docs")
def _factory() -> DocsBackend:
    return DocsBackend()
