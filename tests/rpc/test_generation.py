"""The client, the server stubs, the routing tables and the OpenAPI document come from the IDL: an IDL edit
that adds methods shows up in all of them, and a regenerated package serves and calls the new method."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from apirpc_compiler.backends.base import all_backends
from apirpc_compiler.backends.common import error_model, paging, rest_route
from apirpc_compiler.generate import produce, write_tree
from apirpc_compiler.ir.model import IR
from apirpc_compiler.pipeline import compile_idl

ROOT = Path(__file__).resolve().parents[2]
IDL = ROOT / "api" / "clutchcall.json"


def _edited_idl(tmp: Path) -> Path:
    doc = json.loads(IDL.read_text())
    doc["messages"]["MuteRequest"] = {
        "doc": "Mute or unmute the caller.",
        "fields": {
            "sid": {"number": 1, "type": "string", "doc": "The call."},
            "muted": {"number": 2, "type": "bool", "doc": "Mute when true."},
        },
    }
    doc["messages"]["SearchCallsRequest"] = {
        "doc": "Search calls.",
        "fields": {
            "to_prefix": {"number": 1, "type": "string", "doc": "Called numbers starting with this."},
            "audio": {"number": 2, "type": "AudioShape", "doc": "Only calls with this audio shape."},
            "page_token": {"number": 3, "type": "string", "doc": "Where to go on."},
            "min_duration_ms": {"number": 4, "type": "int64", "doc": "Shortest call."},
        },
    }
    methods = doc["services"]["voice.calls"]["methods"]
    methods["mute"] = {
        "id": 261,
        "request": "MuteRequest",
        "response": "Call",
        "idempotent": True,
        "http": {"method": "POST", "path": "/v1/calls/{sid}:mute", "body": "*"},
        "doc": "Mute the caller.",
    }
    methods["search"] = {
        "id": 262,
        "request": "SearchCallsRequest",
        "response": "ListCallsResponse",
        "idempotent": True,
        "http": {"method": "GET", "path": "/v1/calls:search"},
        "doc": "Search calls.",
    }
    methods["watch"] = {  # a server stream with an HTTP rule: NDJSON over REST
        "id": 263,
        "request": "ListCallsRequest",
        "response": "CallEvent",
        "idempotent": True,
        "streaming": "server",
        "http": {"method": "GET", "path": "/v1/calls:watch"},
        "doc": "Stream call events.",
    }
    out = tmp / "api"
    out.mkdir()
    (out / "schema").symlink_to(IDL.parent / "schema")
    path = out / "clutchcall.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> tuple[IR, Path]:
    tmp = tmp_path_factory.mktemp("edited")
    backends = all_backends()
    ir = compile_idl(str(_edited_idl(tmp)), backends.values())
    out = tmp / "generated"
    write_tree(out, produce(ir, {k: backends[k] for k in ("python", "openapi")}, {}))
    return ir, out


def test_common_model_of_the_new_methods(edited: tuple[IR, Path]) -> None:
    ir, _ = edited
    calls = next(s for s in ir["services"] if s["name"] == "voice.calls")
    search = next(m for m in calls["methods"] if m["name"] == "search")
    route = rest_route(ir, search)
    assert route is not None and route.custom_verb == "search" and [s.text for s in route.segments] == ["v1", "calls"]
    assert [(q.name, q.kind) for q in route.query] == [
        ("toPrefix", "string"),
        ("audio.codec", "enum"),
        ("audio.sampleRate", "int"),
        ("audio.channels", "int"),
        ("audio.frameMs", "int"),
        ("pageToken", "string"),
        ("minDurationMs", "int64"),
    ]
    pg = paging(ir, search)
    assert pg is not None and pg.items["name"] == "calls" and pg.page_size is None
    mute = rest_route(ir, next(m for m in calls["methods"] if m["name"] == "mute"))
    assert mute is not None and mute.custom_verb == "mute" and [f["name"] for f in mute.path_fields] == ["sid"]
    assert mute.query == () and mute.body == "*"
    model = error_model(ir)
    assert model is not None and model.status_message["name"] == "ErrorStatus"
    assert {c.name: (c.http_status, c.retryable) for c in model.codes}["unavailable"] == (503, True)


def test_new_methods_in_client_stubs_routes_and_openapi(edited: tuple[IR, Path]) -> None:
    _, out = edited
    rpc = (out / "python" / "clutchcall" / "rpc.py").read_text()
    assert '    async def mute(self, *, sid: str = "", muted: bool = False) -> Call:' in rpc
    assert "    async def mute(self, request: MuteRequest, ctx: _rpc.RequestContext) -> Call:" in rpc
    assert '_rpc.Endpoint.unary(_s.VOICE_CALLS["mute"], self.mute),' in rpc
    assert "    async def search_all(" in rpc
    services = (out / "python" / "clutchcall" / "services.py").read_text()
    assert 'path="/v1/calls/{sid}:mute"' in services and "METHOD_VOICE_CALLS_MUTE = 261" in services
    doc = json.loads((out / "openapi" / "openapi.json").read_text())
    validate(doc)
    op = doc["paths"]["/v1/calls/{sid}:mute"]["post"]
    assert op["operationId"] == "voiceCallsMute" and op["x-method-id"] == 261
    assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/MuteRequest"}
    search = doc["paths"]["/v1/calls:search"]["get"]
    assert [p["name"] for p in search["parameters"]][:2] == ["toPrefix", "audio.codec"]
    assert doc["components"]["schemas"]["MuteRequest"]["properties"]["muted"] == {
        "type": "boolean",
        "description": "Mute when true.",
    }
    assert (out / "python" / "clutchcall" / "openapi.json").read_text() == (
        out / "openapi" / "openapi.json"
    ).read_text()


SCRIPT = """
import asyncio
from clutchcall import Call, CallStatus
from clutchcall.rpc import ApiClient, VoiceCallsHandler
from clutchcall_runtime.rpc import Dispatcher, Http1Server, RestApp

