"""Conformance: users' `signInActivity`, through raw HTTP and the real SDK.

Sources: https://learn.microsoft.com/en-us/graph/api/resources/signinactivity (the six properties, times
in UTC ISO 8601, lastSuccessfulSignInDateTime the newest successful sign-in of either kind);
https://learn.microsoft.com/en-us/graph/api/user-list ("You must specify $select=signInActivity ...
as the signInActivity property is not returned by default"; example "Get users including their last
sign-in time", whose 0001-01-01T00:00:00Z stands for "no sign-in of this kind");
https://learn.microsoft.com/en-us/graph/api/resources/user (signInActivity: "Returned only on $select";
details need AuditLog.Read.All). Without that permission Graph refuses the request that selects it with
403 Authorization_RequestDenied, the answer for any permission an app lacks (concepts/errors); it does
not drop the property silently.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from conformance import (
    Factory,
    Http,
    all_pages,
    error_of,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    new_user,
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
    user_id,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")

DENIED = (403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
ACTIVITY_PROPERTIES = {
    "lastSignInDateTime",
    "lastSignInRequestId",
    "lastNonInteractiveSignInDateTime",
    "lastNonInteractiveSignInRequestId",
    "lastSuccessfulSignInDateTime",
    "lastSuccessfulSignInRequestId",
}
NEVER = "0001-01-01T00:00:00Z"
DAY_S = 86_400


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def reseed(admin: httpx.Client) -> float:
    """The demo tenant seeded afresh: the moment it was seeded (between the two clock reads)."""
    admin.post("seed", json={"seed": "demo"}).raise_for_status()
    return time.time()


def activity_by_name(http: httpx.Client) -> dict[str, Any]:
    pages = all_pages(http, "users?$select=userPrincipalName,signInActivity")
    users = [user for page in pages for user in page["value"]]
    return {u["userPrincipalName"].split("@")[0]: u["signInActivity"] for u in users}


def test_listed_on_select_with_the_documented_properties(graph_http: Http, admin: httpx.Client) -> None:
    seeded_at = reseed(admin)
    found = activity_by_name(graph_http("reader"))
    ada = found["ada"]
    assert set(ada) == ACTIVITY_PROPERTIES
    # The demo's data: ada signed in 2 days before seeding, non-interactively the same day.
    assert 2 * DAY_S <= seeded_at - seconds(ada["lastSignInDateTime"]) < 3 * DAY_S
    assert 0 <= seeded_at - seconds(ada["lastNonInteractiveSignInDateTime"]) < DAY_S
    assert ada["lastSuccessfulSignInDateTime"] == ada["lastNonInteractiveSignInDateTime"]
    assert ada["lastSignInRequestId"] and ada["lastSignInRequestId"] != ada["lastSuccessfulSignInRequestId"]
    assert all(a["lastSignInDateTime"].endswith("Z") for a in found.values() if a)


def test_a_user_who_never_signed_in_has_none(graph_http: Http, admin: httpx.Client) -> None:
    reseed(admin)
    found = activity_by_name(graph_http("reader"))
    assert {name for name, activity in found.items() if activity is None} == {"miguel", "sam", "breakglass"}


def test_no_sign_in_of_one_kind_is_graphs_zero_date(graph_http: Http, admin: httpx.Client) -> None:
    reseed(admin)
    tomas = activity_by_name(graph_http("reader"))["tomas"]  # the demo: interactive only, 203 days ago
    assert tomas["lastNonInteractiveSignInDateTime"] == NEVER
    assert tomas["lastNonInteractiveSignInRequestId"] == ""
    assert tomas["lastSuccessfulSignInDateTime"] == tomas["lastSignInDateTime"]


def test_dormant_users_are_those_the_seed_says(graph_http: Http, admin: httpx.Client) -> None:
    seeded_at = reseed(admin)
    found = activity_by_name(graph_http("reader"))
    dormant = {
        name
        for name, activity in found.items()
        if activity and seeded_at - seconds(activity["lastSuccessfulSignInDateTime"]) >= 90 * DAY_S
    }
    assert dormant == {"tomas", "henrietta", "olivia", "lynne"}


def test_not_returned_by_default(graph_http: Http) -> None:
    http = graph_http("reader")
    assert all("signInActivity" not in u for u in http.get("users").json()["value"])
    assert "signInActivity" not in http.get("users/ada@contoso.example").json()


def test_one_user_by_id(graph_http: Http) -> None:
    http = graph_http("reader")
    ada = user_id(http, "ada@contoso.example")
    body = http.get(f"users/{ada}", params={"$select": "id,signInActivity"}).json()
    assert set(body) == {"@odata.context", "id", "signInActivity"}
    assert set(body["signInActivity"]) == ACTIVITY_PROPERTIES


def test_a_new_user_has_never_signed_in(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    created = graph_http("writer").post("users", json=new_user("newcomer")).json()
    body = graph_http("reader").get(f"users/{created['id']}", params={"$select": "signInActivity"}).json()
    assert body["signInActivity"] is None


def test_without_audit_log_read_all_the_select_is_refused(graph_http: Http, narrow: str) -> None:
    http = graph_http(narrow)
    assert error_of(http.get("users", params={"$select": "id,signInActivity"})) == DENIED
    assert error_of(http.get("users/ada@contoso.example", params={"$select": "signInActivity"})) == DENIED
    assert http.get("users", params={"$select": "id,displayName"}).status_code == 200


def test_through_the_sdk(graph_client: Factory, admin: httpx.Client) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    seeded_at = reseed(admin)

    async def go() -> dict[str, Any]:
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            select=["userPrincipalName", "signInActivity"], top=999
        )
        page = await graph_client("reader").users.get(RequestConfiguration(query_parameters=query))
        return {u.user_principal_name.split("@")[0]: u.sign_in_activity for u in page.value}

    found = run(go())
    lynne = found["lynne"]  # the leaver: 127 days interactively, 96 in the background
    assert lynne.last_sign_in_date_time.tzinfo is not None
    assert 127 * DAY_S <= seeded_at - lynne.last_sign_in_date_time.timestamp() < 128 * DAY_S
    assert lynne.last_successful_sign_in_date_time == lynne.last_non_interactive_sign_in_date_time
    assert found["miguel"] is None
    assert datetime.now(UTC).timestamp() - found["lee"].last_successful_sign_in_date_time.timestamp() < DAY_S


def test_through_the_sdk_without_the_permission(graph_client: Factory, narrow: str) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from kiota_http.middleware.options import RetryHandlerOption
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    async def go() -> ODataError:
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=["id", "signInActivity"])
        config = RequestConfiguration(
            query_parameters=query, options=[RetryHandlerOption(delay=0, max_retries=0)]
        )
        with pytest.raises(ODataError) as raised:
            await graph_client(narrow).users.get(config)
        return raised.value

    error = run(go())
    assert (error.response_status_code, error.error.code, error.error.message) == DENIED
