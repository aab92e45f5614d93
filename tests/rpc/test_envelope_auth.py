"""The envelope RPC's token convention comes from the IDL (`wire.protocols.envelope.auth`): the compiler carries
it into the IR and `clutchcall.services.ENVELOPE_AUTH`, and the runtime's client and server read it from there.
Each test fails if the IDL's value and what the runtime sends or accepts disagree."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import clutchcall_runtime.rpc.envelope as runtime_envelope
from clutchcall import ErrorCode, ErrorStatus, GetCallRequest
from clutchcall.services import ENVELOPE_AUTH, METHODS_BY_ID, VOICE_CALLS
from clutchcall.wire import envelope as wire
from clutchcall_runtime.moqt.transport import _client_config, _dial
from clutchcall_runtime.rpc import ApiError, TlsOptions
from clutchcall_runtime.rpc.envelope import ALPN, _EnvelopeClientConnection, envelope
from rpc_support import run, servers

from apirpc_compiler.backends.base import all_backends
from apirpc_compiler.backends.common import envelope_auth
from apirpc_compiler.generate import produce, write_tree
from apirpc_compiler.pipeline import compile_idl

ROOT = Path(__file__).resolve().parents[2]
IDL = ROOT / "api" / "clutchcall.json"
REQ = wire.EnvelopeKind.REQUEST


def _idl_auth_method_id() -> int:
    auth = json.loads(IDL.read_text())["wire"]["protocols"]["envelope"]["auth"]
    assert auth["token"] == "utf8_payload"
    return int(auth["method_id"])


def test_ir_generated_code_and_runtime_carry_the_idls_auth() -> None:
    ir = compile_idl(str(IDL), all_backends().values())
    auth = envelope_auth(ir)
    assert auth is not None and auth["doc"].startswith("The tenant token travels once per connection")
    assert (auth["method_id"], auth["token"]) == (_idl_auth_method_id(), "utf8_payload")
    assert ENVELOPE_AUTH is not None and (ENVELOPE_AUTH.method_id, ENVELOPE_AUTH.token) == (
        auth["method_id"],
        auth["token"],
    )
    assert auth["method_id"] == runtime_envelope.AUTH_METHOD_ID and auth["method_id"] not in METHODS_BY_ID


async def _answer_of(conn: _EnvelopeClientConnection, data: bytes) -> wire.Envelope:
    stream_id, _, answer = conn.open(4)
    conn.write(stream_id, data, True)
    got = await asyncio.wait_for(answer.queue.get(), 5)
    assert isinstance(got, wire.Envelope), got
    return got


def test_server_takes_the_token_under_the_idls_method_id_only(tmp_path: Path) -> None:
    """A raw client speaking the IDL's convention (not the runtime's constant) is authenticated; the token under
    any other ID is not a token."""
    auth_id = _idl_auth_method_id()
    get = GetCallRequest(sid="CA404").encode()

    async def main() -> None:
        async with servers(tmp_path) as srv:
            config = _client_config([ALPN], "127.0.0.1", TlsOptions(insecure=True), 10)
            conn, udp = await _dial("127.0.0.1", srv.envelope.port, config, _EnvelopeClientConnection, 5)
            assert isinstance(conn, _EnvelopeClientConnection)
            wrong = await _answer_of(conn, envelope(REQ, auth_id + 4096, 1, b"tok-acme"))
            assert wrong.kind == wire.EnvelopeKind.ERROR
            assert ApiError.from_status(ErrorStatus.decode(wrong.payload)).code is ErrorCode.UNAUTHENTICATED
            ok = await _answer_of(conn, envelope(REQ, auth_id, 2, b"tok-acme"))
            assert (ok.kind, ok.method_id, ok.request_id, ok.payload) == (wire.EnvelopeKind.RESPONSE, auth_id, 2, b"")
            answer = await _answer_of(conn, envelope(REQ, VOICE_CALLS["get"].id, 3, get))
            assert answer.kind == wire.EnvelopeKind.ERROR  # authenticated now: the call reaches the handler
            assert ApiError.from_status(ErrorStatus.decode(answer.payload)).code is ErrorCode.NOT_FOUND
            udp.close()
            async with srv.client("envelope") as client:  # the runtime's client speaks the same convention
                assert (await client.clutch_call_client.dial(to="+14155550100")).sid

    run(main())


SCRIPT = """
import asyncio, sys
from clutchcall import ErrorCode
from clutchcall.rpc import ApiClient, VoiceCallsHandler
from clutchcall.services import ENVELOPE_AUTH
from clutchcall.wire import envelope as wire
from clutchcall_runtime.moqt.transport import ServerTls, _client_config, _dial
from clutchcall_runtime.rpc import ApiError, Dispatcher, EnvelopeServer, TlsOptions
from clutchcall_runtime.rpc.envelope import ALPN, _EnvelopeClientConnection, envelope

seen = []

async def authenticate(token):
    seen.append(token)
    return "acme"

class Calls(VoiceCallsHandler):
    async def get(self, request, ctx):
        raise ApiError(ErrorCode.NOT_FOUND, f"{ctx.principal} has no {request.sid}")
    originate = list = transfer = hangup = get

async def main():
    server = EnvelopeServer(Dispatcher([Calls()], authenticate=authenticate))
    await server.start("127.0.0.1", 0, ServerTls(sys.argv[1], sys.argv[2]))
    url = f"quic://127.0.0.1:{server.port}"
    async with ApiClient.connect_rpc(url, token="tok", tls=TlsOptions(insecure=True)) as c:
        try:
            await c.calls.get(sid="CA1")
        except ApiError as err:
            print(err.code.name, err.message)
    config = _client_config([ALPN], "127.0.0.1", TlsOptions(insecure=True), 10)
    conn, udp = await _dial("127.0.0.1", server.port, config, _EnvelopeClientConnection, 5)
    stream_id, _, answer = conn.open(4)
    conn.write(stream_id, envelope(wire.EnvelopeKind.REQUEST, 0, 1, b"tok"), True)
    print(ENVELOPE_AUTH.method_id, seen, (await answer.queue.get()).kind == wire.EnvelopeKind.ERROR)
    udp.close()
    await server.stop()

asyncio.run(main())
"""


def test_an_idl_edit_of_the_auth_method_id_moves_client_and_server(tmp_path: Path) -> None:
    """Regenerated from an IDL whose auth uses method ID 4096, the runtime's client sends the token there and its
    server takes it there (and no longer under 0)."""
    from rpc_support import certificate

    doc = json.loads(IDL.read_text())
    doc["wire"]["protocols"]["envelope"]["auth"]["method_id"] = 4096
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "schema").symlink_to(IDL.parent / "schema")
    edited = tmp_path / "api" / "clutchcall.json"
    edited.write_text(json.dumps(doc, indent=2))
    backends = all_backends()
    ir = compile_idl(str(edited), backends.values())
    write_tree(tmp_path / "generated", produce(ir, {"python": backends["python"]}, {}))
    tls = certificate(tmp_path)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "generated" / "python"), str(ROOT / "runtime" / "python")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), tls.certfile, tls.keyfile],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["NOT_FOUND acme has no CA1", "4096 ['tok'] True"]
