"""Editing the plan a renderer sees, for the tests that show a renderer follows it: `alter_protocol`
makes `plan.lower_protocol` return `change(plan)`, and `map_states` / `map_streams` rewrite every
stream (state) of a protocol's plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from apirpc_compiler.ir import plan


def alter_protocol(monkeypatch: pytest.MonkeyPatch, change: Callable[[plan.ProtocolPlan], plan.ProtocolPlan]) -> None:
    original = plan.lower_protocol
    monkeypatch.setattr(plan, "lower_protocol", lambda proto: change(original(proto)))


def map_streams(p: plan.ProtocolPlan, f: Callable[[plan.StreamPlan], plan.StreamPlan]) -> plan.ProtocolPlan:
    return dataclasses.replace(p, streams=tuple(f(st) for st in p.streams))


def map_states(p: plan.ProtocolPlan, f: Callable[[plan.StreamState], plan.StreamState]) -> plan.ProtocolPlan:
    return map_streams(p, lambda st: dataclasses.replace(st, states=tuple(f(x) for x in st.states)))
