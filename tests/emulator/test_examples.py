"""Replays Microsoft's documented examples (the request/response pairs of Graph's docs pages, one JSON file
per page) against the emulator.

The folder is `ENTRAFORM_GRAPH_EXAMPLES`, or else a `*/graph/examples` folder beside the repository. They
are not part of the project; where they are absent the test is skipped and says so.

Placeholders and the docs' sample ids are replaced by real ids of the demo tenant; each replayed case must
give the documented status, and a body with the documented shape: every documented key present (for
collections, in the items too). Cases the emulator does not model are listed in SKIPPED with the reason.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graph_calls import Tenant

from reconciler.emulator import skus
from reconciler.emulator.auth import AppRegistration


def examples_folder() -> Path | None:
    configured = os.environ.get("ENTRAFORM_GRAPH_EXAMPLES")
    if configured:
        return Path(configured)
    beside = Path(__file__).resolve().parents[3]
    return next((folder for folder in sorted(beside.glob("*/graph/examples")) if folder.is_dir()), None)


EXAMPLES = examples_folder()
ABSENT = (
    "Microsoft's documented examples are not present beside the repository "
    "(set ENTRAFORM_GRAPH_EXAMPLES=DIR to replay them)"
)
GRAPH = "https://graph.microsoft.com/v1.0"
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
PLACEHOLDER = re.compile(r"\{[^}]*\}")

SKIPPED = {
    "concepts-aad-advanced-queries": "beta and /applications requests; no documented responses to compare",
    "concepts-query-parameters": "requests only, no responses",
    "concepts-throttling": "response-only sample (429 is covered by the pipeline's tests)",
    "get_user_2": "GET /me needs a signed-in user; app-only tokens have none",
    "get_user_select_e3": "identities (B2C) are not modelled",
    "get_schemaextension_selectCourse": "schema extensions are not modelled",
    "get_user_customsecurityattributes": "customSecurityAttributes are not modelled",
    "get_user_customsecurityattributes__alt_response": "customSecurityAttributes are not modelled",
    "list_users_memberof_approleassignments": "appRoleAssignments are not modelled",
    "get_signinname_users": "identities (B2C) are not modelled",
    "get_b2b_users": "identities are not modelled",
    "list_users_schemaextension": "schema extensions are not modelled",
    "create_user_from_users_identities": "identities (B2C) are not modelled",
}
# Documented keys the emulator leaves out on purpose, per case.
KNOWN_GAPS = {
    # The docs' example user is a guest whose listing happens to show mailNickname; it is not in
    # Graph's default property set.
    "list_users_startswith": {"value[].mailNickname"},
    # Graph annotates these items with @odata.id only in some response formats.
    "get_enabled_dynamic_groups": {"value[].@odata.id"},
    # The sample shows `id` although only mailbox properties were selected; Graph returns what was selected.
    "get_group_non_default": {"id"},
    "get_users_signin_last_time": {"value[].id"},
    # Beta-era properties shown in this v1.0 sample.
    "create_role_enabled_group": {
        "createdByAppId",
        "organizationId",
        "isManagementRestricted",
        "infoCatalogs",
        "writebackConfiguration",
    },
}


def cases() -> Iterator[Any]:
    if EXAMPLES is None or not any(EXAMPLES.glob("*.json")):
        yield pytest.param("", {}, id="examples-absent", marks=[pytest.mark.skip(reason=ABSENT)])
        return
    for path in sorted(EXAMPLES.glob("*.json")):
        data = json.loads(path.read_text())
        for case in data.get("cases", []) + data.get("ignored_examples", []):
            name = case.get("name", "")
            reason = SKIPPED.get(path.stem) or SKIPPED.get(name)
            if case.get("request") is None or case.get("response") is None:
                reason = reason or "request or response missing on the page"
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            yield pytest.param(path.stem, case, id=f"{path.stem}:{name}", marks=marks)


class Ids:
    """The real objects that stand in for the docs' placeholders."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.user = tenant.user_id("ada@contoso.example")
        self.other_user = tenant.user_id("lee@contoso.example")
        self.group = tenant.group_id("grp-platform")
        self.member = tenant.user_id("alex@contoso.example")
        self.owner = tenant.user_id("lee@contoso.example")
        self.deleted = tenant.group_id("grp-sales")
        self.sku = f"{tenant.store.tenant_id}_{skus.SPE_E5}"
        # Users in none of grp-platform's relations, handed out one per placeholder in request bodies.
        self.outsiders = iter(
            tenant.user_id(f"{name}@contoso.example")
            for name in ("ben", "kat", "sara", "emily", "rob", "joni")
        )


def prepare(tenant: Tenant, ids: Ids, page: str) -> None:
    if page.startswith("directory-deleteditems"):
        assert tenant.call("DELETE", f"groups/{ids.deleted}").status_code == 204
    if page == "group-delete-owners":
        tenant.store.add_edge("owners", ids.group, tenant.user_id("hedy@contoso.example"))
    # Permissions no built-in app holds: getByIds needs Directory.Read.All, a role-assignable group
    # RoleManagement.ReadWrite.Directory.
    extra_roles = {
        "directoryobject-getbyids": ("Directory.Read.All",),
        "group-post-groups": ("Group.ReadWrite.All", "RoleManagement.ReadWrite.Directory"),
    }
    if page in extra_roles:
        app = AppRegistration("writer", "replay-app", "secret", extra_roles[page])
        tenant.local.emulator.auth.apps["writer"] = app


