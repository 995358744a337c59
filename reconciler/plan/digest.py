"""Digests of the desired and live state a plan was made from: sha256 over a canonical JSON.

Where something was written (file, line) is not content: moving a user to another file keeps the
desired digest. Sets are sorted, so the digest never depends on hash order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, is_dataclass
from typing import Any

from reconciler.desired.model import DesiredState
from reconciler.live import LiveState

_NOT_CONTENT = frozenset({"location", "files"})


def _canonical(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canonical(getattr(value, f.name)) for f in fields(value) if f.name not in _NOT_CONTENT
        }
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def _digest(value: Any) -> str:
    text = json.dumps(
        _canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def desired_digest(desired: DesiredState) -> str:
    return _digest(desired)


def live_digest(live: LiveState) -> str:
    return _digest(live)
