"""The engine serves the generated OpenAPI document at /openapi.json, over HTTP/3 and HTTP/1.1."""

from __future__ import annotations

import json
from pathlib import Path

from clutchcall_engine.config import Address, EngineConfig
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.rpc import TlsOptions
from clutchcall_runtime.rpc.http1 import Http1Transport
from clutchcall_runtime.rpc.http3 import Http3Transport
from openapi_spec_validator import validate
from rpc_support import run

GENERATED = Path(__file__).resolve().parents[2] / "generated" / "openapi" / "openapi.json"


def test_engine_serves_openapi_json(tmp_path: Path) -> None:
    async def main() -> None:
        zero = Address("127.0.0.1", 0)
        config = EngineConfig(moqt_addr=zero, http_addr=zero, rest_addr=zero, rpc_addr=zero, state_dir=tmp_path)
        async with EngineServer(config, calls=True) as srv:
            assert srv.cert is not None and srv.calls is not None
            h3 = Http3Transport("127.0.0.1", srv.http_port, TlsOptions(cert_sha256=bytes.fromhex(srv.cert.sha256)))
            h1 = Http1Transport(f"http://127.0.0.1:{srv.calls.rest_port}")
            try:
                for transport in (h3, h1):
                    status, body = await transport.request("GET", "/openapi.json", [], None)
                    assert status == 200 and body == GENERATED.read_bytes()
                    validate(json.loads(body))
            finally:
                await h3.aclose()
                await h1.aclose()

    run(main())
