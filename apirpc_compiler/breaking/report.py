"""Render an Outcome as text (one located line per finding) or as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..diagnostics import pointer_tokens
from .ack import Outcome
from .rules import Finding, Tier

Locate = Callable[[str], tuple[int, int]]


def nearest_existing(document: Any, pointer: str) -> str:
    """`pointer` if it resolves in `document`, else its nearest ancestor that does (removed items)."""
    parts = pointer_tokens(pointer)
    node = document
    depth = 0
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            break
        depth += 1
    return "".join("/" + p for p in pointer.split("/")[1 : depth + 1]) if pointer else ""


def _entry(f: Finding, file: str, locate: Locate) -> dict[str, Any]:
    line, col = locate(f.pointer)
    return {
        "rule": f.rule,
        "tier": f.tier.name,
        "pointer": f.pointer,
        "message": f.message,
        "file": file,
        "line": line,
        "column": col,
    }


def render_json(outcome: Outcome, file: str, locate: Locate, tier: Tier) -> str:
    doc = {
        "tier": tier.name,
        "breaking": [_entry(f, file, locate) for f in outcome.breaking],
        "acknowledged": [{**_entry(f, file, locate), "reason": a.reason} for f, a in outcome.acknowledged],
        "stale": [
            {"rule": a.rule, "pointer": a.pointer, "reason": a.reason, "against": a.against, "why": why}
            for a, why in outcome.stale
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def render_text(outcome: Outcome, file: str, locate: Locate, tier: Tier) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines): findings and the summary; stale-acknowledgement warnings."""
    out: list[str] = []
    for f in outcome.breaking:
        line, col = locate(f.pointer)
        out.append(f"{file}:{line}:{col}: [{f.rule}] {f.message} ({f.tier.name})")
    for f, a in outcome.acknowledged:
        line, col = locate(f.pointer)
        out.append(f"{file}:{line}:{col}: acknowledged: [{f.rule}] {f.message} ({f.tier.name}); reason: {a.reason}")
    err = [
        f"warning: stale acknowledgement #{a.index} [{a.rule}] {a.pointer or '/'}: {why}" for a, why in outcome.stale
    ]
    n, k = len(outcome.breaking), len(outcome.acknowledged)
    summary = f"{n} breaking change{'s' if n != 1 else ''}" if n else "no breaking changes"
    summary += f" at tier {tier.name}"
    if k:
        summary += f", {k} acknowledged"
    if outcome.stale:
        summary += f", {len(outcome.stale)} stale acknowledgement{'s' if len(outcome.stale) != 1 else ''}"
    out.append(summary)
    return out, err
