"""Server-streaming throughput: events per second per server core of one server stream (CallEvent, NDJSON over
REST on HTTP/1.1 and HTTP/3, event envelopes over the envelope RPC), beside a named peer in the same run:
aiohttp's StreamResponse writing the same NDJSON lines (`{"result": ...}\\n`) from the same generator.

Each server runs in a child process of its own (`--serve ours|aiohttp`), so its CPU seconds are its own; "per
core" is events over the server's CPU seconds in the measured window, and the last column is that over
aiohttp's. The load is the runtime's client (`ServiceClient._server_stream`, what the generated clients call)
for every row, `--concurrency` streams of `--events` events each, repeated for `--seconds`. The streamed
method is the legacy `watch_calls` descriptor with a REST route added (`GET /v1/calls:watch`), as in
tests/rpc/test_rest_streaming.py: the committed IDL has no server stream with an HTTP rule.

    python benchmarks/calls/bench_stream.py                       # 3 s per row, 4 streams of 2000 events
    python benchmarks/calls/bench_stream.py --seconds 1 --concurrency 2
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _watch() -> Any:
    from clutchcall.services import CLUTCH_CALL_CLIENT, VOICE_CALLS, HttpRule, Segment

    rule = VOICE_CALLS["list"].http
    assert rule is not None
    route = HttpRule(
        "GET", "/v1/calls:watch", (), None, (Segment("v1", False), Segment("calls", False)), "watch", None, rule.query
    )
    return dataclasses.replace(CLUTCH_CALL_CLIENT["watch_calls"], http=route)


async def _events(count: int) -> AsyncIterator[Any]:
    from clutchcall import Call, CallEvent, CallStatus

    for i in range(count):
        yield CallEvent(call=Call(sid=f"CA{i:08d}", status=CallStatus.RINGING, to="+14155550100"), sequence=i)


# ---- the servers (child processes) ----


async def serve_ours(tmp: Path) -> None:
    from clutchcall_engine.certs import make_self_signed
    from clutchcall_runtime.rpc import (
        Dispatcher,
        Endpoint,
        EnvelopeServer,
        Handler,
        Http1Server,
        RestApp,
        listen_rest_h3,
    )

    watch = _watch()

    class Watch(Handler):
        async def watch(self, request: Any, ctx: Any) -> AsyncIterator[Any]:
            async for event in _events(request.page_size or 1):
                yield event

        def endpoints(self) -> list[Endpoint]:
            return [Endpoint.server_stream(watch, self.watch)]

    tls = _tls(tmp, make_self_signed)
    dispatcher = Dispatcher([Watch()])
    app = RestApp(dispatcher)
    h1 = Http1Server(app)
    await h1.start("127.0.0.1", 0)
    h3 = await listen_rest_h3("127.0.0.1", 0, tls, app)
    envelope = EnvelopeServer(dispatcher)
    await envelope.start("127.0.0.1", 0, tls)
    assert h3._transport is not None
    ports = {"h1": h1.port, "h3": h3._transport.get_extra_info("sockname")[1], "envelope": envelope.port}
    print(json.dumps({"ports": ports}), flush=True)
    await asyncio.Event().wait()


def _tls(tmp: Path, make: Any) -> Any:
    from clutchcall_runtime.rpc import ServerTls

    cert, key = make(("localhost", "127.0.0.1"))
    (tmp / "cert.pem").write_bytes(cert)
    (tmp / "key.pem").write_bytes(key)
    return ServerTls(str(tmp / "cert.pem"), str(tmp / "key.pem"))


async def serve_aiohttp(tmp: Path) -> None:
    """The peer: the same route and lines on aiohttp's StreamResponse (chunked), no auth (neither has it here)."""
    from aiohttp import web
    from clutchcall_runtime.rpc.rest import ndjson_result

    async def watch(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "application/x-ndjson"})
        await response.prepare(request)
        async for event in _events(int(request.query.get("pageSize", "1"))):
            await response.write(ndjson_result(event))
        await response.write_eof()
        return response

    app = web.Application()
    app.add_routes([web.get("/v1/calls:watch", watch)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(json.dumps({"ports": {"h1": runner.addresses[0][1]}}), flush=True)
    await asyncio.Event().wait()


# ---- the load generator ----


class Server:
    def __init__(self, kind: str, tmp: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--tmp", str(tmp)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {kind} server did not start")
        self.ports: dict[str, int] = json.loads(line)["ports"]

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _channel(server: Server, transport: str) -> Any:
    from clutchcall_runtime.rpc import EnvelopeChannel, RestChannel, RetryPolicy, TlsOptions

    port, tls = server.ports[transport], TlsOptions(insecure=True)
    if transport == "h1":
        return RestChannel(f"http://127.0.0.1:{port}", http="h1", retry=RetryPolicy(max_attempts=1))
    if transport == "h3":
        return RestChannel(f"https://127.0.0.1:{port}", http="h3", tls=tls, retry=RetryPolicy(max_attempts=1))
    return EnvelopeChannel(f"quic://127.0.0.1:{port}", tls=tls, max_queued_events=4096)


async def _measure(server: Server, transport: str, seconds: float, concurrency: int, events: int) -> dict[str, float]:
    from clutchcall import CallEvent, ListCallsRequest
    from clutchcall_runtime.rpc import ServiceClient

    watch = _watch()
    channels = [_channel(server, transport) for _ in range(concurrency)]
    received = 0
    errors = 0
    stop_at = 0.0

    async def worker(channel: Any) -> None:
        nonlocal received, errors
        client = ServiceClient(channel)
        while time.monotonic() < stop_at:
            try:
                async for event in client._server_stream(watch, ListCallsRequest(page_size=events), CallEvent):
                    received += 1
                    assert event.call is not None
            except Exception:
                errors += 1

    stop_at = time.monotonic() + min(0.5, seconds / 4)  # warm-up, and every connection opened
    await asyncio.gather(*(worker(c) for c in channels))
    received = errors = 0
    cpu0, t0 = server.cpu_seconds(), time.monotonic()
    stop_at = t0 + seconds
    await asyncio.gather(*(worker(c) for c in channels))
    wall, cpu = time.monotonic() - t0, server.cpu_seconds() - cpu0
    for channel in channels:
        await channel.aclose()
    return {
        "events": received,
        "errors": errors,
        "eps": received / wall,
        "per_core": received / cpu if cpu > 0 else float("nan"),
        "server_cpu": cpu / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", choices=["ours", "aiohttp"], help=argparse.SUPPRESS)
    parser.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=3.0, help="measured time per row (default 3)")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent streams (default 4)")
    parser.add_argument("--events", type=int, default=2000, help="events per stream (default 2000)")
    args = parser.parse_args()
    if args.serve:
        asyncio.run((serve_ours if args.serve == "ours" else serve_aiohttp)(args.tmp))
        return

    rows: list[tuple[str, str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, transports in (("aiohttp", ["h1"]), ("ours", ["h1", "h3", "envelope"])):
            server = Server(kind, Path(tmp))
            try:
                for transport in transports:
                    result = asyncio.run(_measure(server, transport, args.seconds, args.concurrency, args.events))
                    rows.append((kind, transport, result))
            finally:
                server.close()

    peer = next(r for kind, _, r in rows if kind == "aiohttp")
    print(
        f"server streams, {args.concurrency} streams of {args.events} CallEvents, {args.seconds:g} s per row; "
        "peer: aiohttp StreamResponse (HTTP/1.1 NDJSON)"
    )
    header = f"{'server':8} {'transport':9} {'events/s':>9} {'events/core-s':>13} {'srv cpu':>7}"
    print(header + f" {'errors':>6} {'vs aiohttp':>10}")
    for kind, transport, r in rows:
        print(
            f"{kind:8} {transport:9} {r['eps']:9.0f} {r['per_core']:13.0f} {r['server_cpu']:7.2f}"
            f" {int(r['errors']):6d} {r['per_core'] / peer['per_core']:10.2f}"
        )


if __name__ == "__main__":
    main()
