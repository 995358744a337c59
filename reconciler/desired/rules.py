"""Rules on one user or group that Graph would otherwise enforce at apply time, or that keep secrets out.

Each check returns problems instead of raising, so that a run reports all of them. The limits are
Graph's (Graph docs: user-post-users, group-post-groups, resources/user): UPN characters and shape,
mailNickname ≤ 64 characters of restricted ASCII, displayName ≤ 256 and the other lengths of
`USER_MAX_LENGTHS`, usageLocation two letters, GUID-shaped ids, instants with an offset, mail addresses
without accents, the two passwordPolicies, extension attributes ≤ 1024 characters.
"""

from __future__ import annotations

import re

from reconciler.desired import grouptypes
from reconciler.desired.instants import EXAMPLE, INSTANT_ATTRIBUTES, graph_instant
from reconciler.desired.schema import (
    EXTENSION_ATTRIBUTE_MAX,
    USER_MAX_LENGTHS,
    EmployeeOrgDataModel,
    GroupRefModel,
    GroupSpec,
    LicenseModel,
    OnPremisesExtensionAttributesModel,
    UserSpec,
)
from reconciler.desired.typecheck import did_you_mean, join_path
from reconciler.errors import Location, Problem
from reconciler.yamlload import MarkedList, MarkedMap

UPN_LOCAL_CHARS = "A-Z a-z 0-9 ' . - _ ! # ^ ~"
_UPN_LOCAL = re.compile(r"[A-Za-z0-9'._!#^~-]+")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
# Graph docs (resources/invitation, invitedUserEmailAddress): letters and digits; a period or hyphen
# except first or last; an underscore anywhere.
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9._-]*[A-Za-z0-9_])?")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_NICKNAME_FORBIDDEN = '@()\\[]";:.<>,'
_MAIL = re.compile(r"[!-~]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")  # printable ASCII: no accents, no spaces
PASSWORD_POLICIES = ["DisablePasswordExpiration", "DisableStrongPassword"]
GROUP_TYPES = ["Unified", "DynamicMembership"]
_NOT_CLEARABLE = {
    "user": ("displayName", "mailNickname", "accountEnabled"),
    "group": ("displayName", "securityEnabled", "mailEnabled", "groupTypes", "isAssignableToRole"),
}


class _Problems:
    """Collects the problems of one item, each at the YAML node it is about."""

    def __init__(self, item: MarkedMap, path: str) -> None:
        self.item = item
        self.path = path
        self.found: list[Problem] = []

    def at_nested(self, key: str, sub: str, message: str) -> None:
        """A problem with `key.sub` of a nested object (employeeOrgData, onPremisesExtensionAttributes)."""
        value = self.item.get(key)
        if isinstance(value, MarkedMap) and sub in value.value_marks:
            self.found.append(
                Problem(f"{join_path(join_path(self.path, key), sub)}: {message}", value.location_of(sub))
            )
        else:
            self.at(key, message)

    def at(self, key: str, message: str, index: int | None = None) -> None:
        location = self.item.location_of(key) if key in self.item.value_marks else self.item.location
        path = join_path(self.path, key)
        value = self.item.get(key)
        if index is not None and isinstance(value, MarkedList):
            location = value.item_location(index)
            path = join_path(path, index)
        self.found.append(Problem(f"{path}: {message}", location))


def strip_passwords(item: MarkedMap, path: str) -> list[Problem]:
    """Remove every password key (anywhere in the item) and report it: passwords never go to git."""
    problems: list[Problem] = []
    if not item.keys() <= _NOT_PASSWORDS:
        for key in [key for key in item if _is_password(key)]:
            message = (
                f"{join_path(path, key)}: passwords do not belong in the desired state; remove {key!r} "
                "(new users get a random one: `entraform apply --initial-passwords FILE`)"
            )
            problems.append(Problem(message, item.key_location(key)))
            del item[key]
    for key, value in item.items():
        if isinstance(value, MarkedMap | MarkedList):
            problems.extend(_strip_nested(value, join_path(path, key)))
    return problems


def _is_password(key: str) -> bool:
    # passwordProfile, password, initialPassword…, but not Graph's harmless passwordPolicies.
    folded = key.lower()
    return folded == "passwordprofile" or folded.endswith(("password", "passwd"))


# The keys of the schema that are not passwords: an item written with these only (most items) needs
# no check key by key.
_NOT_PASSWORDS = frozenset(
    key
    for model in (
        UserSpec,
        GroupSpec,
        LicenseModel,
        GroupRefModel,
        EmployeeOrgDataModel,
        OnPremisesExtensionAttributesModel,
    )
    for key in model.model_fields
    if not _is_password(key)
)


