"""The `python` target: an installable package `clutchcall` under `generated/python/`.

Templates (templates/*.j2) hold the module skeletons; emit_messages.py writes the per-message
codec code, which is too specialized for a template; emit_api.py the typed clients, handlers and
routing (clutchcall/rpc.py); emit_wire.py the wire-protocol modules, rendered from the IR's codec plan.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2

from ...ir.model import IR, Enum
from ..base import Backend, GeneratedFile, NameClash, header_lines, register
from ..common import RestRoute, envelope_auth, package_version, rest_route, template_env
from ..openapi import render_openapi
from .emit_api import RpcEmitter, check_rpc_names
from .emit_messages import MessageEmitter
from .emit_wire import generate_wire
from .namer import PythonNamer, check_python_names
from .text import comment_block, docstring, pyrepr, tuple_lines, wrap_call, wrap_comprehension

PKG = "clutchcall"
_TEMPLATES = Path(__file__).parent / "templates"

# Always used by the Message base class in the template.
_BASE_USES = {"_check_size", "_json_error", "_too_deep"}

_PY_ATTR_TYPE = {"bool": "bool", "string": "str", "bytes": "bytes", "float": "float", "double": "float"}


# The client names `clutchcall.moqt` (and the package, lazily) re-export from clutchcall-runtime.
NETWORK_NAMES = [
    "AuthenticationError",
    "Backoff",
    "Client",
    "ConnectError",
    "MoqtError",
    "ReceivedObject",
    "RequestError",
    "SessionClosedError",
    "Subscription",
    "TrackWriter",
    "connect",
]


def _env() -> jinja2.Environment:
    return template_env(_TEMPLATES, {"pyrepr": pyrepr, "docstring": docstring})


def _str_tuple(items: list[str]) -> str:
    return tuple_lines("", "", [pyrepr(i) for i in items], 0)[0] if items else "()"


class PythonBackend:
    name = "python"
    description = "Python package `clutchcall`: DTOs with protobuf/ProtoJSON codecs, enums, services, bridges"

    def __init__(self) -> None:
        self.namer = PythonNamer()

    def check_names(self, ir: IR) -> list[NameClash]:
        return check_python_names(ir) + check_rpc_names(ir, self.namer)

    def generate(self, ir: IR) -> list[GeneratedFile]:
        env = _env()
        header = comment_block(header_lines(ir))
        common: dict[str, Any] = {"header": header.rstrip("\n"), "package": ir["package"]}
        files: list[GeneratedFile] = []

        def put(path: str, template: str, **ctx: Any) -> None:
            files.append(GeneratedFile(path, env.get_template(template).render(**common, **ctx)))

        version = package_version(ir)
        put("pyproject.toml", "pyproject.toml.j2", version=version)
        put(
            "README.md",
            "README.md.j2",
            header_text=" ".join(header_lines(ir)),
            doc=ir["doc"],
            source=ir["source_name"],
        )
        files.append(GeneratedFile(f"{PKG}/py.typed", ""))
        # The REST surface's OpenAPI document as package data, so a server built on the SDK can serve it.
        files.append(GeneratedFile(f"{PKG}/openapi.json", render_openapi(ir)))
        put(
            f"{PKG}/errors.py",
            "errors.py.j2",
            errors=[
                {"name": e["name"], "const": self.namer.const_name(e["words"]), "doc": docstring(e["doc"], 4)}
                for e in ir["decode_errors"]
            ],
        )
        put(f"{PKG}/_protowire.py", "_protowire.py.j2")
        runtime = re.findall(r"^(?:def )?([A-Za-z]\w*)\b(?: =|\()", files[-1].content, re.M)
        put(f"{PKG}/enums.py", "enums.py.j2", enums=[self._enum_ctx(e) for e in ir["enums"]])
        put(f"{PKG}/messages.py", "messages.py.j2", **self._messages_ctx(ir, runtime))
        put(f"{PKG}/services.py", "services.py.j2", **self._services_ctx(ir))
        put(f"{PKG}/bridges.py", "bridges.py.j2", **self._bridges_ctx(ir))
        put(f"{PKG}/moqt.py", "moqt.py.j2", names=NETWORK_NAMES)
        body, used = RpcEmitter(ir, self.namer).module_body()
        enum_classes = {self.namer.class_name(e["words"]) for e in ir["enums"]}
        put(
            f"{PKG}/rpc.py",
            "rpc.py.j2",
            body=body.rstrip("\n"),
            enum_names=[u for u in used if u in enum_classes],
            message_names=[u for u in used if u not in enum_classes],
        )
        put(
            f"{PKG}/__init__.py",
            "__init__.py.j2",
            doc=docstring(ir["doc"], 0),
            version=version,
            enum_names=[self.namer.class_name(e["words"]) for e in ir["enums"]],
            message_names=[self.namer.class_name(m["words"]) for m in ir["messages"]],
            network_names=NETWORK_NAMES,
        )
        files.extend(self._wire_files(ir))
        return files

    def _wire_files(self, ir: IR) -> list[GeneratedFile]:
        return generate_wire(ir, self.namer)

    # ---- contexts ----

    def _enum_ctx(self, e: Enum) -> dict[str, Any]:
        n = self.namer
        cls = n.class_name(e["words"])
        key = n.const_name(e["words"])
        by_name = {v["name"]: n.const_name(v["words"]) for v in e["values"]}
        attrs = [
            {
                "attr": n.attr_name(a["words"]),
                "key": n.const_name(a["words"]),
                "type": _PY_ATTR_TYPE.get(a["type"], "int"),
                "doc": docstring(a["doc"] or a["name"], 8),
                "plain_doc": (a["doc"] or a["name"]).rstrip(".").replace('"', "'"),
                "pairs": [(by_name[v["name"]], pyrepr(v["attributes"][a["name"]])) for v in e["values"]],
            }
            for a in e["attributes"]
        ]
        transitions = None
        t = e["transitions"]
        if t is not None:

            def members(names: list[str]) -> list[str]:
                inner = ", ".join(f"{cls}.{by_name[x]}" for x in names) + ("," if len(names) == 1 else "")
                return [f"({inner})"] if names else []

            edges: list[str] = []
            for src, dsts in t["edges"].items():
                edges += wrap_call(f"{cls}.{by_name[src]}: frozenset", members(dsts), ",", 4)
            transitions = {
                "initial": "\n".join(
                    wrap_call(f"{key}_INITIAL: frozenset[{cls}] = frozenset", members(t["initial"]), "", 0)
                ),
                "terminal": "\n".join(
                    wrap_call(f"{key}_TERMINAL: frozenset[{cls}] = frozenset", members(t["terminal"]), "", 0)
                ),
                "edges": "\n".join(edges),
            }
        by_json = "\n".join(
            wrap_comprehension(
                f"_{key}_BY_JSON_NAME: dict[str, {cls}] = ", "{", f"_{key}_JSON_NAMES[m]: m", f"for m in {cls}", "}", 0
            )
        )
        return {
            "by_json": by_json,
            "name": e["name"],
            "cls": cls,
            "key": key,
            "doc": docstring(e["doc"] or e["name"], 4),
            "members": [
                {**v, "const": by_name[v["name"]], "doc": docstring(v["doc"] or v["name"], 4)} for v in e["values"]
            ],
            "attributes": attrs,
            "transitions": transitions,
        }

    def _messages_ctx(self, ir: IR, runtime: list[str]) -> dict[str, Any]:
        """`runtime`: the names `_protowire` defines; messages.py imports those it uses as `_name`."""
        body = MessageEmitter(ir, self.namer).module_body()
        used = set(re.findall(r"\b_[a-z0-9_]+|\b_[A-Z0-9_]+", body)) | _BASE_USES
        imports = [(name, "_" + name) for name in sorted(runtime) if "_" + name in used]
        enum_names = sorted(
            {
                self.namer.class_name(e["words"])
                for e in ir["enums"]
                if any(f["type"] == {"kind": "enum", "name": e["name"]} for m in ir["messages"] for f in m["fields"])
            }
        )
        return {"body": body.rstrip("\n"), "imports": imports, "enum_names": enum_names}

    def _services_ctx(self, ir: IR) -> dict[str, Any]:
        n = self.namer
        consts = []
        services = []
        for s in ir["services"]:
            methods = []
            for m in s["methods"]:
                const = n.const_name(["method", *s["words"], *m["words"]])
                consts.append(
                    {"const": const, "id": m["id"], "doc": docstring(f"{s['name']}.{m['name']}: {m['doc']}", 0)}
                )
                http = m["http"]
                route = None if http is None else {**http, "path_params": _str_tuple(http["path_params"])}
                methods.append(
                    {
                        **m,
                        "const": const,
                        "request": self._msg_cls(ir, m["request"]),
                        "response": self._msg_cls(ir, m["response"]),
                        "http": None if route is None else {**route, **self._route_ctx(rest_route(ir, m))},
                        "doc": pyrepr(m["doc"]),
                    }
                )
            doc = docstring(s["doc"] or s["name"], 0)
            services.append({**s, "const": n.const_name(s["words"]), "methods": methods, "doc": doc})
        ranges = [tuple(r) for s in ir["services"] for r in s["reserved_ids"]]
        reserved_ids = "(" + ", ".join(f"({lo}, {hi})" for lo, hi in ranges) + ("," if len(ranges) == 1 else "") + ")"
        names = {s["name"]: s["reserved_names"] for s in ir["services"] if s["reserved_names"]}
        reserved_names = "{" + ", ".join(f"{pyrepr(k)}: {_str_tuple(v)}" for k, v in names.items()) + "}"
        auth = envelope_auth(ir)
        return {
            "consts": consts,
            "services": services,
            "reserved_ids": reserved_ids,
            "reserved_names": reserved_names,
            "auth": None if auth is None else {**auth, "doc": docstring(auth["doc"] or "The envelope's token.", 0)},
        }

    @staticmethod
    def _route_ctx(route: RestRoute | None) -> dict[str, Any]:
        assert route is not None
        return {
            "segments": [
                {"text": s.field["json_name"] if s.field else s.text, "variable": s.field is not None}
                for s in route.segments
            ],
            "verb": route.custom_verb,
            "body_json": route.body_field["json_name"] if route.body_field else None,
            "query": [
                {"name": q.name, "json_path": _str_tuple(list(q.json_path)), "kind": q.kind, "repeated": q.repeated}
                for q in route.query
            ],
        }

    def _msg_cls(self, ir: IR, name: str) -> str:
        m = next(m for m in ir["messages"] if m["name"] == name)
        return self.namer.class_name(m["words"])

    def _bridges_ctx(self, ir: IR) -> dict[str, Any]:
        n = self.namer
        codec = next((e for e in ir["enums"] if e["words"] == ["codec"]), None)
        bridges = []
        for b in ir["bridges"]:
            ns_example = b["namespace"].replace("{sid}", "CA12")
            bridges.append(
                {
                    **b,
                    "const": n.const_name(b["words"]),
                    "docstring": docstring(b["doc"] or b["name"], 0),
                    "tracks": [
                        {**t, "fn": n.attr_name([*t["words"], "track"]), "example": f"{ns_example}/{t['name']}"}
                        for t in b["tracks"]
                    ],
                    "roles": [
                        {**r, "publish": _str_tuple(r["publish"]), "subscribe": _str_tuple(r["subscribe"])}
                        for r in b["roles"]
                    ],
                    "has_codec": "{codec}" in b["capability"],
                    "capability_fn": n.attr_name([*b["words"], "capability"])
                    if len(ir["bridges"]) > 1
                    else "capability",
                    "capability_example": b["capability"].replace("{codec}", "opus"),
                }
            )
        auth = ir["auth"]
        return {
            "codec_enum": n.class_name(codec["words"]) if codec and any(b["has_codec"] for b in bridges) else None,
            "codec_names": [(v["number"], v["name"]) for v in codec["values"]] if codec else [],
            "claims": self._msg_cls(ir, auth["claims"]) if auth else None,
            "auth": None if auth is None else {"scheme": auth["scheme"], "doc": docstring(auth["doc"] or "auth", 0)},
            "bridges": bridges,
            "track_kinds": [{**k, "delivery": _str_tuple(k["delivery"])} for k in ir["track_kinds"]],
            "example_namespace": ir["bridges"][0]["namespace"] if ir["bridges"] else "voice/{sid}",
        }


@register("python")
def _factory() -> Backend:
    return PythonBackend()
