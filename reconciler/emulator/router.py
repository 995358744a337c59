"""Graph operations (`Route`) and finding the one a request path names.

A route template uses `{name}` for path parameters ("/groups/{id}/members/{member_id}/$ref"). Matching
ignores the case of literal segments and prefers them to parameters, earliest first, so `/users/delta`
wins over `/users/{id}`. A path that some template matches for another method is "known" (405, not 400).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.types import GraphRequest, GraphResponse

# `$batch` is the one async handler: it awaits `ctx.dispatch` for each step.
Handler = Callable[[EmulatorContext, GraphRequest, dict[str, str]], GraphResponse | Awaitable[GraphResponse]]


@dataclass(frozen=True)
class Route:
    """One Graph operation.

    `template` is also the key of the admin `stats.by_route` counters ("POST /groups/{id}/members/$ref").
    `permissions`: the token must hold at least one of these roles (least privileged first).
    `cost`: base resource units (Graph docs: concepts/throttling-limits); writes cost 1 RU + 1 write; 0 is
    free and never throttled (the `$batch` envelope, whose steps are charged one by one).
    `strict`: only `permissions` grant it; Directory.ReadWrite.All (and Directory.Read.All for a read) do not
    (role assignments: rbacapplication-post-roleassignments lists RoleManagement.ReadWrite.Directory only).
    """

    method: str
    template: str
    handler: Handler
    permissions: tuple[str, ...]
    cost: int = 1
    write: bool = False
    strict: bool = False


@dataclass(frozen=True)
class CompiledRoute:
    route: Route
    parts: tuple[str | None, ...]  # lower-cased literal segments; None for a `{name}` parameter
    names: tuple[str, ...]  # parameter names, in order

    @property
    def key(self) -> str:
        return f"{self.route.method} {self.route.template}"

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.parts):
            return None
        params: list[str] = []
        for part, segment in zip(self.parts, segments, strict=True):
            if part is None:
                params.append(segment)
            elif part != segment.lower():
                return None
        return dict(zip(self.names, params, strict=True))

    def matches_prefix(self, segments: list[str]) -> bool:
        if len(segments) > len(self.parts):
            return False
        return all(
            part is None or part == seg.lower() for part, seg in zip(self.parts, segments, strict=False)
        )

    def specificity(self) -> tuple[bool, ...]:
        # Literal segments beat parameters, earliest first: "/users/delta" wins over "/users/{id}".
        return tuple(part is not None for part in self.parts)


def compile_route(route: Route) -> CompiledRoute:
    parts: list[str | None] = []
    names: list[str] = []
    for segment in segments_of(route.template):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(None)
            names.append(segment[1:-1])
        else:
            parts.append(segment.lower())
    return CompiledRoute(route, tuple(parts), tuple(names))


def normalise_path(path: str) -> str:
    """ "/v1.0//users/" → "/users": collapse `//`, drop `/v1.0` and a trailing slash; absolute URLs too."""
    if "://" in path:
        path = urlsplit(path).path
    path = re.sub(r"/{2,}", "/", "/" + path)
    if path.lower() == "/v1.0" or path.lower().startswith("/v1.0/"):
        path = path[5:] or "/"
    return path.rstrip("/") or "/"


def segments_of(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


class Router:
    """Every route, compiled once and indexed by its number of segments."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = [compile_route(r) for r in routes]
        self._by_length: dict[int, list[CompiledRoute]] = {}
        for compiled in self.routes:
            self._by_length.setdefault(len(compiled.parts), []).append(compiled)

    def find(self, method: str, path: str) -> tuple[CompiledRoute | None, dict[str, str], bool]:
        """(route, params, path_known): the most specific template matching `path` for `method`."""
        segments = segments_of(path)
        best: tuple[CompiledRoute, dict[str, str]] | None = None
        path_known = False
        for compiled in self._by_length.get(len(segments), []):
            params = compiled.match(segments)
            if params is None:
                continue
            path_known = True
            if compiled.route.method != method:
                continue
            if best is None or compiled.specificity() > best[0].specificity():
                best = (compiled, params)
        if best is None:
            return None, {}, path_known
        return best[0], best[1], True

    def unknown_segment(self, path: str) -> str:
        """The first segment of `path` that no route template can reach (for Graph's 400 message)."""
        segments = segments_of(path)
        for i in range(len(segments)):
            if not any(c.matches_prefix(segments[: i + 1]) for c in self.routes):
                return segments[i]
        return segments[-1] if segments else ""
