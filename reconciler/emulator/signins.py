"""Users' `signInActivity`: when each last signed in, as Graph's resources/signinactivity describes it.

Seeds say how long ago each user last signed in (`SignInAges`); the tenant's times are that long before the
moment it is seeded, so a freshly seeded tenant always has recent sign-ins and its dormant users stay
exactly as dormant as the seed says. A user with no sign-in at all has a null `signInActivity`: Graph keeps
none for a user who never signed in (user-list, "Get users including their last sign-in time").
Nobody signs in to an emulator, so after seeding the times only age.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from reconciler.emulator.types import Json, SignInAges

DAY_S = 86_400
# Graph's value for "no sign-in of this kind" inside a signInActivity that exists (user-list example).
NEVER = "0001-01-01T00:00:00Z"
_REQUEST_IDS = uuid.UUID("3c5b1f0e-8d4a-4f7e-9b2c-6a1d0e5f7c38")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _request_id(user_id: str, kind: str, at: str) -> str:
    return str(uuid.uuid5(_REQUEST_IDS, f"{user_id}/{kind}/{at}"))


def sign_in_activity(user_id: str, ages: SignInAges, now: float) -> Json | None:
    """The `signInActivity` of a user whose last sign-ins were `ages` before `now` (every one successful)."""
    interactive = None if ages.interactive_s is None else _iso(now - ages.interactive_s)
    background = None if ages.non_interactive_s is None else _iso(now - ages.non_interactive_s)
    if interactive is None and background is None:
        return None
    newest = max(t for t in (interactive, background) if t is not None)
    return {
        "lastSignInDateTime": interactive or NEVER,
        "lastSignInRequestId": _request_id(user_id, "interactive", interactive) if interactive else "",
        "lastNonInteractiveSignInDateTime": background or NEVER,
        "lastNonInteractiveSignInRequestId": (
            _request_id(user_id, "nonInteractive", background) if background else ""
        ),
        "lastSuccessfulSignInDateTime": newest,
        "lastSuccessfulSignInRequestId": _request_id(user_id, "successful", newest),
    }
