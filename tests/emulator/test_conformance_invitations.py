"""Conformance: POST /invitations through the real msgraph-sdk.

Pages: https://learn.microsoft.com/graph/api/invitation-post (201 with the invitation, `invitedUser.id`,
`inviteRedeemUrl`; application permissions User.Invite.All, User.ReadWrite.All, Directory.ReadWrite.All;
"a user entity (of userType Guest) is created") and https://learn.microsoft.com/graph/api/resources/invitation
(status PendingAcceptance until the guest redeems; the characters invitedUserEmailAddress may hold), with
https://learn.microsoft.com/graph/api/resources/user (externalUserState: PendingAcceptance, Accepted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conformance import no_retry, run
from msgraph.generated.models.invitation import Invitation
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

from reconciler.emulator.auth import AppRegistration

Factory = Callable[[str], Any]
Http = Callable[[str], httpx.Client]


def test_an_invitation_makes_a_pending_guest_with_an_ext_upn(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Http
) -> None:
    async def go() -> tuple[Any, Any]:
        client = graph_client("writer")
        invitation = await client.invitations.post(
            Invitation(
                invited_user_email_address="alice@partner.example",
                invite_redirect_url="https://myapp.contoso.com",
                invited_user_display_name="Alice Partner",
            )
        )
        select = ["id", "userPrincipalName", "userType", "externalUserState", "mail", "creationType"]
        query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(select=select)
        config = UserItemRequestBuilder.UserItemRequestBuilderGetRequestConfiguration(query_parameters=query)
        user = await client.users.by_user_id(invitation.invited_user.id).get(request_configuration=config)
        return invitation, user

    invitation, user = run(go())
    assert invitation.invited_user_email_address == "alice@partner.example"
    assert invitation.invite_redirect_url == "https://myapp.contoso.com"
    assert invitation.status == "PendingAcceptance"
    assert invitation.invited_user_type == "Guest"
    assert invitation.invite_redeem_url.startswith("https://invitations.microsoft.com/redeem/?tenant=")
    assert f"user={invitation.invited_user.id}" in invitation.invite_redeem_url
    assert user.user_principal_name == "alice_partner.example#EXT#@contoso.onmicrosoft.com"
    assert (user.user_type, user.external_user_state, user.mail) == (
        "Guest",
        "PendingAcceptance",
        "alice@partner.example",
    )
    assert user.creation_type == "Invitation"
    audits = graph_http("reader").get("auditLogs/directoryAudits").json()["value"]
    assert [a["activityDisplayName"] for a in audits if a["activityDisplayName"] == "Invite external user"]


def test_inviting_the_same_address_again_gives_the_same_guest(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    body = {
        "invitedUserEmailAddress": "bo@partner.example",
        "inviteRedirectUrl": "https://myapps.microsoft.com",
    }
    first = http.post("invitations", json=body)
    again = http.post("invitations", json=body)
    assert first.status_code == again.status_code == 201
    assert first.json()["invitedUser"]["id"] == again.json()["invitedUser"]["id"]
    assert first.json()["@odata.context"].endswith("/$metadata#invitations/$entity")


@pytest.mark.parametrize(
    "body",
    [
        {"inviteRedirectUrl": "https://myapps.microsoft.com"},
        {"invitedUserEmailAddress": "not an address", "inviteRedirectUrl": "https://myapps.microsoft.com"},
        {
            "invitedUserEmailAddress": "a+b@partner.example",
            "inviteRedirectUrl": "https://myapps.microsoft.com",
        },
        {"invitedUserEmailAddress": "bo@partner.example"},
        {
            "invitedUserEmailAddress": "ada@contoso.example",
            "inviteRedirectUrl": "https://myapps.microsoft.com",
        },
    ],
)
def test_a_bad_invitation_is_refused(reset_emulator: dict[str, Any], graph_http: Http, body: Any) -> None:
    answer = graph_http("writer").post("invitations", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "Request_BadRequest"


def test_inviting_needs_user_invite_all_or_higher(
    emulator_server: Any, emulator_info: dict[str, Any], graph_client: Factory
) -> None:
    for name, roles in (("inviter", ("User.Invite.All",)), ("no-invite", ("User.Read.All",))):
        app = AppRegistration(name, f"00000000-0000-4000-8000-0000000{len(name):05d}", f"{name}-s", roles)
        emulator_server.emulator.auth.apps[name] = app
        emulator_server.info["apps"][name] = app.to_json()

    async def go(app: str) -> Any:
        return await graph_client(app).invitations.post(
            Invitation(
                invited_user_email_address=f"{app}@partner.example",
                invite_redirect_url="https://myapps.microsoft.com",
            ),
            request_configuration=no_retry(),
        )

    try:
        assert run(go("inviter")).invited_user.id
        with pytest.raises(ODataError) as denied:
            run(go("no-invite"))
        assert denied.value.response_status_code == 403
        assert denied.value.error.code == "Authorization_RequestDenied"
    finally:
        for name in ("inviter", "no-invite"):
            del emulator_server.emulator.auth.apps[name]
            del emulator_server.info["apps"][name]
