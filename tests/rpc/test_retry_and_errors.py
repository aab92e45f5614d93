"""Retries happen only for idempotent methods failing with retryable codes (attempts counted at the server),
and ApiError carries the code with the HTTP status and retryability the IDL gives it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from clutchcall import ErrorCode, ErrorStatus
from clutchcall_runtime.moqt.client import Backoff
from clutchcall_runtime.rpc import ApiError, RetryPolicy
from rpc_support import TRANSPORTS, Transport, run, servers

IDL = Path(__file__).resolve().parents[2] / "api" / "clutchcall.json"
QUICK = RetryPolicy(max_attempts=4, backoff=Backoff(initial=0.001, cap=0.01))


def _err(code: ErrorCode, retry_after_ms: int | None = None) -> ApiError:
    return ApiError(code, "injected", retry_after_ms=retry_after_ms)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_idempotent_and_retryable_is_retried_until_it_succeeds(transport: Transport, tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv, srv.client(transport, retry=QUICK) as client:
            call = await client.calls.originate(to="+1", from_="+2")
            srv.store.fail["get"] = [_err(ErrorCode.UNAVAILABLE), _err(ErrorCode.RESOURCE_EXHAUSTED)]
            assert (await client.calls.get(sid=call.sid)).sid == call.sid
            assert srv.store.seen["get"] == 3

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_attempts_are_bounded(transport: Transport, tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv, srv.client(transport, retry=QUICK) as client:
            srv.store.fail["get"] = [_err(ErrorCode.DEADLINE_EXCEEDED)] * 10
            with pytest.raises(ApiError) as info:
                await client.calls.get(sid="CA1")
            assert info.value.code is ErrorCode.DEADLINE_EXCEEDED and srv.store.seen["get"] == 4

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_non_retryable_codes_are_not_retried(transport: Transport, tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv, srv.client(transport, retry=QUICK) as client:
            for code in (ErrorCode.INVALID_TRANSITION, ErrorCode.INTERNAL, ErrorCode.PERMISSION_DENIED):
                srv.store.fail["hangup"] = [_err(code), _err(code)]
                before = srv.store.seen["hangup"]
                with pytest.raises(ApiError) as info:
                    await client.calls.hangup(sid="CA1")
                assert info.value.code is code and srv.store.seen["hangup"] == before + 1

    run(main())


def test_non_idempotent_methods_are_not_retried(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv, srv.client("envelope", retry=QUICK) as client:
            srv.store.fail["dial"] = [_err(ErrorCode.UNAVAILABLE), _err(ErrorCode.UNAVAILABLE)]
            with pytest.raises(ApiError) as info:
                await client.clutch_call_client.dial(to="+1")
            assert info.value.code is ErrorCode.UNAVAILABLE and info.value.retryable
            assert srv.store.seen["dial"] == 1
            srv.store.fail["get_call"] = [_err(ErrorCode.UNAVAILABLE)]
            with pytest.raises(ApiError):  # idempotent legacy method: retried once, then NOT_FOUND
                await client.clutch_call_client.get_call(sid="CA1")
            assert srv.store.seen["get_call"] == 2

    run(main())


def test_retry_waits_at_least_retry_after(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv, srv.client("h1", retry=QUICK) as client:
            srv.store.fail["get"] = [_err(ErrorCode.RESOURCE_EXHAUSTED, retry_after_ms=300)]
            start = time.monotonic()
            with pytest.raises(ApiError) as info:
                await client.calls.get(sid="CA1")
            assert info.value.code is ErrorCode.NOT_FOUND and time.monotonic() - start >= 0.3
            assert srv.store.seen["get"] == 2

    run(main())


def test_unreachable_server_is_unavailable_and_retried(tmp_path: Path) -> None:
    async def main() -> None:
        from clutchcall.rpc import ApiClient

        async with ApiClient.connect_rest("http://127.0.0.1:9", http="h1", retry=QUICK) as client:
            with pytest.raises(ApiError) as info:
                await client.calls.get(sid="CA1")
            assert info.value.code is ErrorCode.UNAVAILABLE and client.channel.attempts == 4
            with pytest.raises(ApiError):
                await client.calls.originate(to="+1")  # idempotent in the IDL too
            assert client.channel.attempts == 8

    run(main())


def test_error_code_attributes_match_the_idl() -> None:
    values = json.loads(IDL.read_text())["enums"]["ErrorCode"]["values"]
    assert len(values) == len(ErrorCode)
    for name, spec in values.items():
        err = ApiError(spec["number"], "m")
        assert err.code.name.lower() == name
        assert err.http_status == spec["attributes"]["http_status"]
        assert err.retryable is spec["attributes"]["retryable"]


def test_api_error_round_trips_error_status() -> None:
    status = ErrorStatus(code=ErrorCode.INVALID_ARGUMENT, message="bad", field="to", retry_after_ms=5)
    err = ApiError.from_status(status)
    assert (err.code, err.message, err.field, err.retry_after_ms) == (ErrorCode.INVALID_ARGUMENT, "bad", "to", 5)
    assert err.to_status() == status and ApiError.from_status(ErrorStatus.decode(status.encode())) == err
    assert str(err) == "invalid_argument: bad (field to)"
    unknown = ApiError(977, "future code")
    assert unknown.code == 977 and unknown.http_status == 500 and not unknown.retryable
    assert ApiError.from_status(unknown.to_status()).code == 977


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_error_code_crosses_every_transport(transport: Transport, tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv, srv.client(transport, retry=RetryPolicy(max_attempts=1)) as client:
            codes = [c for c in ErrorCode if c] + [ErrorCode(0)]
            for code in codes:
                srv.store.fail["hangup"] = [ApiError(code, f"m{int(code)}", field="sid", retry_after_ms=int(code))]
                with pytest.raises(ApiError) as info:
                    await client.calls.hangup(sid="CA1")
                got = info.value
                assert (got.code, got.message, got.field, got.retry_after_ms) == (
                    code,
                    f"m{int(code)}",
                    "sid",
                    int(code),
                )
            assert srv.store.seen["hangup"] == len(codes)

    run(main())


def test_rest_status_is_the_idl_http_status(tmp_path: Path) -> None:
    async def main() -> None:
        from clutchcall_runtime.rpc.http1 import Http1Transport

        async with servers(tmp_path) as srv:
            h1 = Http1Transport(f"http://127.0.0.1:{srv.h1.port}")
            try:
                for code in ErrorCode:
                    srv.store.fail["get"] = [ApiError(code, "x", retry_after_ms=1500)]
                    status, body = await h1.request(
                        "GET", "/v1/calls/CA1", [("authorization", "Bearer tok-acme")], None
                    )
                    assert (
                        status == code.http_status
                        and json.loads(body).get("code", "ERROR_CODE_UNSPECIFIED") == code.json_name
                    )
            finally:
                await h1.aclose()

    run(main())
