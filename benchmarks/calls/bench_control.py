"""Control-plane requests per second per core and latency, over REST on HTTP/1.1 and HTTP/3 and over the
envelope RPC, beside a named peer in the same run: aiohttp (the common asyncio HTTP/1.1 server) serving the
same two routes on the same CallService, store and token check. The ratio ours/aiohttp therefore isolates
the transport and dispatch stack (routing, ProtoJSON, auth hook, error mapping) from the call logic.

Each server runs in a child process of its own (`--serve ours|aiohttp`), so its CPU seconds are its own;
"per core" is requests divided by the server's CPU seconds over the measured window. The load generator is
the generated client (clutchcall.rpc.ApiClient) for every row, `--concurrency` callers on one connection
each. The SIP gateway is replaced by one that accepts every dial at once (signalling is not measured here).

    python benchmarks/calls/bench_control.py                 # 3 s per row, 16 callers
    python benchmarks/calls/bench_control.py --seconds 1 --concurrency 8   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
TO, FROM = "+14155550100", "+14155550199"
LIMITS = {
    "limits.max_live_calls_per_tenant": "1000000",
    "limits.originate_rate_per_tenant": "1000000",
    "limits.originate_burst_per_tenant": "1000000",
}


# ---- the servers (child processes) ----


class AcceptingGateway:
    """Accepts every dial, hangup and transfer at once; calls stay dialing."""

    async def dial(self, sid: str, tenant: str, to: str, from_: str, codec: int, ring_timeout_s: float) -> None:
        return None

    async def hangup(self, sid: str) -> None:
        return None

    async def transfer(self, sid: str, to: str) -> None:
        return None


def _config(state_dir: Path) -> Any:
    from clutchcall_engine.config import load_config

    zero = "127.0.0.1:0"
    overrides = {"state_dir": state_dir, "moqt_addr": zero, "http_addr": zero, "rest_addr": zero, "rpc_addr": zero}
    return load_config(None, {**overrides, **LIMITS})


async def serve_ours(state_dir: Path) -> None:
    from clutchcall_engine.server import EngineServer

    server = EngineServer(_config(state_dir), calls=True, signalling=AcceptingGateway())
    await server.start()
    assert server.calls is not None and server.cert is not None
    ports = {"h1": server.calls.rest_port, "h3": server.http_port, "envelope": server.calls.rpc_port}
    print(json.dumps({"ports": ports, "cert_sha256": server.cert.sha256}), flush=True)
    await asyncio.Event().wait()


async def serve_aiohttp(state_dir: Path) -> None:
    """The peer: POST /v1/calls and GET /v1/calls/{sid} on aiohttp, over the same CallService."""
    from aiohttp import web
    from clutchcall import OriginateRequest
    from clutchcall.errors import DecodeError
    from clutchcall_engine.auth import Grant, verifier_for
    from clutchcall_engine.calls.handlers import authenticator
    from clutchcall_engine.calls.service import CallService
    from clutchcall_engine.calls.store import SqliteCallStore
    from clutchcall_runtime.rpc import ApiError
    from clutchcall_runtime.rpc.errors import invalid_request

    config = _config(state_dir)
    service = CallService(SqliteCallStore(config.calls_db_path), AcceptingGateway(), config.limits)
    authenticate = authenticator(verifier_for(config))

    def error(err: ApiError) -> web.Response:
        return web.Response(status=err.http_status, text=err.to_status().to_json_str(), content_type="application/json")

    async def tenant(request: web.Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        grant = await authenticate(token if scheme.lower() == "bearer" else None)
        assert isinstance(grant, Grant)
        return grant.tenant

    async def originate(request: web.Request) -> web.Response:
        try:
            dto = OriginateRequest.from_json(json.loads(await request.read()))
            call = await service.originate(await tenant(request), dto)
        except ApiError as e:
            return error(e)
        except DecodeError as e:
            return error(invalid_request(e))
        return web.Response(text=call.to_json_str(), content_type="application/json")

    async def get(request: web.Request) -> web.Response:
        try:
            call = await service.get(await tenant(request), request.match_info["sid"])
        except ApiError as e:
            return error(e)
        return web.Response(text=call.to_json_str(), content_type="application/json")

    app = web.Application()
    app.add_routes([web.post("/v1/calls", originate), web.get("/v1/calls/{sid}", get)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"ports": {"h1": port}, "cert_sha256": ""}), flush=True)
    await asyncio.Event().wait()


# ---- the load generator ----


class Server:
    def __init__(self, kind: str, state_dir: Path) -> None:
        self.kind = kind
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--state-dir", str(state_dir)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {kind} server did not start")
        info = json.loads(line)
        self.ports: dict[str, int] = info["ports"]
        self.cert_sha256: str = info["cert_sha256"]

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _client(server: Server, transport: str, token: str) -> Any:
    from clutchcall.rpc import ApiClient
    from clutchcall_runtime.rpc import RetryPolicy, TlsOptions

    no_retry = RetryPolicy(max_attempts=1)
    port = server.ports[transport]
    if transport == "h1":
        return ApiClient.connect_rest(f"http://127.0.0.1:{port}", token=token, http="h1", retry=no_retry)
    tls = TlsOptions(cert_sha256=bytes.fromhex(server.cert_sha256))
    if transport == "h3":
        return ApiClient.connect_rest(f"https://127.0.0.1:{port}", token=token, http="h3", tls=tls, retry=no_retry)
    return ApiClient.connect_rpc(f"quic://127.0.0.1:{port}", token=token, tls=tls, retry=no_retry)


async def _measure(
    server: Server, transport: str, token: str, op: str, seconds: float, concurrency: int
) -> dict[str, float]:
    clients = [_client(server, transport, token) for _ in range(concurrency)]
    sids = [(await c.calls.originate(to=TO, from_=FROM)).sid for c in clients]  # also opens each connection
    calls: list[Callable[[], Awaitable[object]]] = []
    for client, sid in zip(clients, sids, strict=True):
        if op == "get":
            calls.append(lambda client=client, sid=sid: client.calls.get(sid=sid))
        else:
            calls.append(lambda client=client: client.calls.originate(to=TO, from_=FROM))
    latencies: list[float] = []
    errors = 0
    measuring = False
    stop_at = 0.0

    async def worker(call: Callable[[], Awaitable[object]]) -> None:
        nonlocal errors
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                await call()
            except Exception:
                errors += 1
                continue
            if measuring:
                latencies.append(time.perf_counter() - t0)

    stop_at = time.monotonic() + min(0.5, seconds / 4)  # warm-up
    await asyncio.gather(*(worker(c) for c in calls))
    measuring, errors = True, 0
    cpu0, t0 = server.cpu_seconds(), time.monotonic()
    stop_at = t0 + seconds
    await asyncio.gather(*(worker(c) for c in calls))
    wall, cpu = time.monotonic() - t0, server.cpu_seconds() - cpu0
    for client in clients:
        await client.aclose()
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors,
        "rps": n / wall,
        "per_core": n / cpu if cpu > 0 else float("nan"),
        "server_cpu": cpu / wall,
        "p50_ms": statistics.median(latencies) * 1000 if n else float("nan"),
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", choices=["ours", "aiohttp"], help=argparse.SUPPRESS)
    parser.add_argument("--state-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=3.0, help="measured time per row (default 3)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent callers per row (default 16)")
    args = parser.parse_args()
    if args.serve:
        asyncio.run((serve_ours if args.serve == "ours" else serve_aiohttp)(args.state_dir))
        return

    from clutchcall_engine.auth import load_or_create_dev_key, mint_token
    from clutchcall_engine.config import DEFAULT_AUDIENCE

    rows: list[tuple[str, str, str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, transports in (("aiohttp", ["h1"]), ("ours", ["h1", "h3", "envelope"])):
            state = Path(tmp) / kind
            state.mkdir()
            key = load_or_create_dev_key(state)
            token = mint_token(key, tenant="bench", publish=[], subscribe=[], ttl_s=3600, audience=DEFAULT_AUDIENCE)
            server = Server(kind, state)
            try:
                for transport in transports:
                    for op in ("get", "originate"):
                        result = asyncio.run(_measure(server, transport, token, op, args.seconds, args.concurrency))
                        rows.append((kind, transport, op, result))
            finally:
                server.close()

    peer = {op: r for kind, _, op, r in rows if kind == "aiohttp"}
    print(f"control plane, {args.concurrency} callers, {args.seconds:g} s per row; peer: aiohttp (HTTP/1.1)")
    header = f"{'server':8} {'transport':9} {'op':9} {'req/s':>8} {'req/core-s':>10} {'srv cpu':>7}"
    print(header + f" {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'per-core vs aiohttp':>19}")
    for kind, transport, op, r in rows:
        ratio = r["per_core"] / peer[op]["per_core"]
        print(
            f"{kind:8} {transport:9} {op:9} {r['rps']:8.0f} {r['per_core']:10.0f} {r['server_cpu']:7.2f}"
            f" {r['p50_ms']:7.2f} {r['p99_ms']:7.2f} {int(r['errors']):6d} {ratio:19.2f}"
        )


if __name__ == "__main__":
    main()
