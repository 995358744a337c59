"""The plan as JSON, exactly the shape of a saved plan (SPEC §4)."""

from __future__ import annotations

from reconciler.plan.model import Plan
from reconciler.plan.planfile import dumps


def render_json(plan: Plan) -> str:
    return dumps(plan)
