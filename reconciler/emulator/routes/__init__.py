"""Every Graph operation the emulator answers, as one list for the HTTP edge's router (which prefers literal
segments, so `/users/delta` wins over `/users/{id}`)."""

from __future__ import annotations

from reconciler.emulator.router import Route
from reconciler.emulator.routes import (
    audits,
    batch,
    delta,
    directory,
    groups,
    invitations,
    licenses,
    memberships,
    relations,
    roles,
    users,
)

ROUTES: list[Route] = [
    *users.ROUTES,
    *invitations.ROUTES,
    *groups.ROUTES,
    *relations.ROUTES,
    *memberships.ROUTES,
    *licenses.ROUTES,
    *directory.ROUTES,
    *roles.ROUTES,
    *audits.ROUTES,
    *delta.ROUTES,
    *batch.ROUTES,
]
