"""Strongly connected components of a directed graph (Tarjan), shared by the backends (message
recursion) and `breaking` (recursive type swaps)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


def strongly_connected(roots: Iterable[N], edges: Callable[[N], Sequence[N]]) -> list[list[N]]:
    """The components reachable from `roots`, each listed after every component it reaches.

    Deterministic: nodes are visited depth first in root order and in `edges` order, and a
    component lists its nodes last-visited first. `edges` is called once per node, so it may be
    lazy. Iterative, so a long chain cannot hit Python's recursion limit."""
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    stack: list[N] = []
    on_stack: set[N] = set()
    out: dict[N, Sequence[N]] = {}
    components: list[list[N]] = []
    for root in roots:
        if root in index:
            continue
        work: list[tuple[N, int]] = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
                out[v] = edges(v)
            if i < len(out[v]):
                work.append((v, i + 1))
                w = out[v][i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:  # v roots a component: everything in it is on the stack above v
                component = [stack.pop()]
                on_stack.discard(component[-1])
                while component[-1] != v:
                    component.append(stack.pop())
                    on_stack.discard(component[-1])
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return components
