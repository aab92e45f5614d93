"""ir/graph.strongly_connected against reachability computed independently (transitive closure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from apirpc_compiler.ir.graph import strongly_connected

graphs = st.integers(min_value=1, max_value=9).flatmap(
    lambda n: st.lists(st.lists(st.integers(0, n - 1), max_size=4), min_size=n, max_size=n)
)


def _reach(adj: list[list[int]]) -> list[set[int]]:
    """reach[v]: every node reachable from v by a path of length >= 0 (Floyd-Warshall style closure)."""
    n = len(adj)
    reach = [{v, *adj[v]} for v in range(n)]
    for k in range(n):
        for v in range(n):
            if k in reach[v]:
                reach[v] |= reach[k]
    return reach


@given(graphs, st.data())
def test_components_are_mutual_reachability_in_dependency_order(adj: list[list[int]], data: st.DataObject) -> None:
    roots = data.draw(st.lists(st.integers(0, len(adj) - 1), min_size=1, max_size=4))
    components = strongly_connected(roots, lambda v: adj[v])
    reach = _reach(adj)
    listed = [v for c in components for v in c]
    assert len(listed) == len(set(listed))
    assert set(listed) == set().union(*(reach[r] for r in roots))  # exactly what the roots reach
    position = {v: i for i, c in enumerate(components) for v in c}
    for v in listed:
        for w in listed:
            assert (position[v] == position[w]) == (w in reach[v] and v in reach[w])
            if w in reach[v]:
                assert position[w] <= position[v]  # what v reaches is listed no later than v


def test_long_chain_needs_no_recursion() -> None:
    n = 50_000
    components = strongly_connected([0], lambda v: [v + 1] if v + 1 < n else [0])
    assert len(components) == 1 and len(components[0]) == n
