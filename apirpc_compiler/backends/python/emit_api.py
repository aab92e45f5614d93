"""The Python target's `clutchcall/rpc.py`: a typed asyncio client per service, an abstract handler per
service (with its endpoints for the runtime's dispatcher), and `ApiClient` over one channel.

Everything about routes, paging and errors comes from `backends/common.py` (shared by every target's
client and server generators); this module only spells it in Python. The hand-written transports and
dispatch live in `clutchcall_runtime.rpc`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...ir.model import IR, Service
from ...ir.naming import split_words
from ..base import NameClash
from ..common import NameScope, RpcMethod, claim_types, envelope_auth, paging, pointer, rpc_methods
from .emit_messages import F, MessageEmitter
from .namer import PythonNamer
from .text import docstring, wrap_call

_BUILTIN_GENERIC = re.compile(r"\b(list|dict)\[")


def _ann(text: str) -> str:
    # A service may have a method named `list`; inside its class that name would shadow the builtin.
    return _BUILTIN_GENERIC.sub(r"_builtins.\1[", text)


def service_attr(n: PythonNamer, service: Service) -> str:
    """The `ApiClient` attribute of a service: its last dotted component (voice.calls -> calls)."""
    return n.attr_name(split_words(service["name"].rsplit(".", 1)[-1]))


def client_class(n: PythonNamer, service: Service) -> str:
    base = n.class_name(service["words"])
    return base if service["words"][-1] == "client" else base + "Client"


def handler_class(n: PythonNamer, service: Service) -> str:
    return n.class_name(service["words"]) + "Handler"


def paging_name(n: PythonNamer, method_words: list[str]) -> str:
    return n.attr_name([*method_words, "all"])


@dataclass
class _Method:
    rpc: RpcMethod
    name: str
    desc: str
    request: str
    response: str
    fields: list[F]


class RpcEmitter:
    def __init__(self, ir: IR, namer: PythonNamer) -> None:
        self.ir = ir
        self.n = namer
        self.msgs = MessageEmitter(ir, namer)
        self.used: set[str] = set()

    def _method(self, svc_const: str, rpc: RpcMethod) -> _Method:
        req = self.msgs.cls(rpc.request["name"])
        resp = self.msgs.cls(rpc.response["name"])
        fields = self.msgs.fields(rpc.request)
        self.used |= {req, resp} | {f.type_name for f in fields if f.type_name}
        return _Method(
            rpc, self.n.method_name(rpc.method["words"]), f'_s.{svc_const}["{rpc.method["name"]}"]', req, resp, fields
        )

    @staticmethod
    def _params(fields: list[F]) -> list[str]:
        return [f.param(_ann(f.ann)) for f in fields]

    @staticmethod
    def _build(cls: str, fields: list[F], indent: int) -> list[str]:
        return wrap_call(f"request = {cls}", [f"{f.attr}={f.attr}" for f in fields], "", indent)

    def _def(self, head: str, params: list[str], ret: str, is_async: bool = True) -> list[str]:
        return wrap_call(f"{'async ' if is_async else ''}def {head}", params, f" -> {ret}:", 4)

    def client(self, svc: Service, const: str) -> list[str]:
        n = self.n
        L = [f"class {client_class(n, svc)}(_rpc.ServiceClient):", docstring(svc["doc"] or svc["name"], 4)]
        for rpc in rpc_methods(self.ir, svc):
            m = self._method(const, rpc)
            doc = docstring(rpc.method["doc"] or rpc.method["name"], 8)
            kw = ["self", "*", *self._params(m.fields)] if m.fields else ["self"]
            streaming = rpc.method["streaming"]
            L.append("")
            if streaming == "client":
                it = f"_abc_t.AsyncIterable[{m.request}] | _abc_t.Iterable[{m.request}]"
                L += self._def(m.name, ["self", f"requests: {it}"], m.response)
                L += [doc, f"        return await self._client_stream({m.desc}, requests, {m.response})"]
                continue
            if streaming == "server":
                L += self._def(m.name, kw, f"_abc_t.AsyncIterator[{m.response}]", is_async=False)
                L.append(doc)
                L += self._build(m.request, m.fields, 8)
                L.append(f"        return self._server_stream({m.desc}, request, {m.response})")
                continue
            L += self._def(m.name, kw, m.response)
            L.append(doc)
            L += self._build(m.request, m.fields, 8)
            L.append(f"        return await self._unary({m.desc}, request, {m.response})")
            if rpc.paging is not None:
                pg = rpc.paging
                item = self.msgs.cls(pg.items["type"]["name"])
                self.used.add(item)
                rest = [f for f in m.fields if f.ir["name"] != pg.page_token["name"]]
                resp_attr = n.attr_name(pg.items["words"])
                L.append("")
                L += self._def(
                    paging_name(n, rpc.method["words"]),
                    ["self", "*", *self._params(rest)] if rest else ["self"],
                    f"_abc_t.AsyncIterator[{item}]",
                )
                L.append(docstring(f"Every {item} of every page of `{m.name}`, fetched one page at a time.", 8))
                L += self._build(m.request, rest, 8)
                L += wrap_call(
                    "async for page in self._pages",
                    [
                        m.desc,
                        "request",
                        m.response,
                        repr(n.attr_name(pg.page_token["words"])).replace("'", '"'),
                        repr(n.attr_name(pg.next_page_token["words"])).replace("'", '"'),
                    ],
                    ":",
                    8,
                )
                L += [f"            for item in page.{resp_attr}:", "                yield item"]
        return L

    def handler(self, svc: Service, const: str) -> list[str]:
        L = [f"class {handler_class(self.n, svc)}(_rpc.Handler):", docstring(svc["doc"] or svc["name"], 4)]
        eps: list[str] = []
        for rpc in rpc_methods(self.ir, svc):
            m = self._method(const, rpc)
            streaming = rpc.method["streaming"]
            L += ["", "    @_abc.abstractmethod"]
            if streaming == "client":
                args = ["self", f"requests: _abc_t.AsyncIterator[{m.request}]", "ctx: _rpc.RequestContext"]
                L += self._def(m.name, args, m.response)
                kind = "client_stream"
            elif streaming == "server":
                args = ["self", f"request: {m.request}", "ctx: _rpc.RequestContext"]
                L += self._def(m.name, args, f"_abc_t.AsyncIterator[{m.response}]", is_async=False)
                kind = "server_stream"
            else:
                L += self._def(m.name, ["self", f"request: {m.request}", "ctx: _rpc.RequestContext"], m.response)
                kind = "unary"
            L.append(docstring(rpc.method["doc"] or rpc.method["name"], 8))
            eps.append(f"            _rpc.Endpoint.{kind}({m.desc}, self.{m.name}),")
        L += ["", "    def endpoints(self) -> _builtins.list[_rpc.Endpoint]:", "        return [", *eps, "        ]"]
        return L

    def api_client(self) -> list[str]:
        n = self.n
        auth = envelope_auth(self.ir)
        token = "" if auth is None else f"; the token goes once per connection under method ID {auth['method_id']}"
        L = [
            "class ApiClient(_rpc.ApiClientBase):",
            docstring(
                "Every service over one channel: `ApiClient.connect_rest(url, token=..., http='h1' | 'h3')` "
                "(methods with an HTTP rule) or `ApiClient.connect_rpc('quic://host:port', token=...)` "
                f"(the envelope RPC: every method{token}, as `services.ENVELOPE_AUTH` declares).",
                4,
            ),
            "",
        ]
        for svc in self.ir["services"]:
            L.append(f"    {service_attr(n, svc)}: {client_class(n, svc)}")
        L += ["", "    def __init__(self, channel: _rpc.Channel) -> None:", "        super().__init__(channel)"]
        for svc in self.ir["services"]:
            L.append(f"        self.{service_attr(n, svc)} = {client_class(n, svc)}(channel)")
        return L

    def module_body(self) -> tuple[str, list[str]]:
        """The classes, and the DTO class names they use (for the imports)."""
        blocks: list[list[str]] = []
        for svc in self.ir["services"]:
            const = self.n.const_name(svc["words"])
            blocks.append(self.client(svc, const))
        for svc in self.ir["services"]:
            blocks.append(self.handler(svc, self.n.const_name(svc["words"])))
        blocks.append(self.api_client())
        body = "\n\n\n".join("\n".join(b) for b in blocks) + "\n"
        return body, sorted(self.used)


def check_rpc_names(ir: IR, n: PythonNamer) -> list[NameClash]:
    """Spellings rpc.py would give two things at once: classes beside the DTOs it imports, a service's
    methods and paging helpers, the handler's `endpoints`, and `ApiClient`'s service attributes."""
    out: list[NameClash] = []
    module = NameScope(out, "Python", "clutchcall/rpc.py", {"ApiClient": "the generated client of every service"})
    claim_types(module, ir, n.class_name)
    api = NameScope(out, "Python", "class ApiClient", {a: "an ApiClient method" for a in _API_CLIENT_NAMES})
    for svc in ir["services"]:
        at = pointer("services", svc["name"])
        module.claim(client_class(n, svc), f"the client of service {svc['name']}", at)
        module.claim(handler_class(n, svc), f"the handler of service {svc['name']}", at)
        api.claim(service_attr(n, svc), f"service {svc['name']}", at)
        client = NameScope(out, "Python", f"class {client_class(n, svc)}")
        handler = NameScope(
            out, "Python", f"class {handler_class(n, svc)}", {"endpoints": "the handler's endpoint list"}
        )
        for m in svc["methods"]:  # not rpc_methods(): this runs on the valid part of a broken IDL too
            m_at = pointer("services", svc["name"], "methods", m["name"])
            name = n.method_name(m["words"])
            client.claim(name, f"method {m['name']}", m_at)
            handler.claim(name, f"method {m['name']}", m_at)
            if paging(ir, m) is not None:
                client.claim(paging_name(n, m["words"]), f"the paging helper of {m['name']}", m_at)
    return out


_API_CLIENT_NAMES = ("channel", "aclose", "connect_rest", "connect_rpc")
