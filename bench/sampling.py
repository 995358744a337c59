"""What the baselines share: a sample of a tenant's users and groups, the cost of reading it measured
on the emulator's counters, and the linear extrapolation of that cost to the whole tenant.

A baseline that reads object by object costs the same per object whatever the tenant's size, so its
cost on every k-th user and every k-th group, times k, is its cost on the tenant; the rows say when a
figure is such an estimate. Groups are sampled by a stride over all of them, so the few very large
groups of a long-tailed tenant are in the sample as often as chance puts them there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bench.served import graph_client


@dataclass(frozen=True)
class Sample:
    """Every `stride`-th user and group of the tenant, by id, and which sampled users hold licenses."""

    users: list[str]
    licensed: set[str]
    groups: list[str]
    total_users: int
    total_groups: int

    @property
    def user_factor(self) -> float:
        return self.total_users / len(self.users) if self.users else 0.0

    @property
    def group_factor(self) -> float:
        return self.total_groups / len(self.groups) if self.groups else 0.0

    def describe(self) -> str:
        if len(self.users) == self.total_users and len(self.groups) == self.total_groups:
            return "whole tenant"
        return (
            f"sample: {len(self.users):,} of {self.total_users:,} users, {len(self.groups):,} of "
            f"{self.total_groups:,} groups; extrapolated linearly"
        )


def _ids(graph: httpx.Client, url: str | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while url:
        page = graph.get(url).raise_for_status().json()
        found += page["value"]
        url = page.get("@odata.nextLink")
    return found


def take_sample(info: dict[str, Any], max_users: int) -> Sample:
    """At most about `max_users` users and the same share of the groups (the whole tenant when small)."""
    with graph_client(info) as graph:
        users = _ids(graph, "users?$select=id,assignedLicenses&$top=999")
        groups = _ids(graph, "groups?$select=id&$top=999")
    stride = max(1, -(-len(users) // max_users))
    sampled = users[::stride]
    return Sample(
        users=[u["id"] for u in sampled],
        licensed={u["id"] for u in sampled if u["assignedLicenses"]},
        groups=[g["id"] for g in groups[::stride]],
        total_users=len(users),
        total_groups=len(groups),
    )


@dataclass(frozen=True)
class Cost:
    """What a read cost, as the emulator counted it."""

    wall_s: float
    http_requests: float
    resource_units: float
    throttled: float

    def scaled(self, factor: float) -> Cost:
        return Cost(
            self.wall_s * factor,
            self.http_requests * factor,
            self.resource_units * factor,
            self.throttled * factor,
        )

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.wall_s + other.wall_s,
            self.http_requests + other.http_requests,
            self.resource_units + other.resource_units,
            self.throttled + other.throttled,
        )


def measured(admin: httpx.Client, phase: Callable[[], object]) -> Cost:
    """Run `phase` between a reset and a read of the emulator's counters."""
    admin.post("stats/reset").raise_for_status()
    started = time.perf_counter()
    phase()
    wall = time.perf_counter() - started
    stats = admin.get("stats").json()
    return Cost(wall, stats["http_requests"], stats["resource_units"], stats["throttled"])