class Calls(VoiceCallsHandler):
    async def mute(self, request, ctx):
        return Call(sid=request.sid, status=CallStatus.IN_PROGRESS if request.muted else CallStatus.RINGING)
    async def search(self, request, ctx):
        raise NotImplementedError
    originate = get = list = transfer = hangup = watch = search

async def main():
    server = Http1Server(RestApp(Dispatcher([Calls()])))
    await server.start("127.0.0.1", 0)
    async with ApiClient.connect_rest(f"http://127.0.0.1:{server.port}") as client:
        call = await client.calls.mute(sid="CA7", muted=True)
        print(call.sid, call.status.name)
    await server.stop()

asyncio.run(main())
"""


def test_regenerated_package_serves_the_new_method(edited: tuple[IR, Path], tmp_path: Path) -> None:
    _, out = edited
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(out / "python"), str(ROOT / "runtime" / "python")])}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["CA7", "IN_PROGRESS"]


def test_committed_openapi_document_validates() -> None:
    doc = json.loads((ROOT / "generated" / "openapi" / "openapi.json").read_text())
    validate(doc)
    assert doc["openapi"] == "3.1.0" and set(doc["paths"]) == {
        "/v1/calls",
        "/v1/calls/{sid}",
        "/v1/calls/{sid}:transfer",
        "/v1/calls/{sid}:hangup",
        "/v1/calls/{sid}/agent",
    }
    codes = doc["components"]["schemas"]["ErrorCode"]["x-enum-attributes"]
    assert codes["ERROR_CODE_UNAVAILABLE"] == {"http_status": 503, "retryable": True}


def test_rpc_name_clashes_are_reported(edited: tuple[IR, Path]) -> None:
    import copy

    from apirpc_compiler.backends.python.emit_api import check_rpc_names
    from apirpc_compiler.backends.python.namer import PythonNamer

    ir = copy.deepcopy(edited[0])
    assert check_rpc_names(ir, PythonNamer()) == []
    calls = next(s for s in ir["services"] if s["name"] == "voice.calls")
    template = next(m for m in calls["methods"] if m["name"] == "get")
    for name in ("endpoints", "search_all"):
        calls["methods"].append({**template, "name": name, "words": name.split("_")})
    ir["services"].append({**calls, "name": "other.calls", "words": ["other", "calls"], "methods": []})
    ir["messages"].append({**ir["messages"][0], "name": "VoiceCallsHandler", "words": ["voice", "calls", "handler"]})
    got = {(c.pointer, c.message.split(" is spelled")[0]) for c in check_rpc_names(ir, PythonNamer())}
    assert got == {
        ("/services/voice.calls/methods/endpoints", "method endpoints"),
        ("/services/voice.calls/methods/search_all", "method search_all"),  # search_all is search's helper
        ("/services/voice.calls", "the handler of service voice.calls"),
        ("/services/other.calls", "service other.calls"),
    }


def test_api_client_is_reachable_from_the_package_without_importing_the_runtime_early() -> None:
    code = (
        "import sys, clutchcall; assert 'clutchcall_runtime' not in sys.modules; "
        "from clutchcall.rpc import ApiClient; assert clutchcall.ApiClient is ApiClient; print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_new_server_stream_in_client_routes_and_openapi(edited: tuple[IR, Path]) -> None:
    """A server-streaming method with an HTTP rule: an async iterator in the client, a server_stream endpoint in
    the handler, a REST route, and an NDJSON 200 in the OpenAPI document."""
    _, out = edited
    rpc = (out / "python" / "clutchcall" / "rpc.py").read_text()
    assert "    def watch(\n" in rpc and "-> _abc_t.AsyncIterator[CallEvent]:" in rpc
    assert 'return self._server_stream(_s.VOICE_CALLS["watch"], request, CallEvent)' in rpc
    assert '_rpc.Endpoint.server_stream(_s.VOICE_CALLS["watch"], self.watch),' in rpc
    services = (out / "python" / "clutchcall" / "services.py").read_text()
    assert 'path="/v1/calls:watch"' in services and "METHOD_VOICE_CALLS_WATCH = 263" in services
    doc = json.loads((out / "openapi" / "openapi.json").read_text())
    validate(doc)
    op = doc["paths"]["/v1/calls:watch"]["get"]
    assert op["x-streaming"] == "server" and op["x-method-id"] == 263
    item = op["responses"]["200"]["content"]["application/x-ndjson"]["schema"]
    assert item["oneOf"] == [
        {
            "type": "object",
            "required": ["result"],
            "properties": {"result": {"$ref": "#/components/schemas/CallEvent"}},
        },
        {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"$ref": "#/components/schemas/ErrorStatus"}},
        },
    ]
    assert [p["name"] for p in op["parameters"]] == ["status", "pageSize", "pageToken"]


STREAM_SCRIPT = """
import asyncio, sys
from clutchcall import Call, CallEvent, ErrorCode
from clutchcall.rpc import ApiClient, VoiceCallsHandler
from clutchcall_runtime.rpc import ApiError, Dispatcher, Http1Server, RestApp, ServerTls, TlsOptions, listen_rest_h3

