"""Conformance: the token endpoint, token claims, 401/403/405 and the error format
(ED v2-oauth2-client-creds-grant-flow, access-token-claims-reference; DC concepts/errors.md,
includes/permissions/*; concepts/errors; Entra docs v2-oauth2-client-creds-grant-flow)."""

from __future__ import annotations

import base64
import json
import ssl
from typing import Any

import httpx
import jwt
import pytest
from conformance import (
    MISSING_ID,
    NOT_FOUND_TEXT,
    Factory,
    Http,
    error_of,
    group_id,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    new_group,
    new_user,
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
    user_id,
)

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")


GRAPH_SCOPE = "https://graph.microsoft.com/.default"
DENIED = (403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
NOT_ALLOWED = (405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")


def token_reply(info: dict[str, Any], ca: ssl.SSLContext, **fields: str) -> httpx.Response:
    creds = info["apps"]["reader"]
    form = {
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        "grant_type": "client_credentials",
        "scope": GRAPH_SCOPE,
        **fields,
    }
    return httpx.post(f"{info['authority']}/{info['tenant_id']}/oauth2/v2.0/token", data=form, verify=ca)


def anonymous(
    info: dict[str, Any], ca: ssl.SSLContext, headers: dict[str, str] | None = None
) -> httpx.Client:
    return httpx.Client(base_url=info["graph_url"] + "/", verify=ca, headers=headers or {})


def test_openid_configuration_names_the_endpoints(
    emulator_info: dict[str, Any], ca_context: ssl.SSLContext
) -> None:
    base = f"{emulator_info['authority']}/{emulator_info['tenant_id']}"
    reply = httpx.get(f"{base}/v2.0/.well-known/openid-configuration", verify=ca_context)
    assert reply.status_code == 200
    assert reply.json()["token_endpoint"] == f"{base}/oauth2/v2.0/token"
    assert reply.json()["authorization_endpoint"].startswith(base + "/")


def test_client_credentials_token_and_its_claims(
    emulator_info: dict[str, Any], ca_context: ssl.SSLContext
) -> None:
    for app, creds in emulator_info["apps"].items():
        reply = token_reply(
            emulator_info, ca_context, client_id=creds["client_id"], client_secret=creds["client_secret"]
        )
        assert reply.status_code == 200, app
        body = reply.json()
        assert (
            body["token_type"] == "Bearer" and isinstance(body["expires_in"], int) and body["expires_in"] > 0
        )
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert sorted(claims["roles"]) == sorted(creds["roles"]) and "scp" not in claims
        assert claims["tid"] == emulator_info["tenant_id"]
        assert claims["aud"] in {"https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"}
        assert creds["client_id"] in {claims.get("appid"), claims.get("azp")}
        assert claims["oid"] and claims["exp"] > claims["iat"]


def test_client_secret_by_basic_auth(emulator_info: dict[str, Any], ca_context: ssl.SSLContext) -> None:
    creds = emulator_info["apps"]["reader"]
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    reply = httpx.post(
        f"{emulator_info['authority']}/{emulator_info['tenant_id']}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": GRAPH_SCOPE},
        headers={"Authorization": f"Basic {basic}"},
        verify=ca_context,
    )
    assert reply.status_code == 200 and reply.json()["access_token"]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"scope": "https://graph.microsoft.com/User.Read"}, "invalid_scope"),
        ({"grant_type": "urn:example:made-up"}, "unsupported_grant_type"),
    ],
)
def test_token_errors_follow_the_aad_format(
    emulator_info: dict[str, Any], ca_context: ssl.SSLContext, fields: dict[str, str], error: str
) -> None:
    reply = token_reply(emulator_info, ca_context, **fields)
    assert reply.status_code in {400, 401}
    body = reply.json()
    assert body["error"] == error and body["error_description"].startswith("AADSTS")
    assert body["error_codes"] and {"timestamp", "trace_id", "correlation_id"} <= set(body)


def test_unknown_client_is_rejected(emulator_info: dict[str, Any], ca_context: ssl.SSLContext) -> None:
    reply = token_reply(emulator_info, ca_context, client_id=MISSING_ID)
    assert reply.status_code in {400, 401} and reply.json()["error_description"].startswith("AADSTS")


def test_sdk_with_a_wrong_secret_raises_client_authentication_error(
    emulator_info: dict[str, Any], graph_client_for: Any
) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    info = json.loads(json.dumps(emulator_info))
    info["apps"]["reader"]["client_secret"] = "wrong"

    async def go() -> None:
        await graph_client_for(info, "reader").users.by_user_id("ada@contoso.example").get()

    with pytest.raises(ClientAuthenticationError):
        run(go())


def test_no_token_is_401_access_token_is_empty(
    emulator_info: dict[str, Any], ca_context: ssl.SSLContext
) -> None:
    with anonymous(emulator_info, ca_context) as http:
        reply = http.get("users")
        assert error_of(reply) == (401, "InvalidAuthenticationToken", "Access token is empty.")
        assert "innerError" in reply.json()["error"]


@pytest.mark.parametrize(
    "token", ["not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlcyI6WyJEaXJlY3RvcnkuUmVhZC5BbGwiXX0.x"]
)
def test_invalid_token_is_401(emulator_info: dict[str, Any], ca_context: ssl.SSLContext, token: str) -> None:
    with anonymous(emulator_info, ca_context, {"Authorization": f"Bearer {token}"}) as http:
        assert error_of(http.get("users"))[:2] == (401, "InvalidAuthenticationToken")


def test_expired_token_is_401(reset_emulator: dict[str, Any], graph_http: Http, admin: httpx.Client) -> None:
    http = graph_http("reader")
    assert http.get("users/ada@contoso.example").status_code == 200
    admin.put("config", json={"clock_offset_s": 2 * 3600}).raise_for_status()
    assert error_of(http.get("users/ada@contoso.example"))[:2] == (401, "InvalidAuthenticationToken")


