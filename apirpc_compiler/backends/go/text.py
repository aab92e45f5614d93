"""Small helpers for writing gofmt-clean Go text from Python.

gofmt aligns consecutive struct fields, const specs and keyed composite literals; the emitters
sidestep that by separating declarations with blank lines and keeping literals on one line, so
the output is gofmt-clean without running gofmt at generation time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from .. import wire_render
from ..common import wrap_text


class Code(wire_render.Code):
    """Go source lines with tab indentation."""

    def __init__(self) -> None:
        super().__init__("\t")

    def close(self) -> None:
        """Ends a top-level declaration: its closing brace, then a blank line."""
        self.add(0, "}")
        self.add(0, "")

    def on_err(self, ind: int, result: str = "err", call: str = "") -> None:
        """Returns `result` when `call` fails (without one, when the last call set err)."""
        self.add(ind, f"if err := {call}; err != nil {{" if call else "if err != nil {")
        self.add(ind + 1, f"return {result}")
        self.add(ind, "}")

    def switch(self, subject: str, cases: Iterable[tuple[str, str]], default: str) -> None:
        """A function body: `switch subject`, returning each case's value, else `default`."""
        self.add(1, f"switch {subject} {{" if subject else "switch {")
        for case, value in cases:
            self.add(1, f"case {case}:")
            self.add(2, f"return {value}")
        self.add(1, "}")
        self.add(1, f"return {default}")

    def doc(self, ind: int, text: str, width: int = 96) -> None:
        for line in wrap_text(text, width):
            self.add(ind, "// " + line)


def go_string(s: str) -> str:
    """A Go interpreted string literal (JSON escaping is valid Go for these inputs)."""
    out = json.dumps(s, ensure_ascii=False)
    return out.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def byte_list(data: bytes) -> str:
    return ", ".join(f"0x{b:02x}" for b in data)


def _file_header(lines: list[str]) -> str:
    """The generated-file header; a blank line keeps it out of the package doc."""
    return "\n".join("// " + line for line in lines) + "\n\n"


_STD_IMPORTS = ["encoding/json", "math", "strconv", "strings", "unicode/utf8"]


def go_file(header: list[str], doc: list[str], package: str, body: str, local_imports: list[str]) -> str:
    """A whole Go file: header comment, package doc, package clause, the imports the body uses."""
    out = [_file_header(header)]
    out.extend(("// " + line).rstrip() + "\n" for line in doc)
    out.append(f"package {package}\n")
    std = [p for p in _STD_IMPORTS if _uses(body, p)]
    local = [p for p in local_imports if _uses(body, p)]
    if std or local:
        out.append("\nimport (\n")
        out.extend(f'\t"{p}"\n' for p in std)
        if std and local:
            out.append("\n")
        # Named explicitly: internal/rt's package name is not its directory's (see rt_errors.go.j2).
        out.extend(f'\t{p.rsplit("/", 1)[-1]} "{p}"\n' for p in local)
        out.append(")\n")
    out.append("\n" + body.strip("\n") + "\n")
    return "".join(out)


def _uses(body: str, path: str) -> bool:
    return re.search(r"(?<![\w.])" + re.escape(path.rsplit("/", 1)[-1]) + r"\.", body) is not None
