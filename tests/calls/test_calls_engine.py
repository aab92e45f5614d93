"""The control plane inside the engine, end to end over its real listeners: SIGKILL during calls and restart
(no record lost, live calls ended with a stated reason), and the real curl binary over HTTP/1.1 with the token
(originate, get, list, hangup, bad bodies naming the field, missing/forged tokens, another tenant's sid).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from calls_support import EngineChild, tenant_token
from clutchcall import Call, ErrorCode, ErrorStatus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TO, FROM = "+14155550100", "+14155550199"


def _wait_status(client: httpx.Client, sid: str, status: str, timeout_s: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        call: dict[str, Any] = client.get(f"/v1/calls/{sid}").json()
        if call.get("status") == status or time.monotonic() > deadline:
            assert call.get("status") == status, call
            return call
        time.sleep(0.02)


def test_kill_9_during_calls_loses_no_record_and_ends_live_calls(tmp_path: Path) -> None:
    token = tenant_token(tmp_path, "acme")
    engine = EngineChild(tmp_path).start()
    try:
        with httpx.Client(base_url=engine.base_url, headers={"authorization": f"Bearer {token}"}) as client:
            sids = []
            for i in range(20):
                r = client.post("/v1/calls", json={"to": TO, "from": FROM, "idempotencyKey": f"k{i}"})
                assert r.status_code == 200, r.text
                sids.append(r.json()["sid"])
            for sid in sids:
                _wait_status(client, sid, "CALL_STATUS_IN_PROGRESS")
            hung_up = sids[:5]
            for sid in hung_up:
                assert client.post(f"/v1/calls/{sid}:hangup", json={}).json()["status"] == "CALL_STATUS_COMPLETED"
            engine.kill()  # SIGKILL with 15 calls in progress

            engine.start()  # the same state dir and ports
            for sid in sids:
                call = client.get(f"/v1/calls/{sid}").json()
                if sid in hung_up:
                    assert (call["status"], call["endReason"]) == ("CALL_STATUS_COMPLETED", "END_REASON_API_HANGUP")
                else:
                    assert (call["status"], call["endReason"]) == ("CALL_STATUS_FAILED", "END_REASON_NETWORK_ERROR")
                    assert "answeredAtMs" in call and "endedAtMs" in call
            listed = client.get("/v1/calls", params={"pageSize": 100}).json()
            assert sorted(c["sid"] for c in listed["calls"]) == sorted(sids)
            # The idempotency key of a call from before the crash still gives that call, not a new one.
            again = client.post("/v1/calls", json={"to": TO, "from": FROM, "idempotencyKey": "k7"}).json()
            assert again["sid"] == sids[7]
    finally:
        engine.stop()


def _curl(*args: str) -> tuple[int, dict[str, Any]]:
    out = subprocess.run(
        ["curl", "--silent", "--show-error", "--max-time", "10", "--write-out", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    body, _, code = out.rpartition("\n")
    return int(code), json.loads(body) if body else {}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_over_http1_with_the_token(tmp_path: Path) -> None:
    token = tenant_token(tmp_path, "acme")
    auth = ["--header", f"Authorization: Bearer {token}"]
    json_body = ["--header", "Content-Type: application/json", "--data"]
    with EngineChild(tmp_path) as engine:
        url = engine.base_url
        code, call = _curl(*auth, *json_body, json.dumps({"to": TO, "from": FROM}), f"{url}/v1/calls")
        assert code == 200 and call["status"] == "CALL_STATUS_DIALING" and call["tenantId"] == "acme"
        sid = call["sid"]
        assert call["uplinkTrack"] == f"voice/{sid}/uplink"
        deadline = time.monotonic() + 10
        while (got := _curl(*auth, f"{url}/v1/calls/{sid}"))[1]["status"] != "CALL_STATUS_IN_PROGRESS":
            assert time.monotonic() < deadline, got
        code, page = _curl(*auth, f"{url}/v1/calls?pageSize=1")
        assert code == 200 and [c["sid"] for c in page["calls"]] == [sid]
        code, ended = _curl(*auth, *json_body, "{}", f"{url}/v1/calls/{sid}:hangup")
        assert (code, ended["status"], ended["endReason"]) == (200, "CALL_STATUS_COMPLETED", "END_REASON_API_HANGUP")

        # Bad bodies: 400 with an ErrorStatus naming the field.
        for body, field in (
            ({"to": "4155550100", "from": FROM}, "to"),
            ({"to": TO, "from": FROM, "ringTimeoutS": 0}, "ringTimeoutS"),
            ({"to": TO, "from": FROM, "ringTimeoutS": "soon"}, "ringTimeoutS"),
            ({"to": 5, "from": FROM}, "to"),
            ({"to": TO, "from": FROM, "nope": 1}, "nope"),
        ):
            code, err = _curl(*auth, *json_body, json.dumps(body), f"{url}/v1/calls")
            assert (code, err.get("code"), err.get("field")) == (400, "ERROR_CODE_INVALID_ARGUMENT", field), body
        code, err = _curl(*auth, *json_body, "{not json", f"{url}/v1/calls")
        assert (code, err["code"]) == (400, "ERROR_CODE_INVALID_ARGUMENT")
        code, err = _curl(*auth, f"{url}/v1/calls?pageSize=5000")
        assert (code, err["field"]) == (400, "pageSize")

        # No token, a forged one, another tenant's token.
        code, err = _curl(f"{url}/v1/calls/{sid}")
        assert (code, err["code"]) == (401, "ERROR_CODE_UNAUTHENTICATED")
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        code, err = _curl("--header", f"Authorization: Bearer {forged}", f"{url}/v1/calls/{sid}")
        assert (code, err["code"]) == (401, "ERROR_CODE_UNAUTHENTICATED")
        other = ["--header", f"Authorization: Bearer {tenant_token(tmp_path, 'globex')}"]
        code, err = _curl(*other, f"{url}/v1/calls/{sid}")
        assert (code, err["code"]) == (404, "ERROR_CODE_NOT_FOUND")
        code, err = _curl(*other, *json_body, "{}", f"{url}/v1/calls/{sid}:hangup")
        assert (code, err["code"]) == (404, "ERROR_CODE_NOT_FOUND")
        code, page = _curl(*other, f"{url}/v1/calls")
        assert (code, page.get("calls", [])) == (200, [])

        # What the control plane did and refused, in the engine's Prometheus text (here on the HTTP/1.1 port).
        metrics = subprocess.run(["curl", "--silent", f"{url}/metrics"], capture_output=True, text=True).stdout
        assert "clutchcall_calls_originated_total 1.0" in metrics
        assert 'clutchcall_rpc_errors_total{code="invalid_argument"} 7.0' in metrics
        assert 'clutchcall_rpc_errors_total{code="unauthenticated"} 2.0' in metrics
        assert "clutchcall_calls_live 0.0" in metrics


_FIELDS = ["to", "from", "defaultApp", "agent", "audio", "idempotencyKey", "ringTimeoutS", "trunkId", "codec", "x"]
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_FIELDS), inner, max_size=4),
    max_leaves=12,
)
_BODIES = st.one_of(
    st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=6).map(json.dumps),
    _JSON.map(json.dumps),
    st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    state = tmp_path_factory.mktemp("fuzz")
    with EngineChild(state) as child, httpx.Client(base_url=child.base_url) as client:
        client.headers["authorization"] = f"Bearer {tenant_token(state, 'acme')}"
        yield client


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_BODIES)
def test_any_originate_body_gets_a_call_or_an_error_status_never_a_crash(engine: httpx.Client, body: str) -> None:
    r = engine.post("/v1/calls", content=body.encode("utf-8", "surrogatepass"))
    if r.status_code == 200:
        assert Call.from_json(r.json()).sid
        return
    assert r.status_code == 400, (r.status_code, r.text)
    status = ErrorStatus.from_json(r.json())
    assert status.code == ErrorCode.INVALID_ARGUMENT and status.message
