"""Choose the seats: the best-ranked selection that fills as many minimum seats as the total allows.

Candidates arrive in rank order, each with its (industry, county) group. The result is the lexicographically best
selection (by rank) among those of size min(total, n) that cover the most minimum seats, where an industry with
minimum m and r selected covers min(r, m) seats (counties alike). When every minimum can be met, every minimum is met.

Method: a min-cost flow over the (industry, county) cells — source → industry (a −1 arc for its minimum seats and a
free arc) → cell → county (the same two arcs) → sink — gives one best selection as a witness. Candidates are then
taken in rank order: one whose cell carries witness flow is taken at once; otherwise a zero-cost cycle through its
cell is searched in the residual graph; if there is none, no best selection contains it nor anyone later from its
cell, and the cell closes. Each taken candidate leaves the network, so the witness always describes the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

SOURCE, SINK = 0, 1
FIRST_GROUP = SINK + 1  # industry nodes follow the source and the sink, then county nodes


class _Flow:
    """A small residual graph with paired arcs (arc ^ 1 is the reverse) and integer costs."""

    def __init__(self, nodes: int) -> None:
        self.adj: list[list[int]] = [[] for _ in range(nodes)]
        self.to: list[int] = []
        self.cap: list[int] = []
        self.cost: list[int] = []

    def arc(self, u: int, v: int, cap: int, cost: int) -> int:
        """Add arc u → v with its reverse; return the forward arc's index (its residual capacity is ``cap``)."""
        first = len(self.to)
        for a, b, c, w in ((u, v, cap, cost), (v, u, 0, -cost)):
            self.adj[a].append(len(self.to))
            self.to.append(b)
            self.cap.append(c)
            self.cost.append(w)
        return first

    def shortest(self, start: int) -> tuple[list[float], list[int]]:
        """Return distances and the arc into each node on a shortest path from ``start`` (SPFA; no negative cycle)."""
        dist, via = [float("inf")] * len(self.adj), [-1] * len(self.adj)
        dist[start] = 0
        queue, queued = [start], [False] * len(self.adj)
        queued[start] = True
        while queue:
            u = queue.pop()
            queued[u] = False
            for e in self.adj[u]:
                v = self.to[e]
                if self.cap[e] > 0 and dist[u] + self.cost[e] < dist[v]:
                    dist[v], via[v] = dist[u] + self.cost[e], e
                    if not queued[v]:
                        queued[v] = True
                        queue.append(v)
        return dist, via

    def push(self, e: int, amount: int) -> None:
        """Send ``amount`` more units along arc ``e``."""
        self.cap[e] -= amount
        self.cap[e ^ 1] += amount

    def path(self, via: list[int], start: int, end: int) -> list[int]:
        """Return the arcs of the path to ``end`` recorded in ``via`` (from ``shortest(start)``), end first."""
        arcs, node = [], end
        while node != start:
            e = via[node]
            arcs.append(e)
            node = self.to[e ^ 1]
        return arcs


def choose(
    groups: Sequence[tuple[str, str]], row_min: Mapping[str, int], col_min: Mapping[str, int], total: int
) -> list[bool]:
    """Return, per candidate in rank order, whether it takes a seat (see the module docstring for the rule)."""
    k = min(total, len(groups))
    rows = sorted({g[0] for g in groups})
    cols = sorted({g[1] for g in groups})
    node = {("r", r): FIRST_GROUP + i for i, r in enumerate(rows)}
    node |= {("c", c): FIRST_GROUP + len(rows) + i for i, c in enumerate(cols)}
    net = _Flow(FIRST_GROUP + len(node))
    quota: dict[int, int] = {}  # node -> its minimum-seat arc (from the source or to the sink)
    free: dict[int, int] = {}
    for r in rows:
        n = node[("r", r)]
        quota[n] = net.arc(SOURCE, n, row_min.get(r, 0), -1)
        free[n] = net.arc(SOURCE, n, k, 0)
    for c in cols:
        n = node[("c", c)]
        quota[n] = net.arc(n, SINK, col_min.get(c, 0), -1)
        free[n] = net.arc(n, SINK, k, 0)
    counts: dict[tuple[str, str], int] = {}
    for g in groups:
        counts[g] = counts.get(g, 0) + 1
    cell = {g: net.arc(node[("r", g[0])], node[("c", g[1])], n, 0) for g, n in sorted(counts.items())}
    _min_cost_flow(net, k)
    taken, closed, left = [False] * len(groups), set(), k
    for i, g in enumerate(groups):
        if left == 0:
            break
        if g in closed:
            continue
        e = cell[g]
        if net.cap[e ^ 1] == 0 and not _reroute(net, e):
            net.cap[e] = 0  # no best selection holds anyone else from this cell
            closed.add(g)
            continue
        _take(net, e, quota, free)
        taken[i], left = True, left - 1
    return taken


def _min_cost_flow(net: _Flow, amount: int) -> None:
    """Send ``amount`` units from source to sink at least cost (successive shortest paths)."""
    while amount > 0:
        dist, via = net.shortest(SOURCE)
        if dist[SINK] == float("inf"):
            raise AssertionError("fewer places than seats")  # k ≤ number of candidates makes this unreachable
        arcs = net.path(via, SOURCE, SINK)
        step = min([amount, *(net.cap[e] for e in arcs)])
        for e in arcs:
            net.push(e, step)
        amount -= step


def _reroute(net: _Flow, e: int) -> bool:
    """Move one unit of the witness onto cell arc ``e`` along a zero-cost cycle, if one exists."""
    row, col = net.to[e ^ 1], net.to[e]
    dist, via = net.shortest(col)
    if dist[row] > 0:
        return False
    for arc in [e, *net.path(via, col, row)]:
        net.push(arc, 1)
    return True


def _take(net: _Flow, e: int, quota: dict[int, int], free: dict[int, int]) -> None:
    """Remove one witness unit through cell arc ``e`` from the network: that candidate is selected.

    A selected candidate fills one of its groups' remaining minimum seats while any remain (in a least-cost flow
    the minimum-seat arc then carries flow), so that arc loses one unit of flow and one of capacity.
    """
    net.cap[e ^ 1] -= 1  # the cell's flow and its remaining candidates both drop by one
    for n in (net.to[e ^ 1], net.to[e]):
        q = quota[n]
        seats_left = net.cap[q] + net.cap[q ^ 1] > 0
        arc = q if seats_left and net.cap[q ^ 1] > 0 else free[n]
        net.cap[arc ^ 1] -= 1