def _strip_nested(value: MarkedMap | MarkedList, path: str) -> list[Problem]:
    if isinstance(value, MarkedMap):
        return strip_passwords(value, path)
    return [
        problem
        for index, item in enumerate(value)
        if isinstance(item, MarkedMap | MarkedList)
        for problem in _strip_nested(item, join_path(path, index))
    ]


def upn_problem(upn: str) -> str | None:
    """Why Graph would refuse `upn` as a userPrincipalName, or None."""
    local, at, domain = upn.rpartition("@")
    if not at or not local or "@" in local:
        return f"{upn!r} is not a user principal name (name@domain)"
    if not _UPN_LOCAL.fullmatch(local):
        bad = sorted({ch for ch in local if not _UPN_LOCAL.fullmatch(ch)})
        shown = " ".join(repr(ch) for ch in bad)
        return f"{upn!r} contains {shown}; Graph allows only {UPN_LOCAL_CHARS} before the @"
    if local.startswith(".") or local.endswith("."):
        return f"{upn!r}: the part before the @ cannot start or end with a period"
    if not _DOMAIN.fullmatch(domain):
        return f"{upn!r}: {domain!r} is not a domain name"
    if len(local) > 64 or len(domain) > 48:
        return f"{upn!r} is too long: at most 64 characters before the @ and 48 after it"
    return None


def nickname_problem(nickname: str, kind: str) -> str | None:
    """Why Graph would refuse `nickname` as a mailNickname, or None (users may have periods)."""
    forbidden = _NICKNAME_FORBIDDEN.replace(".", "") if kind == "user" else _NICKNAME_FORBIDDEN
    if not nickname:
        return "mailNickname cannot be empty"
    if len(nickname) > 64:
        return f"mailNickname is {len(nickname)} characters long; Graph allows at most 64"
    bad = sorted({ch for ch in nickname if ch in forbidden or not 32 < ord(ch) < 127})
    if bad:
        shown = " ".join(repr(ch) for ch in bad)
        refused = " ".join(forbidden)
        return f"mailNickname {nickname!r} contains {shown}; Graph allows ASCII except spaces and {refused}"
    return None


def check_user(spec: UserSpec, item: MarkedMap, path: str) -> list[Problem]:
    problems = _Problems(item, path)
    written = spec.model_fields_set
    _check_common(problems, spec, written, "user")
    _check_guest(problems, spec, written)
    reason = upn_problem(spec.userPrincipalName) if spec.userPrincipalName is not None else None
    if reason:
        problems.at("userPrincipalName", reason)
    for index, old in enumerate(spec.renamedFrom):
        reason = upn_problem(old)
        if reason:
            problems.at("renamedFrom", reason, index)
    if spec.mailNickname:
        reason = nickname_problem(spec.mailNickname, "user")
        if reason:
            problems.at("mailNickname", reason)
    country = spec.usageLocation
    reason = country_problem(country) if country is not None else None
    if reason:
        problems.at("usageLocation", reason)
    if spec.licenses and item.get("usageLocation") is None:  # a broken usageLocation has its own error
        problems.at(
            "licenses",
            "a user with licenses needs a usageLocation (two letters, e.g. US); add one to this user",
        )
    if spec.manager is not None:
        reason = upn_problem(spec.manager)
        if reason:
            problems.at("manager", reason)
        elif spec.manager.lower() == user_key(spec):
            problems.at("manager", "a user cannot be their own manager")
    _check_licenses(problems, spec.licenses)
    _check_hr(problems, spec)
    return problems.found


def mail_problem(address: str) -> str | None:
    """Why Graph would refuse `address` as a mail or otherMails address, or None."""
    if not _MAIL.fullmatch(address):
        return f"{address!r} is not a mail address (name@domain, without accents or spaces)"
    return None


def instant_problem(value: str) -> str | None:
    """Why Graph would refuse `value` as a DateTimeOffset, with the form it takes, or None."""
    if graph_instant(value) is not None:
        return None
    hint = (
        f'; write "{value}T00:00:00Z" for midnight UTC' if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else ""
    )
    return f"expected a date and time with an offset (ISO 8601, e.g. {EXAMPLE}), got {value!r}{hint}"


