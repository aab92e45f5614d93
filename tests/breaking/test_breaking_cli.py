"""The `breaking` command: tiers, compatible changes, acknowledgements, --against, output formats
and bad input."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import test_breaking_rules_idl as rules_idl
import test_breaking_rules_wire_ir as rules_wire_ir
from breaking_helpers import ROOT, Doc, check_pair, invoke, pair, real_doc, report, triples, write

from apirpc_compiler.breaking.rules import RULES, Tier

REMOVE_TENANT = ("field-removed", "/messages/Call/fields/tenant_id")


def _remove_tenant(d: Doc) -> None:
    del d["messages"]["Call"]["fields"]["tenant_id"]


def _rename_json(d: Doc) -> None:
    d["messages"]["TenantClaims"]["fields"]["tenant_id"]["json_name"] = "subject"


# ---- coverage of the rule registry ----


def test_every_rule_has_a_triggering_case() -> None:
    covered = {rule for c in rules_idl.CASES for rule, _, _ in c.expected}
    covered |= {name for name, _, _ in rules_wire_ir.CASES}
    covered |= {"wire-struct-variant-removed", "wire-struct-variant-changed", "wire-struct-field-added"}
    assert set(RULES) - covered == set()


def test_every_rule_tier_is_exercised() -> None:
    seen = {(rule, tier) for c in rules_idl.CASES for rule, tier, _ in c.expected}
    wire_only = {r.id for r in RULES.values() if r.id.startswith("wire-") or r.id == "decode-error-removed"}
    for rule in RULES.values():
        if rule.id in wire_only:
            continue
        for tier in rule.tiers:
            assert (rule.id, tier.name) in seen, f"{rule.id} at {tier.name} has no case"


def test_docs_table_lists_every_rule_with_its_tiers() -> None:
    text = (ROOT / "docs" / "breaking.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| ([A-Z_, ]+) \|", text, re.M))
    assert set(rows) == set(RULES)
    for rule in RULES.values():
        assert rows[rule.id].strip() == ", ".join(t.name for t in rule.tiers), rule.id


def test_tiers_nest() -> None:
    # WIRE findings are reported at every tier; SOURCE findings only at SOURCE.
    assert Tier.WIRE.selected_by(Tier.WIRE) and Tier.WIRE.selected_by(Tier.SOURCE)
    assert Tier.WIRE_JSON.selected_by(Tier.WIRE_JSON) and not Tier.WIRE_JSON.selected_by(Tier.WIRE)
    assert not Tier.SOURCE.selected_by(Tier.WIRE_JSON) and Tier.SOURCE.selected_by(Tier.SOURCE)


# ---- tiers ----


def test_wire_json_change_passes_at_tier_wire(tmp_path: Path) -> None:
    code, rep = check_pair(tmp_path, _rename_json, None, "--tier", "WIRE")
    assert (code, rep["breaking"], rep["tier"]) == (0, [], "WIRE")
    code, rep = check_pair(tmp_path, _rename_json, None, "--tier", "WIRE_JSON")
    assert code == 1 and triples(rep["breaking"]) == {
        ("field-json-name-changed", "WIRE_JSON", "/messages/TenantClaims/fields/tenant_id/json_name")
    }


def test_source_change_passes_below_source(tmp_path: Path) -> None:
    def go(d: Doc) -> None:
        d["services"]["ClutchCallClient"]["methods"]["dial"]["idempotent"] = True

    for tier, want in (("WIRE", 0), ("WIRE_JSON", 0), ("SOURCE", 1)):
        code, _ = check_pair(tmp_path, go, None, "--tier", tier)
        assert code == want, tier


def test_wire_change_fails_at_every_tier(tmp_path: Path) -> None:
    for tier in ("WIRE", "WIRE_JSON", "SOURCE"):
        code, rep = check_pair(tmp_path, _remove_tenant, None, "--tier", tier)
        assert code == 1 and triples(rep["breaking"]) == {("field-removed", "WIRE", REMOVE_TENANT[1])}


# ---- compatible changes ----


def _compatible(d: Doc) -> None:
    d["doc"] += " Edited."
    d["messages"]["Call"]["doc"] = "Edited documentation."
    d["messages"]["Call"]["fields"]["sid"]["doc"] = "Edited field documentation."
    d["enums"]["CallStatus"]["values"]["ringing"]["doc"] = "Edited value documentation."
    d["services"]["voice.calls"]["methods"]["get"]["doc"] = "Edited method documentation."
    d["messages"]["Call"]["fields"]["region"] = {
        "number": 18,
        "type": "string",
        "optional": True,
        "doc": "The region serving the call.",
    }
    d["messages"]["Call"]["reserved"]["numbers"].append(30)
    d["messages"]["Call"]["reserved"]["names"].append("legacy_region")
    d["messages"]["RegionInfo"] = {
        "doc": "A region.",
        "fields": {"name": {"number": 1, "type": "string", "doc": "Its name."}},
    }
    d["enums"]["EndReason"]["values"]["voicemail"] = {"number": 9, "doc": "Went to voicemail."}
    d["services"]["voice.calls"]["methods"]["count"] = {
        "id": 261,
        "request": "ListCallsRequest",
        "response": "ListCallsResponse",
        "idempotent": True,
        "http": {"method": "GET", "path": "/v1/calls:count"},
        "doc": "Count calls.",
    }
    d["services"]["ClutchCallClient"]["methods"]["ping"] = {
        "id": 12,
        "request": "Empty",
        "response": "Empty",
        "idempotent": True,
        "doc": "Check liveness.",
    }
    # A state machine declared where there was none: old clients enforce nothing.
    d["enums"]["BargeMode"]["transitions"] = {
        "initial": ["listen"],
        "terminal": ["barge"],
        "edges": {"listen": ["whisper", "barge"], "whisper": ["barge"], "barge": []},
    }


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_compatible_changes_give_nothing(tmp_path: Path, fmt: str) -> None:
    old, new = pair(tmp_path, _compatible)
    result = invoke(str(old), str(new), "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        rep = report(result)
        assert rep["breaking"] == [] and rep["acknowledged"] == [] and rep["stale"] == []
    else:
        assert result.stdout.strip() == "no breaking changes at tier SOURCE"


def test_identical_files_give_nothing(tmp_path: Path) -> None:
    code, rep = check_pair(tmp_path)
    assert (code, rep["breaking"]) == (0, [])
    result = invoke(str(ROOT / "api" / "clutchcall.json"), str(ROOT / "api" / "clutchcall.json"))
    assert result.exit_code == 0 and "no breaking changes" in result.stdout


# ---- output ----


def test_json_schema(tmp_path: Path) -> None:
    code, rep = check_pair(tmp_path, _remove_tenant)
    assert code == 1
    assert set(rep) == {"tier", "breaking", "acknowledged", "stale"}
    (entry,) = rep["breaking"]
    assert set(entry) == {"rule", "tier", "pointer", "message", "file", "line", "column"}
    assert isinstance(entry["line"], int) and isinstance(entry["column"], int)
    assert entry["message"] == (
        "field Call.tenant_id (16) was removed without reserving its number 16 and name 'tenant_id'"
    )


def test_text_output_locates_findings_in_new(tmp_path: Path) -> None:
    def go(d: Doc) -> None:
        _remove_tenant(d)
        d["messages"]["Call"]["fields"]["created_at_ms"]["type"] = "uint64"

    old, new = pair(tmp_path, go)
    result = invoke(str(old), str(new))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-1] == "2 breaking changes at tier SOURCE"
    new_lines = new.read_text(encoding="utf-8").splitlines()
    pattern = re.compile(rf"^{re.escape(str(new))}:(\d+):(\d+): \[([a-z-]+)\] (.*) \((WIRE|WIRE_JSON|SOURCE)\)$")
    parsed = {}
    for line in lines[:-1]:
        match = pattern.match(line)
        assert match, line
        parsed[match.group(3)] = (int(match.group(1)), int(match.group(2)), match.group(5))
    # The type change is located at the field itself; the removed field at Call's "fields" in NEW.
    line, _, tier = parsed["field-type-changed"]
    assert new_lines[line - 1].strip() == '"type": "uint64",' and tier == "WIRE_JSON"
    line, col, tier = parsed["field-removed"]
    assert new_lines[line - 1][col - 1 :].startswith('"fields"') and tier == "WIRE"
    call_line = next(i for i, text in enumerate(new_lines) if text.strip().startswith('"Call": {'))
    assert line > call_line


# ---- acknowledgements ----


def _ack_file(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"acknowledged": entries}, indent=2), encoding="utf-8")
    return path


def test_default_ack_file_next_to_new(tmp_path: Path) -> None:
    old, new = pair(tmp_path, _remove_tenant)
    _ack_file(
        new.parent / "breaking-ack.json",
        [{"rule": REMOVE_TENANT[0], "pointer": REMOVE_TENANT[1], "reason": "moved to the token"}],
    )
    result = invoke(str(old), str(new), "--format", "json")
    assert result.exit_code == 0, result.output
    rep = report(result)
    assert rep["breaking"] == [] and rep["stale"] == []
    (acked,) = rep["acknowledged"]
    assert (acked["rule"], acked["pointer"], acked["tier"], acked["reason"]) == (
        *REMOVE_TENANT,
        "WIRE",
        "moved to the token",
    )
    text = invoke(str(old), str(new))
    assert text.exit_code == 0
    assert "acknowledged: [field-removed]" in text.stdout and "reason: moved to the token" in text.stdout
    assert text.stdout.splitlines()[-1] == "no breaking changes at tier SOURCE, 1 acknowledged"


def test_ack_only_covers_its_finding_and_stale_acks_are_reported(tmp_path: Path) -> None:
    def go(d: Doc) -> None:
        _remove_tenant(d)
        d["services"]["ClutchCallClient"]["methods"]["dial"]["idempotent"] = True

    old, new = pair(tmp_path, go)
    ack = _ack_file(
        tmp_path / "acks.json",
        [
            {"rule": REMOVE_TENANT[0], "pointer": REMOVE_TENANT[1], "reason": "intended"},
            {"rule": "field-removed", "pointer": "/messages/Call/fields/sid", "reason": "never happened"},
        ],
    )
    result = invoke(str(old), str(new), "--ack", str(ack), "--format", "json")
    assert result.exit_code == 1
    rep = report(result)
    assert triples(rep["breaking"]) == {
        ("method-idempotency-changed", "SOURCE", "/services/ClutchCallClient/methods/dial/idempotent")
    }
    assert [(a["rule"], a["pointer"]) for a in rep["acknowledged"]] == [REMOVE_TENANT]
    assert [(s["pointer"], s["why"]) for s in rep["stale"]] == [
        ("/messages/Call/fields/sid", "matches no breaking change")
    ]
    text = invoke(str(old), str(new), "--ack", str(ack))
    assert "warning: stale acknowledgement #1 [field-removed] /messages/Call/fields/sid" in text.stderr
    assert text.stdout.splitlines()[-1] == ("1 breaking change at tier SOURCE, 1 acknowledged, 1 stale acknowledgement")


def test_ack_against_a_baseline(tmp_path: Path) -> None:
    old, new = pair(tmp_path, _remove_tenant)
    old_sha = hashlib.sha256(old.read_bytes()).hexdigest()
    entry = {"rule": REMOVE_TENANT[0], "pointer": REMOVE_TENANT[1], "reason": "intended"}
    ack = _ack_file(tmp_path / "a.json", [{**entry, "against": old_sha}])
    assert invoke(str(old), str(new), "--ack", str(ack)).exit_code == 0
    ack = _ack_file(tmp_path / "b.json", [{**entry, "against": "0" * 64}])
    result = invoke(str(old), str(new), "--ack", str(ack), "--format", "json")
    assert result.exit_code == 1
    assert report(result)["stale"][0]["why"] == f"applies to baseline {'0' * 64}, not this one"


@pytest.mark.parametrize(
    "content,needle",
    [
        ("{", "not valid JSON"),
        ('{"acknowledged": [{"rule": "no-such-rule", "pointer": "/x", "reason": "r"}]}', "is not a breaking rule"),
        ('{"acknowledged": [{"rule": "field-removed", "pointer": "/x"}]}', "reason is required"),
        ('{"acknowledged": [{"rule": "field-removed", "pointer": "x", "reason": "r"}]}', "JSON pointer"),
        ('{"acknowledged": [{"rule": "field-removed", "pointer": "/x", "reason": "r", "why": 1}]}', "unknown key"),
        ('{"acks": []}', "expected"),
    ],
)
def test_bad_ack_file_exits_2(tmp_path: Path, content: str, needle: str) -> None:
    old, new = pair(tmp_path)
    ack = tmp_path / "ack.json"
    ack.write_text(content, encoding="utf-8")
    result = invoke(str(old), str(new), "--ack", str(ack))
    assert result.exit_code == 2 and needle in result.stderr
    assert isinstance(result.exception, SystemExit)


# ---- --against ----


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "README").write_text("x\n")
    _git(root, "add", "README")
    _git(root, "commit", "-q", "-m", "first: no IDL yet")
    _git(root, "tag", "v0")
    write(root / "api" / "clutchcall.json", real_doc())
    _git(root, "add", "api/clutchcall.json")
    _git(root, "commit", "-q", "-m", "second: the IDL")
    doc = real_doc()
    _remove_tenant(doc)
    write(root / "api" / "clutchcall.json", doc)  # the working tree: NEW
    return root


def test_against_git_ref(repo: Path) -> None:
    new = repo / "api" / "clutchcall.json"
    result = invoke(str(new), "--against", "HEAD", "--format", "json")
    assert result.exit_code == 1, result.output
    assert triples(report(result)["breaking"]) == {("field-removed", "WIRE", REMOVE_TENANT[1])}
    # The ack can name the ref or a prefix of the resolved commit.
    commit = _git(repo, "rev-parse", "HEAD")
    for against in ("HEAD", commit[:10]):
        _ack_file(
            repo / "api" / "breaking-ack.json",
            [{"rule": REMOVE_TENANT[0], "pointer": REMOVE_TENANT[1], "reason": "r", "against": against}],
        )
        assert invoke(str(new), "--against", "HEAD").exit_code == 0, against


def test_against_from_another_directory(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "api")
    result = invoke("clutchcall.json", "--against", "HEAD")
    assert result.exit_code == 1 and "[field-removed]" in result.stdout


def test_against_ref_without_the_file(repo: Path) -> None:
    result = invoke(str(repo / "api" / "clutchcall.json"), "--against", "v0")
    assert result.exit_code == 0 and "nothing to compare" in result.stdout


def test_against_unknown_ref(repo: Path) -> None:
    result = invoke(str(repo / "api" / "clutchcall.json"), "--against", "no-such-branch")
    assert result.exit_code == 2 and "unknown git ref 'no-such-branch'" in result.stderr
    assert isinstance(result.exception, SystemExit)


def test_against_outside_a_repository(tmp_path: Path) -> None:
    new = write(tmp_path / "solo" / "clutchcall.json", real_doc())
    result = invoke(str(new), "--against", "HEAD")
    assert result.exit_code == 2 and "not inside a git repository" in result.stderr


# ---- bad input ----


def test_invalid_old_prints_its_diagnostics(tmp_path: Path) -> None:
    old, new = pair(tmp_path)
    old.write_text('{"idl": 1,', encoding="utf-8")
    result = invoke(str(old), str(new))
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert f"{old}:1:" in result.stderr and "cannot compare" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_semantically_invalid_new_exits_2(tmp_path: Path) -> None:
    def go(d: Doc) -> None:
        d["messages"]["Call"]["fields"]["sid"]["type"] = "NoSuchType"

    old, new = pair(tmp_path, go)
    result = invoke(str(old), str(new))
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert f"{new}:" in result.stderr and "NoSuchType" in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    old, _ = pair(tmp_path)
    result = invoke(str(old), str(tmp_path / "nope.json"))
    assert result.exit_code == 2 and "nope.json" in result.stderr


@pytest.mark.parametrize(
    "args", [[], ["a.json"], ["a.json", "b.json", "c.json"], ["a.json", "b.json", "--against", "HEAD"]]
)
def test_wrong_arguments_exit_2(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2 and result.stderr.startswith("error: ")


def test_unknown_tier_exits_2(tmp_path: Path) -> None:
    old, new = pair(tmp_path)
    result = invoke(str(old), str(new), "--tier", "FILE")
    assert result.exit_code == 2
