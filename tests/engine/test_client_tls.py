"""How the client checks the relay's certificate: a CA file, a pinned SHA-256, and a refusal that says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt.client import connect
from clutchcall_runtime.moqt.errors import ConnectError
from moqt_support import engine_config, run, token


def test_ca_file_pin_and_refusals(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            assert srv.cert is not None
            url = f"moqt://localhost:{srv.moqt_port}"
            tok = token(config)
            trusted = await connect(url, tok, cafile=str(srv.cert.cert_path))
            assert trusted.session is not None and trusted.session.setup_done
            await trusted.close()
            pinned = await connect(url, tok, cert_sha256=srv.cert.sha256)
            await pinned.close()
            with pytest.raises(ConnectError, match="does not match the pinned SHA-256"):
                await connect(url, tok, cert_sha256="00" * 32)
            with pytest.raises(ConnectError, match="self-signed certificate"):
                await connect(url, tok)  # no CA, no pin, not insecure: the system store refuses it

    run(main())