def password_policies_problem(value: str) -> str | None:
    """Why Graph would refuse `value` as passwordPolicies, or None."""
    policies = [part.strip() for part in value.split(",")]
    unknown = [p for p in policies if p not in PASSWORD_POLICIES]
    if not unknown and len(set(policies)) == len(policies):
        return None
    hint = did_you_mean(unknown[0], PASSWORD_POLICIES) if unknown else ""
    return f"passwordPolicies is {', '.join(PASSWORD_POLICIES)} or one of them, got {value!r}{hint}"


def country_problem(country: str) -> str | None:
    """Why Graph would refuse `country` as a usageLocation, or None."""
    if _COUNTRY.fullmatch(country):
        return None
    hint = f"; write {country.upper()}" if _COUNTRY.fullmatch(country.upper()) else ""
    return f"usageLocation must be two capital letters (ISO 3166, e.g. US), got {country!r}{hint}"


def _check_hr(problems: _Problems, spec: UserSpec) -> None:
    """Graph's limits on the HR attributes and the other attributes with a documented length."""
    for name, limit in USER_MAX_LENGTHS.items():
        value = getattr(spec, name)
        if name not in ("displayName", "mailNickname") and value is not None and len(value) > limit:
            problems.at(name, f"{name} is {len(value)} characters long; Graph allows at most {limit}")
    for name in sorted(INSTANT_ATTRIBUTES):
        value = getattr(spec, name)
        reason = instant_problem(value) if value is not None else None
        if reason:
            problems.at(name, reason)
    if spec.mail is not None:
        reason = mail_problem(spec.mail)
        if reason:
            problems.at("mail", reason)
    for index, address in enumerate(spec.otherMails or []):
        reason = mail_problem(address)
        if reason:
            problems.at("otherMails", reason, index)
    _check_duplicates(problems, "otherMails", [address.lower() for address in spec.otherMails or []])
    if spec.passwordPolicies is not None:
        reason = password_policies_problem(spec.passwordPolicies)
        if reason:
            problems.at("passwordPolicies", reason)
    extensions = spec.onPremisesExtensionAttributes
    if extensions is not None:
        for name in sorted(extensions.model_fields_set):
            value = getattr(extensions, name)
            if value is not None and len(value) > EXTENSION_ATTRIBUTE_MAX:
                message = f"{len(value)} characters long; Graph allows at most {EXTENSION_ATTRIBUTE_MAX}"
                problems.at_nested("onPremisesExtensionAttributes", name, message)


def user_key(spec: UserSpec) -> str:
    """A user's key: its UPN, or a guest's invited address when it names no UPN (lower-cased)."""
    if spec.userPrincipalName is not None:
        return spec.userPrincipalName.lower()
    return spec.invitation.invitedUserEmailAddress.lower() if spec.invitation else ""


def _check_guest(problems: _Problems, spec: UserSpec, written: set[str]) -> None:
    """A guest is a userType Guest with an invitation, and only a guest has one (SPEC §3)."""
    guest = spec.userType == "Guest"
    if spec.invitation is None and spec.userPrincipalName is None:
        # As pydantic words a missing key: a guest is the one user that may name none.
        problems.found.append(
            Problem(f"{problems.path}: missing required key 'userPrincipalName'", problems.item.location)
        )
    elif guest and spec.invitation is None:
        problems.at(
            "userType",
            "a guest (userType: Guest) is created by invitation: add `invitation:` with its "
            "invitedUserEmailAddress",
        )
    elif spec.invitation is not None and not guest:
        problems.at("invitation", "`invitation:` is for guests: add `userType: Guest` to this user")
    if spec.invitation is not None:
        address = spec.invitation.invitedUserEmailAddress
        local, at, domain = address.rpartition("@")
        if not at or not local or not _DOMAIN.fullmatch(domain) or not _EMAIL_LOCAL.fullmatch(local):
            _invitation_problem(problems, "invitedUserEmailAddress", f"{address!r} is not an email address")
        url = spec.invitation.inviteRedirectUrl
        if not url.startswith(("https://", "http://")):
            _invitation_problem(problems, "inviteRedirectUrl", f"{url!r} is not a URL (https://…)")
    if "userType" in written and spec.userType is None:
        problems.at("userType", "userType cannot be cleared: Graph's users are a Member or a Guest")


def _invitation_problem(problems: _Problems, key: str, message: str) -> None:
    """A problem at the value of a key inside `invitation:`."""
    invitation = problems.item.get("invitation")
    where = (
        invitation.value_location(key) if isinstance(invitation, MarkedMap) and key in invitation else None
    )
    path = join_path(join_path(problems.path, "invitation"), key)
    problems.found.append(Problem(f"{path}: {message}", where or problems.item.location))


