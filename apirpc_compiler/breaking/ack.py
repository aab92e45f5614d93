"""Acknowledged breaks: a reviewable file listing the breaking changes that are intended.

    {"acknowledged": [
      {"rule": "field-removed", "pointer": "/messages/Call/fields/tenant_id",
       "reason": "tenant_id moved to the token; no client reads it", "against": "v1.4.0"}
    ]}

A bare list of entries is accepted too. An entry matches findings by (rule, pointer). With
`against` (a git ref as passed to --against, a commit sha prefix, or the sha256 of the OLD IDL)
it only applies to that baseline, so that an old acknowledgement cannot silently excuse a new
break at the same place. An entry that matches nothing is stale: reported as a warning, so the
file shrinks back once the break has shipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .rules import RULES, Finding


class AckError(Exception):
    """The acknowledgements file is unreadable or malformed (the CLI exits 2)."""


@dataclass(frozen=True)
class Ack:
    rule: str
    pointer: str
    reason: str
    against: str | None
    index: int  # position in the file, for messages


@dataclass
class Outcome:
    breaking: list[Finding] = field(default_factory=list)
    acknowledged: list[tuple[Finding, Ack]] = field(default_factory=list)
    stale: list[tuple[Ack, str]] = field(default_factory=list)  # (ack, why it is stale)


def load_acks(path: str) -> list[Ack]:
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise AckError(f"{path}: cannot read acknowledgements: {e.strerror or e}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise AckError(f"{path}: not valid JSON: {e}") from None
    if isinstance(data, dict):
        if set(data) - {"acknowledged", "$schema", "doc"} or "acknowledged" not in data:
            raise AckError(f'{path}: expected {{"acknowledged": [...]}} or a list of entries')
        data = data["acknowledged"]
    if not isinstance(data, list):
        raise AckError(f"{path}: expected a list of acknowledgement entries")
    acks: list[Ack] = []
    for i, entry in enumerate(data):
        where = f"{path}: entry {i}"
        if not isinstance(entry, dict):
            raise AckError(f"{where}: expected an object with rule, pointer and reason")
        unknown = set(entry) - {"rule", "pointer", "reason", "against"}
        if unknown:
            raise AckError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        rule, pointer, reason, against = (entry.get(k) for k in ("rule", "pointer", "reason", "against"))
        if not isinstance(rule, str) or rule not in RULES:
            raise AckError(f"{where}: rule {rule!r} is not a breaking rule (see docs/breaking.md)")
        if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
            raise AckError(f"{where}: pointer must be a JSON pointer such as /messages/Call/fields/sid")
        if not isinstance(reason, str) or not reason.strip():
            raise AckError(f"{where}: reason is required: say why the break is intended")
        if against is not None and (not isinstance(against, str) or not against):
            raise AckError(f"{where}: against must be a git ref or an IDL sha256")
        acks.append(Ack(rule, pointer, reason.strip(), against, i))
    return acks


def _applies(ack: Ack, baselines: set[str], commit: str | None) -> bool:
    if ack.against is None:
        return True
    if ack.against in baselines:
        return True
    return commit is not None and len(ack.against) >= 7 and commit.startswith(ack.against.lower())


def apply_acks(findings: list[Finding], acks: list[Ack], baselines: set[str], commit: str | None = None) -> Outcome:
    """Split findings into unacknowledged and acknowledged ones; list the acks that matched nothing.

    `baselines` names OLD (the --against ref, the OLD sha256); `commit` is the resolved commit.
    """
    out = Outcome()
    used: set[int] = set()
    active = [a for a in acks if _applies(a, baselines, commit)]
    for f in findings:
        hit = next((a for a in active if a.rule == f.rule and a.pointer == f.pointer), None)
        if hit is None:
            out.breaking.append(f)
        else:
            out.acknowledged.append((f, hit))
            used.add(hit.index)
    for a in acks:
        if a.index in used:
            continue
        if a in active:
            out.stale.append((a, "matches no breaking change"))
        else:
            out.stale.append((a, f"applies to baseline {a.against}, not this one"))
    return out
