"""Tenants to start from, by name: `empty`, `demo` (Contoso today) and `synthetic:USERS:GROUPS:MEMBERSHIPS`.

Everything is deterministic: ids come from fixed names or a seeded RNG, so two runs of the same seed give
the same tenant.
"""

from __future__ import annotations

import re

from reconciler.emulator.demo_tenant import demo_seed
from reconciler.emulator.store import Store
from reconciler.emulator.synthetic import synthetic_seed
from reconciler.emulator.tenant import empty_seed
from reconciler.emulator.types import SeedData

# The store's meta key for the seed a tenant was created with (for `POST /_emulator/reset`).
SEED_META = "emulator.seed"
_SYNTHETIC = re.compile(r"^synthetic:(\d+):(\d+):(\d+)$")


class SeedError(ValueError):
    """An unknown seed name."""


def build_seed(name: str) -> SeedData:
    if name == "empty":
        return empty_seed()
    if name == "demo":
        return demo_seed()
    match = _SYNTHETIC.match(name)
    if match:
        users, groups, memberships = (int(g) for g in match.groups())
        return synthetic_seed(users, groups, memberships)
    raise SeedError(f"unknown seed {name!r}: use 'empty', 'demo' or 'synthetic:USERS:GROUPS:MEMBERSHIPS'")


def apply_seed(store: Store, name: str, now: float | None = None) -> None:
    """Replace the store's tenant with the seed `name`, seeded at `now` (the emulated clock; default the
    real time), and remember it (for `POST /_emulator/reset`)."""
    store.load_seed(build_seed(name), now)
    store.set_meta(SEED_META, name)
