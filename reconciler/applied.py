"""What git said at the last apply: a digest of each declared object, kept beside the journal.

Drift compares today's YAML with it: a difference on an object whose YAML changed since is a
declaration not applied yet (`origin: git`), not something changed behind git's back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reconciler.files import write_text

APPLIED_FILE = "applied.json"


@dataclass(frozen=True)
class Applied:
    tenant: str
    applied_at: str
    fingerprints: dict[str, str]  # plan.digest.object_fingerprints of the desired state applied
    # The Graph id of each declared object after the apply, by `user:KEY` / `group:KEY`: an object deleted
    # in the tenant since is then still found in the audit log by its id.
    ids: dict[str, str]


def applied_path(journal: Path) -> Path:
    return journal.parent / APPLIED_FILE


def write_applied(path: Path, applied: Applied) -> None:
    body = {
        "tenant": applied.tenant,
        "applied_at": applied.applied_at,
        "fingerprints": applied.fingerprints,
        "ids": applied.ids,
    }
    write_text(path, json.dumps(body, sort_keys=True) + "\n", "record of the last apply")


def read_applied(path: Path, tenant: str) -> Applied | None:
    """The last apply to `tenant`, or None when there is none (or the file is not one of ours)."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(body, dict)
        or body.get("tenant") != tenant
        or not isinstance(body.get("fingerprints"), dict)
    ):
        return None
    prints = {str(k): str(v) for k, v in body["fingerprints"].items()}
    ids = body.get("ids")
    known = {str(k): str(v) for k, v in ids.items()} if isinstance(ids, dict) else {}
    return Applied(tenant, str(body.get("applied_at") or ""), prints, known)
