"""/invitations: B2B guests, as Graph invites them (Graph docs: invitation-post, resources/invitation).

An invitation makes a user of userType Guest at once, before anyone redeems it: its userPrincipalName is
the invited address turned into `local_domain#EXT#@` the tenant's initial domain, its `mail` the invited
address, its `externalUserState` PendingAcceptance. Nobody redeems in the emulator (Graph has no API for
it either), so a guest stays pending. Inviting an address that already has a guest answers with that
guest again, as a re-invitation does.
"""

from __future__ import annotations

import re

from reconciler.emulator import audit
from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.objects import new_user
from reconciler.emulator.router import Route
from reconciler.emulator.routes import common
from reconciler.emulator.routes.common import bad_request
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse, Json

# Graph docs: invitation-post, "Permissions" (application).
INVITE = ("User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All")
PENDING = "PendingAcceptance"
_WRITABLE = frozenset(
    {
        "invitedUserEmailAddress",
        "inviteRedirectUrl",
        "invitedUserDisplayName",
        "invitedUserType",
        "sendInvitationMessage",
        "invitedUserMessageInfo",
        "resetRedemption",
        "invitedUser",
    }
)
# resources/invitation, invitedUserEmailAddress: a period or hyphen anywhere but first or last, an
# underscore anywhere; none of the other special characters.
_EMAIL = re.compile(r"^([A-Za-z0-9_]([A-Za-z0-9._-]*[A-Za-z0-9_])?)@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")


def _invalid(prop: str) -> GraphApiError:
    return bad_request(f"Invalid value specified for property '{prop}' of resource 'Invitation'.")


def _guest_domain(ctx: EmulatorContext) -> str:
    domains = ctx.store.organization.get("verifiedDomains", [])
    initial = [d["name"] for d in domains if d.get("isInitial")]
    default = [d["name"] for d in domains if d.get("isDefault")]
    return str((initial or default or ["contoso.onmicrosoft.com"])[0])


def _existing_guest(ctx: EmulatorContext, address: str) -> Json | None:
    wanted = address.lower()
    for user in ctx.store.users.values():
        if user.get("userType") == "Guest" and str(user.get("mail") or "").lower() == wanted:
            return user
    return None


def create_invitation(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    body = common.body_of(req)
    unknown = sorted(set(body) - _WRITABLE)
    if unknown:
        raise bad_request(
            f"Property '{unknown[0]}' is read-only or does not exist on type 'microsoft.graph.invitation'."
        )
    address = body.get("invitedUserEmailAddress")
    match = _EMAIL.match(address) if isinstance(address, str) else None
    if not isinstance(address, str) or match is None:
        raise _invalid("invitedUserEmailAddress")
    redirect = body.get("inviteRedirectUrl")
    if not isinstance(redirect, str) or not redirect.startswith(("https://", "http://")):
        raise _invalid("inviteRedirectUrl")
    user_type = body.get("invitedUserType") or "Guest"
    if user_type not in ("Guest", "Member"):
        raise _invalid("invitedUserType")
    verified = {d["name"].lower() for d in ctx.store.organization.get("verifiedDomains", [])}
    if match.group(3).lower() in verified:
        raise bad_request(
            "The invited user already exists in the directory as a member of this organization."
        )
    name = body.get("invitedUserDisplayName")
    user = _existing_guest(ctx, address)
    if user is None:
        local, domain = match.group(1), match.group(3)
        nickname = f"{local}_{domain}#EXT#"
        now = common.iso_now(ctx)
        props: Json = {
            "userPrincipalName": f"{nickname}@{_guest_domain(ctx)}",
            "mailNickname": nickname,
            "displayName": name or local,
            "mail": address,
            "otherMails": [address],
            "userType": user_type,
            "externalUserState": PENDING,
            "externalUserStateChangeDateTime": now,
            "creationType": "Invitation",
        }
        user = new_user(common.new_object_id(ctx), now, props)
        visible_at = ctx.now() + ctx.config.lag_ms / 1000 if ctx.config.lag_ms else 0.0
        ctx.store.save("user", user, visible_at)
        created = [audit.modified(n, None, user.get(n)) for n in sorted(props)]
        audit.note(req, "Invite external user", [audit.user_target(user, created)])
    invitation_id = common.new_object_id(ctx)
    ticket = invitation_id.replace("-", "")  # the real ticket is opaque; this one is deterministic
    out: Json = {
        "@odata.context": common.context_url(req, "invitations/$entity"),
        "id": invitation_id,
        "inviteRedeemUrl": (
            f"https://invitations.microsoft.com/redeem/?tenant={ctx.store.tenant_id}&user={user['id']}"
            f"&ticket={ticket}&ver=2.0"
        ),
        "invitedUserDisplayName": name or user.get("displayName"),
        "invitedUserEmailAddress": address,
        "invitedUserType": user.get("userType"),
        "resetRedemption": bool(body.get("resetRedemption")),
        "sendInvitationMessage": bool(body.get("sendInvitationMessage")),
        "invitedUserMessageInfo": body.get("invitedUserMessageInfo")
        or {"messageLanguage": None, "ccRecipients": [], "customizedMessageBody": None},
        "inviteRedirectUrl": redirect,
        "status": user.get("externalUserState") or PENDING,
        "invitedUser": {"id": user["id"]},
    }
    return GraphResponse(201, out)


ROUTES = [Route("POST", "/invitations", create_invitation, INVITE, write=True)]
