"""Suggested grouping: benchmarking participants in groups of two or three, each with a
mentor from the pool, so that the group members live close to each other.

Travel is what the groups cost their members: the host rotates, so every member travels
to every other member's seat. A group's travel is the sum of the great-circle distances
between the seats of all its members (benchmarking participants and mentors); the
proposal's travel is the sum over its groups. The search tries every number of groups
the sizes allow, starts from a north-to-south split (Sweden is long) and improves it by
moving and swapping members and mentors until no move shortens the total.

Pure functions of plain points, so tests and the service call them alike.
"""

from dataclasses import dataclass, field
from itertools import combinations
from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0
# Two participants with different themes are kept apart as if they lived this far apart.
THEME_PENALTY_KM = 10_000.0


@dataclass(frozen=True)
class Point:
    key: int  # the organisation's id
    latitude: float
    longitude: float
    theme: str | None = None


def distance_km(a: Point, b: Point) -> float:
    """Great-circle (haversine) distance between two seats."""
    lat1, lon1, lat2, lon2 = map(radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(h))


def travel_km(members: list[Point]) -> float:
    """A group's travel: the distances between every pair of its members."""
    return sum(distance_km(a, b) for a, b in combinations(members, 2))


@dataclass
class ProposedGroup:
    benchmarking: list[Point]
    mentors: list[Point] = field(default_factory=list)

    @property
    def km(self) -> float:
        return travel_km(self.benchmarking + self.mentors)


@dataclass
class Proposal:
    groups: list[ProposedGroup]

    @property
    def total_km(self) -> float:
        return sum(g.km for g in self.groups)


class _Costs:
    """Distances between all seats, computed once per proposal (the search asks often)."""

    def __init__(self, points: list[Point]):
        self.d: dict[tuple[int, int], float] = {}
        for a, b in combinations(points, 2):
            self.d[(a.key, b.key)] = self.d[(b.key, a.key)] = distance_km(a, b)

    def pair(self, a: Point, b: Point) -> float:
        penalty = THEME_PENALTY_KM if (a.theme or b.theme) and a.theme != b.theme else 0.0
        return self.d[(a.key, b.key)] + penalty

    def mentor(self, benchmarking: list[Point], mentor: Point) -> float:
        # A mentor is not bound by the participants' theme: only its distance counts.
        return sum(self.d[(mentor.key, b.key)] for b in benchmarking)

    def group(self, benchmarking: list[Point], mentor: Point | None) -> float:
        cost = sum(self.pair(a, b) for a, b in combinations(benchmarking, 2))
        return cost + (self.mentor(benchmarking, mentor) if mentor else 0.0)


def _sizes(n: int, k: int) -> list[int]:
    base, extra = divmod(n, k)
    return [base + 1 if i < extra else base for i in range(k)]


def _improve(
    groups: list[list[Point]],
    mentors: list[Point | None],
    pool: list[Point],
    group_min: int,
    group_max: int,
    costs: "_Costs",
) -> None:
    """Move, swap and re-mentor until nothing shortens the total (a local optimum).

    Each group's cost is kept and only the two groups a move touches are recomputed."""
    k = len(groups)
    eps = 1e-9

    def cost(i: int) -> float:
        return costs.group(groups[i], mentors[i])

    current = [cost(i) for i in range(k)]

    def settle(i: int, j: int, new_i: float, new_j: float) -> bool:
        """Keep a move that shortens the pair's total; the caller undoes it otherwise."""
        if new_i + new_j < current[i] + current[j] - eps:
            current[i], current[j] = new_i, new_j
            return True
        return False

    improved = True
    while improved:
        improved = False
        for i in range(k):
            for j in range(k):
                if i == j:
                    continue
                # Move one participant from i to j.
                for a in list(groups[i]):
                    if len(groups[i]) <= group_min or len(groups[j]) >= group_max:
                        break
                    groups[i].remove(a)
                    groups[j].append(a)
                    if settle(i, j, cost(i), cost(j)):
                        improved = True
                    else:
                        groups[j].remove(a)
                        groups[i].append(a)
                if j < i:
                    continue
                # Swap two participants between i and j.
                for x in range(len(groups[i])):
                    for y in range(len(groups[j])):
                        groups[i][x], groups[j][y] = groups[j][y], groups[i][x]
                        if settle(i, j, cost(i), cost(j)):
                            improved = True
                        else:
                            groups[i][x], groups[j][y] = groups[j][y], groups[i][x]
                # Swap the two groups' mentors.
                mentors[i], mentors[j] = mentors[j], mentors[i]
                if settle(i, j, cost(i), cost(j)):
                    improved = True
                else:
                    mentors[i], mentors[j] = mentors[j], mentors[i]
            # Trade the mentor for one nobody has yet.
            if mentors[i] is not None:
                for spare in list(pool):
                    held = mentors[i]
                    mentors[i] = spare
                    new = cost(i)
                    if new < current[i] - eps:
                        current[i] = new
                        pool.remove(spare)
                        pool.append(held)
                        improved = True
                    else:
                        mentors[i] = held


def _propose_for(
    points: list[Point],
    mentor_pool: list[Point],
    k: int,
    group_min: int,
    group_max: int,
    costs: "_Costs",
) -> Proposal:
    ordered = sorted(points, key=lambda p: (-p.latitude, p.longitude, p.key))
    if any(p.theme for p in points):
        ordered.sort(key=lambda p: p.theme or "")  # stable: by theme, then north to south
    groups, start = [], 0
    for size in _sizes(len(ordered), k):
        groups.append(ordered[start : start + size])
        start += size
    pool = sorted(mentor_pool, key=lambda p: p.key)
    mentors: list[Point | None] = []
    for g in groups:
        if pool:
            best = min(pool, key=lambda m: (costs.mentor(g, m), m.key))
            pool.remove(best)
            mentors.append(best)
        else:
            mentors.append(None)
    _improve(groups, mentors, pool, group_min, group_max, costs)
    return Proposal(
        [ProposedGroup(g, [m] if m else []) for g, m in zip(groups, mentors, strict=True)]
    )


def propose(
    points: list[Point],
    mentor_pool: list[Point],
    *,
    group_min: int = 2,
    group_max: int = 3,
    groups: int | None = None,
) -> Proposal:
    """The proposal with the least travel (or with exactly `groups` groups).

    Fewer participants than a group needs give one (too small) group; the coordinator
    sees the warning when accepting it.
    """
    n = len(points)
    if n == 0:
        return Proposal([])
    costs = _Costs(points + mentor_pool)
    if n < group_min:
        return _propose_for(points, mentor_pool, 1, 1, group_max, costs)
    feasible = feasible_group_counts(n, group_min, group_max)
    choices = [groups] if groups in feasible else feasible
    best: Proposal | None = None
    best_cost = 0.0
    for k in choices:
        proposal = _propose_for(points, mentor_pool, k, group_min, group_max, costs)
        cost = sum(
            costs.group(g.benchmarking, g.mentors[0] if g.mentors else None)
            for g in proposal.groups
        )
        # Groups without a mentor cost the mentoring they miss: prefer mentored groups.
        cost += (
            THEME_PENALTY_KM * sum(1 for g in proposal.groups if not g.mentors) * bool(mentor_pool)
        )
        if best is None or cost < best_cost - 1e-9:
            best, best_cost = proposal, cost
    return best


def feasible_group_counts(n: int, group_min: int = 2, group_max: int = 3) -> range:
    if n < group_min:
        return range(1, 2) if n else range(0)
    return range(-(-n // group_max), n // group_min + 1)