def real_state_token(tenant: Tenant, url: str) -> str:
    """The docs' state tokens are Graph's own: swap in one of ours for the same kind of link."""
    match = re.search(r"/(users|groups)/delta\?\$(skiptoken|deltatoken)=", url)
    if match is None:
        return url
    first = tenant.get(f"{match.group(1)}/delta", headers={"Prefer": "odata.maxpagesize=2"}).json()
    if match.group(2) == "skiptoken":
        return str(first["@odata.nextLink"])
    while "@odata.nextLink" in first:
        first = tenant.get(first["@odata.nextLink"]).json()
    return str(first["@odata.deltaLink"])


def fill_url(url: str, ids: Ids, page: str) -> str:
    url = url.replace(GRAPH, "").replace(" ", "%20")
    url = re.sub(r"^/me(?=/|\?|$)", f"/users/{ids.user}", url)
    segments = url.split("?", 1)
    parts = segments[0].split("/")
    for n, part in enumerate(parts):
        if not (PLACEHOLDER.fullmatch(part) or GUID.fullmatch(part) or ("_" in part and GUID.search(part))):
            continue
        before = parts[n - 1].lower()
        parts[n] = {
            "users": ids.user,
            "groups": ids.group,
            "deleteditems": ids.deleted,
            "subscribedskus": ids.sku,
            "organization": ids.tenant.store.tenant_id,
            "members": ids.member,
            "owners": ids.owner,
        }.get(before, part)
    return "/".join(parts) + ("?" + segments[1] if len(segments) > 1 else "")


def fill_body(body: Any, ids: Ids, page: str) -> Any:
    if page == "directoryobject-getbyids":
        return {**body, "ids": [ids.user, ids.other_user]}
    if page in ("user-assignlicense", "group-assignlicense"):
        adds = [{"disabledPlans": [], "skuId": skus.EMSPREMIUM} for _ in body["addLicenses"][:1]]
        removes = [skus.ENTERPRISEPACK] if body["removeLicenses"] and page == "user-assignlicense" else []
        if page == "group-assignlicense" and body["removeLicenses"]:
            removes = [skus.EMSPREMIUM]
        return {"addLicenses": adds, "removeLicenses": removes}
    if page == "concepts-json-batching":
        return {
            "requests": [
                {
                    **step,
                    "url": fill_url(
                        step["url"] if step["url"].startswith("/") else "/" + step["url"], ids, page
                    ),
                }
                for step in body["requests"]
            ]
        }
    text = json.dumps(body)
    text = text.replace("contoso.com", "contoso.example").replace(
        "contoso.onmicrosoft.com", "contoso.example"
    )
    text = re.sub(
        r"(directoryObjects|users)/(\{[^}]*\}|" + GUID.pattern + ")",
        lambda m: f"{m.group(1)}/{next(ids.outsiders)}",
        text,
    )
    return json.loads(text)


def shape_gaps(documented: Any, ours: Any, path: str = "") -> list[str]:
    """Documented keys missing from our body (collections: compared item to item where both have items)."""
    if not isinstance(documented, dict) or not isinstance(ours, dict):
        return []
    gaps = []
    for key, value in documented.items():
        if key in ("@odata.nextLink", "@odata.deltaLink") and key not in ours:
            continue
        if key not in ours:
            gaps.append(path + key)
        elif key == "value" and isinstance(value, list) and value and ours[key]:
            # `@removed` marks deleted objects, which this tenant may not have.
            wanted = set().union(*(v.keys() for v in value if isinstance(v, dict))) - {"@removed"}
            have = set().union(*(o.keys() for o in ours[key] if isinstance(o, dict)))
            gaps += [f"{path}value[].{k}" for k in sorted(wanted - have)]
    return gaps


@pytest.mark.parametrize(("page", "case"), list(cases()))
def test_documented_example(page: str, case: dict[str, Any]) -> None:
    tenant = Tenant("demo")
    try:
        ids = Ids(tenant)
        prepare(tenant, ids, page)
        request, expected = case["request"], case["response"]
        headers = {k: v for k, v in request["headers"].items() if k.lower() == "consistencylevel"}
        body = fill_body(request["body"], ids, page) if request["body"] is not None else None
        url = real_state_token(tenant, fill_url(request["url"], ids, page))
        response = tenant.call(request["method"], url, json=body, headers=headers)
        assert response.status_code == expected["status"], response.text
        if isinstance(expected["body"], dict):
            gaps = set(shape_gaps(expected["body"], response.json())) - KNOWN_GAPS.get(case["name"], set())
            assert gaps == set()
        elif isinstance(expected["body"], str):
            assert response.text.isdigit()
    finally:
        tenant.close()