def test_reader_may_read_what_its_roles_allow(graph_http: Http) -> None:
    http = graph_http("reader")
    platform = group_id(http, "grp-platform")
    for url in (
        "users",
        "users/ada@contoso.example",
        "users/delta",
        "users/ada@contoso.example/licenseDetails",
        "users/ada@contoso.example/memberOf",
        "groups",
        f"groups/{platform}",
        f"groups/{platform}/members",
        f"groups/{platform}/owners",
        f"groups/{platform}/transitiveMembers",
        "groups/delta",
        "subscribedSkus",
        "organization",
    ):
        assert http.get(url).status_code == 200, url


def test_reader_is_denied_every_write(graph_http: Http) -> None:
    http = graph_http("reader")
    platform, ada = group_id(http, "grp-platform"), user_id(http, "ada@contoso.example")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{ada}"}
    license_body = {"addLicenses": [], "removeLicenses": []}
    writes = [
        ("POST", "users", new_user("denied")),
        ("PATCH", f"users/{ada}", {"jobTitle": "x"}),
        ("DELETE", f"users/{ada}", None),
        ("POST", f"users/{ada}/assignLicense", license_body),
        ("PUT", f"users/{ada}/manager/$ref", {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{ada}"}),
        ("DELETE", f"users/{ada}/manager/$ref", None),
        ("POST", f"users/{ada}/revokeSignInSessions", None),
        ("POST", "groups", new_group("denied")),
        ("PATCH", f"groups/{platform}", {"description": "x"}),
        ("DELETE", f"groups/{platform}", None),
        ("POST", f"groups/{platform}/members/$ref", ref),
        ("DELETE", f"groups/{platform}/members/{ada}/$ref", None),
        ("POST", f"groups/{platform}/owners/$ref", ref),
        ("POST", f"groups/{platform}/assignLicense", license_body),
        ("POST", f"directory/deletedItems/{ada}/restore", None),
    ]
    for method, url, body in writes:
        assert error_of(http.request(method, url, json=body)) == DENIED, (method, url)


def test_get_by_ids_needs_directory_read_all(graph_http: Http, narrow: str) -> None:
    """directoryobject-getbyids: Directory.Read.All, which the reader holds and an app with
    only User.Read.All, GroupMember.Read.All and Organization.Read.All does not."""
    http = graph_http(narrow)
    body = {"ids": [user_id(http, "ada@contoso.example")]}
    assert error_of(http.post("directoryObjects/getByIds", json=body)) == DENIED
    assert graph_http("reader").post("directoryObjects/getByIds", json=body).status_code == 200


def test_writer_lacks_nothing_it_needs(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    created = http.post("groups", json=new_group("allowed"))
    assert created.status_code == 201
    assert http.delete(f"groups/{created.json()['id']}").status_code == 204
    assert http.post("users/ada@contoso.example/revokeSignInSessions").status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", "users/ada@contoso.example"),
        ("DELETE", "subscribedSkus"),
        ("PATCH", "users"),
        ("POST", "organization"),
    ],
)
def test_method_not_allowed_is_405(graph_http: Http, method: str, url: str) -> None:
    assert error_of(graph_http("writer").request(method, url, json={})) == NOT_ALLOWED


def test_error_bodies_carry_inner_error_and_request_ids(graph_http: Http) -> None:
    http = graph_http("reader")
    reply = http.get(
        f"users/{MISSING_ID}", headers={"client-request-id": "0b7c5a5e-1111-4222-8333-944445555666"}
    )
    inner = reply.json()["error"]["innerError"]
    assert inner["client-request-id"] == "0b7c5a5e-1111-4222-8333-944445555666"
    assert inner["request-id"] == reply.headers["request-id"]
    assert reply.headers["client-request-id"] == "0b7c5a5e-1111-4222-8333-944445555666"
    assert reply.headers["content-type"].startswith("application/json")


def test_sdk_maps_403_to_an_odata_error(graph_client: Factory) -> None:
    from conformance import no_retry
    from msgraph.generated.models.group import Group
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    async def go() -> ODataError:
        group = Group(
            display_name="Denied", mail_enabled=False, mail_nickname="denied", security_enabled=True
        )
        with pytest.raises(ODataError) as raised:
            await graph_client("reader").groups.post(group, request_configuration=no_retry())
        return raised.value

    error = run(go())
    assert (error.response_status_code, error.error.code, error.error.message) == DENIED


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "groups/{missing}/members"),
        ("GET", "groups/{missing}/owners"),
        ("GET", "groups/{missing}/transitiveMembers"),
        ("PATCH", "groups/{missing}"),
        ("DELETE", "groups/{missing}"),
        ("GET", "users/{missing}/memberOf"),
        ("GET", "users/{missing}/licenseDetails"),
        ("GET", "users/{missing}/manager"),
        ("GET", "users/{missing}/directReports"),
        ("DELETE", "users/{missing}"),
        ("POST", "users/{missing}/revokeSignInSessions"),
        ("POST", "directory/deletedItems/{missing}/restore"),
        ("DELETE", "directory/deletedItems/{missing}"),
    ],
)
def test_unknown_ids_are_404_resource_not_found(
    reset_emulator: dict[str, Any], graph_http: Http, method: str, url: str
) -> None:
    body = {"description": "x"} if method == "PATCH" else None
    reply = graph_http("writer").request(method, url.format(missing=MISSING_ID), json=body)
    assert error_of(reply) == (404, "Request_ResourceNotFound", NOT_FOUND_TEXT.format(MISSING_ID))
