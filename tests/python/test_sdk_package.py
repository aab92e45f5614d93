"""The generated Python package as a whole: layout, lint/type cleanliness, determinism, the
namer's clash checks, and the enum, service and bridge modules."""

from __future__ import annotations

import copy
import importlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from apirpc_compiler.backends.base import header_lines
from apirpc_compiler.backends.python.backend import PythonBackend
from apirpc_compiler.backends.python.namer import PythonNamer, check_python_names
from apirpc_compiler.ir.model import IR, Field
from apirpc_compiler.ir.naming import split_words

# The modules this part of the backend writes (clutchcall/wire/ is checked by its own tests).
OWN = ["__init__.py", "_protowire.py", "bridges.py", "enums.py", "errors.py", "messages.py", "rpc.py", "services.py"]
RUNTIME = Path(__file__).resolve().parents[2] / "runtime" / "python"  # rpc.py stands on clutchcall_runtime.rpc


@pytest.fixture(scope="module")
def cc(python_sdk: Path) -> ModuleType:
    return importlib.import_module("clutchcall")


def test_layout_and_headers(python_sdk: Path, ir: IR) -> None:
    meta = tomllib.loads((python_sdk / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "clutchcall"
    assert meta["project"]["version"] == "1.0.0"
    assert (python_sdk / "clutchcall" / "py.typed").is_file()
    assert (python_sdk / "README.md").is_file()
    head = "".join(f"# {line}\n" for line in header_lines(ir))
    for name in OWN:
        assert (python_sdk / "clutchcall" / name).read_text().startswith(head), name


def test_deterministic(ir: IR) -> None:
    a = PythonBackend().generate(ir)
    b = PythonBackend().generate(copy.deepcopy(ir))
    assert [(f.path, f.content) for f in a] == [(f.path, f.content) for f in b]


def _tool(name: str) -> list[str]:
    exe = shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} is not installed")
    return [exe]


def test_ruff_format_and_check_clean(python_sdk: Path) -> None:
    files = [str(python_sdk / "clutchcall" / n) for n in OWN]
    fmt = subprocess.run(
        [*_tool("ruff"), "format", "--check", "--diff", *files], cwd=python_sdk, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    chk = subprocess.run([*_tool("ruff"), "check", *files], cwd=python_sdk, capture_output=True, text=True)
    assert chk.returncode == 0, chk.stdout + chk.stderr


def test_mypy_strict_clean(python_sdk: Path, tmp_path: Path) -> None:
    files = [str(python_sdk / "clutchcall" / n) for n in OWN]
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path), *files],
        cwd=python_sdk,
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": f"{python_sdk}{os.pathsep}{RUNTIME}"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---- namer ----


def test_namer_spellings() -> None:
    n = PythonNamer()
    assert n.attr_name(["from"]) == "from_"
    assert n.attr_name(["match"]) == "match_"
    assert n.attr_name(["type"]) == "type_"
    assert n.attr_name(["self"]) == "self_"
    assert n.attr_name(["created", "at", "ms"]) == "created_at_ms"
    assert n.class_name(["call", "status"]) == "CallStatus"
    assert n.const_name(["g711", "ulaw"]) == "G711_ULAW"
    assert n.const_name(["none"]) == "NONE"
    assert n.module_name(["moqt", "d14"]) == "moqt_d14"


def test_real_idl_has_no_clashes(ir: IR) -> None:
    assert check_python_names(ir) == []


def _field(name: str, number: int, default: object = None) -> Field:
    return {
        "name": name,
        "words": split_words(name),
        "number": number,
        "doc": "",
        "type": {"kind": "scalar", "name": "uint32"},
        "label": "optional" if default is not None else "implicit",
        "oneof": None,
        "json_name": name,
        "wire_type": 0,
        "packed": False,
        "default": default,  # type: ignore[typeddict-item]
        "deprecated": False,
    }