def check_group(spec: GroupSpec, item: MarkedMap, path: str) -> list[Problem]:
    problems = _Problems(item, path)
    written = spec.model_fields_set
    _check_common(problems, spec, written, "group")
    reason = nickname_problem(spec.mailNickname, "group")
    if reason:
        problems.at("mailNickname", reason)
    for index, old in enumerate(spec.renamedFrom):
        reason = nickname_problem(old, "group")
        if reason:
            problems.at("renamedFrom", reason, index)
    types = spec.groupTypes or []
    for index, group_type in enumerate(types):
        if group_type not in GROUP_TYPES:
            message = f"unknown group type {group_type!r}{did_you_mean(group_type, GROUP_TYPES)}"
            problems.at("groupTypes", f"{message}; Graph knows {' and '.join(GROUP_TYPES)}", index)
    dynamic = spec.membershipRule is not None or "DynamicMembership" in types
    if spec.membershipRule is not None and spec.groupTypes is not None and "DynamicMembership" not in types:
        problems.at("groupTypes", 'a group with a membershipRule needs "DynamicMembership" in groupTypes')
    if dynamic and "members" in written:
        problems.at("members", "a dynamic group gets its members from its membershipRule; remove `members:`")
    if spec.isAssignableToRole and dynamic:
        problems.at("isAssignableToRole", "a role-assignable group cannot be a dynamic group")
    if spec.isAssignableToRole and spec.securityEnabled is False:
        problems.at("isAssignableToRole", "a role-assignable group must have securityEnabled: true")
    declared = {name: getattr(spec, name) for name in written}
    if grouptypes.is_read_only(declared):
        problems.at(
            "mailEnabled",
            f"{grouptypes.READ_ONLY}; declare security groups (mailEnabled: false) or Microsoft 365 groups "
            '(groupTypes: ["Unified"]) only, and refer to this one as a member where you need it',
        )
    refused = grouptypes.parent_refusal(declared)
    for index, member in enumerate(spec.members):
        if isinstance(member, GroupRefModel):
            if refused and not dynamic and not grouptypes.is_read_only(declared):
                problems.at("members", f"group: {member.group}: {refused}", index)
            reason = nickname_problem(member.group, "group")
            if reason:
                problems.at("members", reason, index)
        elif "@" not in member:
            problems.at(
                "members", f"{member!r} is not a UPN; for a nested group write `group: {member}`", index
            )
        else:
            reason = upn_problem(member)
            if reason:
                problems.at("members", reason, index)
    for index, owner in enumerate(spec.owners):
        reason = upn_problem(owner)
        if reason:
            problems.at("owners", f"owners are users by UPN: {reason}", index)
    _check_duplicates(problems, "members", [_member_key(m) for m in spec.members])
    _check_duplicates(problems, "owners", [owner.lower() for owner in spec.owners])
    _check_licenses(problems, spec.licenses)
    return problems.found


def _check_common(problems: _Problems, spec: UserSpec | GroupSpec, written: set[str], kind: str) -> None:
    for key in _NOT_CLEARABLE[kind]:
        if key in written and getattr(spec, key) is None:
            problems.at(
                key, f"{key} cannot be null: Graph cannot clear it; leave the key out to leave it unmanaged"
            )
    if spec.displayName is not None and not 0 < len(spec.displayName) <= 256:
        size = "empty" if not spec.displayName else f"{len(spec.displayName)} characters long"
        problems.at("displayName", f"displayName is {size}; Graph needs 1 to 256 characters")
    if spec.id is not None and not _GUID.fullmatch(spec.id):
        problems.at(
            "id",
            f"id must be an object id (a GUID like 00000000-0000-0000-0000-000000000000), got {spec.id!r}",
        )


def _check_licenses(problems: _Problems, licenses: list[LicenseModel]) -> None:
    _check_duplicates(problems, "licenses", [license.sku.lower() for license in licenses])


def _check_duplicates(problems: _Problems, key: str, values: list[str]) -> None:
    seen: dict[str, Location] = {}
    locations = problems.item.get(key)
    for index, value in enumerate(values):
        if value in seen:
            first = seen[value].line
            problems.at(key, f"{value} is listed twice (first at line {first}); keep one", index)
        elif isinstance(locations, MarkedList):
            seen[value] = locations.item_location(index)


def _member_key(member: str | GroupRefModel) -> str:
    return f"group: {member.group.lower()}" if isinstance(member, GroupRefModel) else member.lower()
