"""Graph error answers → one clear message; the predicates apply uses to classify them."""

from __future__ import annotations

from graph_fakes import error

from reconciler.graph.errors import (
    error_from_response,
    is_already_member,
    is_conflict,
    is_not_member,
    is_replication_lag,
    permission_for,
)
from reconciler.graph.wire import RawResponse


def test_permission_for_names_the_least_privileged_permission() -> None:
    assert permission_for("GET", "/users?$top=999") == ("User.Read.All", "read users")
    assert permission_for("GET", "/groups/delta") == (
        "GroupMember.Read.All",
        "read groups and their members (delta)",
    )
    assert permission_for("GET", "/subscribedSkus")[0] == "Organization.Read.All"  # type: ignore[index]
    assert permission_for("POST", "/users/u1/assignLicense")[0] == "LicenseAssignment.ReadWrite.All"  # type: ignore[index]
    assert permission_for("DELETE", "/groups/g1/members/u1/$ref")[0] == "GroupMember.ReadWrite.All"  # type: ignore[index]
    assert permission_for("DELETE", "/users/u1")[0] == "User.DeleteRestore.All"  # type: ignore[index]
    assert permission_for("GET", "/applications") is None


def test_403_names_permission_and_operation() -> None:
    denied = RawResponse(
        403,
        {},
        error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
    )
    err = error_from_response("POST", "/users", denied)
    assert err.message == (
        "the app lacks the application permission User.ReadWrite.All to create users (POST /users); "
        "grant it to the app registration and give admin consent"
    )
    assert err.code == "Authorization_RequestDenied"


def test_401_points_at_the_credentials() -> None:
    err = error_from_response(
        "GET",
        "/users",
        RawResponse(401, {}, error(401, "InvalidAuthenticationToken", "Access token is empty.")),
    )
    assert "refused the credentials" in err.message and "Access token is empty." in err.message


def test_other_errors_carry_code_and_message() -> None:
    err = error_from_response(
        "GET",
        "/users?$filter=x",
        RawResponse(400, {"request-id": "r9"}, error(400, "Request_UnsupportedQuery", "bad filter")),
    )
    assert err.message == "Graph answered GET /users with 400 (Request_UnsupportedQuery: bad filter)"
    assert err.request_id == "req-1"


def test_conflict_detection() -> None:
    dup_upn = {
        "error": {
            "code": "Request_BadRequest",
            "message": "Another object with the same value for property userPrincipalName already exists.",
            "details": [{"target": "userPrincipalName", "code": "ObjectConflict"}],
        }
    }
    assert is_conflict(RawResponse(400, {}, dup_upn))
    assert is_conflict(RawResponse(409, {}, error(409, "Request_MultipleObjectsWithSameKeyValue", "x")))
    assert not is_conflict(RawResponse(400, {}, error(400, "Request_BadRequest", "Invalid value")))


def test_membership_and_lag_predicates() -> None:
    already = RawResponse(
        400,
        {},
        error(
            400,
            "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: "
            "'members'.",
        ),
    )
    absent = RawResponse(
        400,
        {},
        error(
            400,
            "Request_BadRequest",
            "One or more removed object references do not exist for the following modified properties: "
            "'members'.",
        ),
    )
    lag = RawResponse(
        400,
        {},
        error(
            400,
            "Request_BadRequest",
            "The source resource object or one of the objects being referenced don't exist.",
        ),
    )
    missing = RawResponse(404, {}, error(404, "Request_ResourceNotFound", "Resource 'x' does not exist"))
    assert is_already_member(already) and not is_already_member(absent)
    assert is_not_member(absent) and is_not_member(missing)
    assert is_replication_lag(lag) and is_replication_lag(missing) and not is_replication_lag(already)