def test_clashes_are_reported(ir: IR) -> None:
    bad = copy.deepcopy(ir)
    msg = next(m for m in bad["messages"] if m["name"] == "AudioShape")
    msg["fields"] += [_field("encode", 90), _field("sample_rate_or_default", 91)]
    bad["messages"].append({**copy.deepcopy(msg), "name": "DecodeError", "words": ["decode", "error"], "fields": []})
    enum = next(e for e in bad["enums"] if e["name"] == "Codec")
    enum["values"].append({**enum["values"][1], "name": "Opus", "number": 9})
    got = {c.pointer: c for c in check_python_names(bad)}
    assert "/messages/AudioShape/fields/encode" in got
    assert "/messages/AudioShape/fields/sample_rate" in got  # its accessor is taken by the new field
    assert "/messages/DecodeError" in got
    assert "/enums/Codec/values/Opus" in got
    for clash in got.values():
        assert clash.message and clash.hint


# ---- enums, services, bridges, errors ----


def test_enums(cc: ModuleType) -> None:
    cs = cc.CallStatus
    assert cs.DIALING.json_name == "CALL_STATUS_DIALING"
    assert cs.from_number(2) is cs.RINGING and cs.from_number(99) == 99
    assert cs.is_known(6) and not cs.is_known(7)
    assert cs.from_json_name("CALL_STATUS_NO_ANSWER") is cs.NO_ANSWER and cs.from_json_name("x") is None
    assert cs.can_transition(cs.DIALING, cs.RINGING)
    assert not cs.can_transition(cs.RINGING, cs.DIALING)
    assert not cs.can_transition(cs.COMPLETED, cs.FAILED)
    assert not cs.can_transition(99, cs.COMPLETED)
    assert [s for s in cs if cs.is_terminal(s)] == [cs.COMPLETED, cs.FAILED, cs.NO_ANSWER]
    assert [s for s in cs if cs.is_initial(s)] == [cs.DIALING, cs.RINGING]
    ec = cc.ErrorCode
    assert ec.NOT_FOUND.http_status == 404 and ec.UNAVAILABLE.retryable is True
    assert ec.INVALID_ARGUMENT.retryable is False
    assert cc.enums.ERROR_CODE_HTTP_STATUS.get(1234) is None
    assert cc.Codec.G711_ULAW == 3


def test_services(cc: ModuleType) -> None:
    s = cc.services
    assert s.METHOD_VOICE_CALLS_ORIGINATE == 256
    assert s.METHOD_CLUTCH_CALL_CLIENT_DIAL == 1
    d = cc.METHODS_BY_ID[257]
    assert (d.service, d.name, d.request_type, d.response_type) == ("voice.calls", "get", cc.GetCallRequest, cc.Call)
    assert d.http is not None and d.http.path == "/v1/calls/{sid}" and d.http.path_params == ("sid",)
    assert s.VOICE_AGENTS["bind"].http.body == "agent"
    assert cc.METHODS_BY_ID[5].streaming == "client" and cc.METHODS_BY_ID[5].legacy
    assert s.is_reserved_method_id(6) and s.is_reserved_method_id(7) and not s.is_reserved_method_id(8)
    assert s.RESERVED_METHOD_NAMES["ClutchCallClient"] == ("conference", "record")
    assert len(cc.METHODS_BY_ID) == 16


def test_bridges(cc: ModuleType) -> None:
    b = cc.bridges
    assert b.uplink_track("CA12") == "voice/CA12/uplink"
    assert b.downlink_track("CA12") == "voice/CA12/downlink"
    assert b.capability(cc.Codec.G711_ULAW) == "voice/g711_ulaw"
    assert b.capability("opus") == "voice/opus"
    with pytest.raises(ValueError):
        b.capability(42)
    role = b.VOICE_BRIDGE.role("attach")
    assert role.publish == ("downlink",) and role.subscribe == ("uplink",)
    assert b.TRACK_KINDS["frame"].delivery == ("subgroup", "datagram")
    assert b.BRIDGES["voice.bridge"] is b.VOICE_BRIDGE
    assert b.AUTH_CLAIMS is cc.TenantClaims and b.AUTH_SCHEME == "jwt"


def test_errors_match_the_ir(cc: ModuleType, ir: IR) -> None:
    assert {e["name"] for e in ir["decode_errors"]} == cc.DecodeErrorReason.ALL
    assert cc.DecodeErrorReason.TRUNCATED == "truncated"
    e = cc.DecodeError("truncated", "boom", 3)
    assert isinstance(e, ValueError) and e.reason == "truncated" and e.offset == 3
    assert issubclass(cc.EncodeError, ValueError)
