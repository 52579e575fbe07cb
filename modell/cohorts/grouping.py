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


def _pair_cost(a: Point, b: Point) -> float:
    penalty = THEME_PENALTY_KM if (a.theme or b.theme) and a.theme != b.theme else 0.0
    return distance_km(a, b) + penalty


def _cost(benchmarking: list[Point], mentor: Point | None) -> float:
    members = benchmarking + ([mentor] if mentor else [])
    return sum(_pair_cost(a, b) for a, b in combinations(members, 2))


def _mentor_cost(benchmarking: list[Point], mentor: Point) -> float:
    # A mentor is not bound by the participants' theme: only its distance counts.
    return sum(distance_km(mentor, b) for b in benchmarking)


def _group_cost(benchmarking: list[Point], mentor: Point | None) -> float:
    cost = _cost(benchmarking, None)
    return cost + (_mentor_cost(benchmarking, mentor) if mentor else 0.0)


def _sizes(n: int, k: int) -> list[int]:
    base, extra = divmod(n, k)
    return [base + 1 if i < extra else base for i in range(k)]


def _improve(
    groups: list[list[Point]],
    mentors: list[Point | None],
    pool: list[Point],
    group_min: int,
    group_max: int,
) -> None:
    """Move, swap and re-mentor until nothing shortens the total (a local optimum)."""
    k = len(groups)

    def cost(i: int) -> float:
        return _group_cost(groups[i], mentors[i])

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
                    before = cost(i) + cost(j)
                    groups[i].remove(a)
                    groups[j].append(a)
                    if cost(i) + cost(j) < before - 1e-9:
                        improved = True
                    else:
                        groups[j].remove(a)
                        groups[i].append(a)
                if j < i:
                    continue
                # Swap two participants between i and j.
                for a in list(groups[i]):
                    for b in list(groups[j]):
                        if a not in groups[i] or b not in groups[j]:
                            continue
                        before = cost(i) + cost(j)
                        groups[i][groups[i].index(a)] = b
                        groups[j][groups[j].index(b)] = a
                        if cost(i) + cost(j) < before - 1e-9:
                            improved = True
                        else:
                            groups[i][groups[i].index(b)] = a
                            groups[j][groups[j].index(a)] = b
                # Swap the two groups' mentors.
                before = cost(i) + cost(j)
                mentors[i], mentors[j] = mentors[j], mentors[i]
                if cost(i) + cost(j) < before - 1e-9:
                    improved = True
                else:
                    mentors[i], mentors[j] = mentors[j], mentors[i]
            # Trade the mentor for one nobody has yet.
            if mentors[i] is not None:
                for spare in list(pool):
                    before = cost(i)
                    current = mentors[i]
                    mentors[i] = spare
                    if cost(i) < before - 1e-9:
                        pool.remove(spare)
                        pool.append(current)
                        improved = True
                    else:
                        mentors[i] = current


def _propose_for(
    points: list[Point], mentor_pool: list[Point], k: int, group_min: int, group_max: int
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
            best = min(pool, key=lambda m: (_mentor_cost(g, m), m.key))
            pool.remove(best)
            mentors.append(best)
        else:
            mentors.append(None)
    _improve(groups, mentors, pool, group_min, group_max)
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
    if n < group_min:
        return _propose_for(points, mentor_pool, 1, 1, group_max)
    fewest, most = -(-n // group_max), n // group_min
    choices = [groups] if groups and fewest <= groups <= most else range(fewest, most + 1)
    best: Proposal | None = None
    best_cost = 0.0
    for k in choices:
        proposal = _propose_for(points, mentor_pool, k, group_min, group_max)
        cost = sum(
            _group_cost(g.benchmarking, g.mentors[0] if g.mentors else None)
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