produced, closed = [], []

class Calls(VoiceCallsHandler):
    async def watch(self, request, ctx):
        try:
            for i in range(request.page_size or 10**9):
                produced.append(i)
                yield CallEvent(call=Call(sid=f"CA{i}"), sequence=i)
                await asyncio.sleep(0)
            raise ApiError(ErrorCode.NOT_FOUND, "gone", field="sid")
        finally:
            closed.append(len(produced))
    async def search(self, request, ctx):
        raise NotImplementedError
    originate = get = list = transfer = hangup = mute = search

async def main():
    app = RestApp(Dispatcher([Calls()]))
    h1 = Http1Server(app)
    await h1.start("127.0.0.1", 0)
    h3 = await listen_rest_h3("127.0.0.1", 0, ServerTls(sys.argv[1], sys.argv[2]), app)
    urls = {"h1": f"http://127.0.0.1:{h1.port}", "h3": f"https://127.0.0.1:{h3._transport.get_extra_info('sockname')[1]}"}
    for http, url in urls.items():
        async with ApiClient.connect_rest(url, http=http, tls=TlsOptions(insecure=True)) as client:
            got = []
            try:
                async for event in client.calls.watch(page_size=4):
                    got.append(event.sequence)
            except ApiError as err:
                print(http, got, err.code.name, err.message, err.field)
            produced.clear()
            stream = client.calls.watch()
            firsts = [(await anext(stream)).sequence for _ in range(3)]
            await stream.aclose()
            for _ in range(200):
                if len(closed) == 2:
                    break
                await asyncio.sleep(0.01)
            stopped = len(produced)
            await asyncio.sleep(0.2)
            print(http, firsts, "closed" if len(closed) == 2 else "running", stopped == len(produced))
            closed.clear()
    h3.close()
    await h1.stop()

asyncio.run(main())
"""


def test_regenerated_package_streams_the_new_method_over_both_http_versions(
    edited: tuple[IR, Path], tmp_path: Path
) -> None:
    from rpc_support import certificate

    _, out = edited
    tls = certificate(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(out / "python"), str(ROOT / "runtime" / "python")])}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(STREAM_SCRIPT), tls.certfile, tls.keyfile],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "h1 [0, 1, 2, 3] NOT_FOUND gone sid",
        "h1 [0, 1, 2] closed True",
        "h3 [0, 1, 2, 3] NOT_FOUND gone sid",
        "h3 [0, 1, 2] closed True",
    ]
