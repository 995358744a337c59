"""Conformance: delta queries on users and groups (DC user-delta, group-delta,
concepts/delta-query-overview, delta-query-users, delta-query-groups)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conformance import (
    Factory,
    Http,
    group_id,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    new_group,
    new_user,
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
    user_id,
)

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")


SEVEN_DAYS = 7 * 24 * 3600
GRAPH = "https://graph.microsoft.com/v1.0"


def sync(
    http: httpx.Client, url: str, headers: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], str]:
    """One delta round: every item of every page, and the final deltaLink."""
    page = http.get(url, headers=headers)
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = []
    body = page.json()
    while True:
        items.extend(body["value"])
        if "@odata.deltaLink" in body:
            assert "@odata.nextLink" not in body
            return items, str(body["@odata.deltaLink"])
        body = http.get(body["@odata.nextLink"], headers=headers).json()


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


@pytest.mark.parametrize("path", ["users/delta", "users/delta()"])
def test_initial_users_round_returns_every_user_then_a_delta_link(
    emulator_info: dict[str, Any], graph_http: Http, path: str
) -> None:
    http = graph_http("reader")
    first = http.get(path).json()
    assert first["@odata.context"].startswith(f"{emulator_info['graph_url']}/$metadata#users")
    link = first.get("@odata.nextLink") or first["@odata.deltaLink"]
    assert link.startswith(f"{emulator_info['graph_url']}/users/delta")
    items, delta_link = sync(http, path)
    everyone = http.get("users", params={"$top": "999", "$select": "id"}).json()["value"]
    assert set(by_id(items)) == {user["id"] for user in everyone}
    assert (
        delta_link.startswith(f"{emulator_info['graph_url']}/users/delta?") and "$deltatoken=" in delta_link
    )
    ada = next(item for item in items if item["userPrincipalName"] == "ada@contoso.example")
    assert ada["displayName"] == "Ada Lovelace"


def test_next_links_carry_a_skiptoken(graph_http: Http) -> None:
    http = graph_http("reader")
    page = http.get("groups/delta").json()
    pages = 1
    while "@odata.nextLink" in page:
        assert "$skiptoken=" in page["@odata.nextLink"]
        page = http.get(page["@odata.nextLink"]).json()
        pages += 1
    assert "$deltatoken=" in page["@odata.deltaLink"]


def test_delta_link_without_changes_returns_no_items_and_a_new_link(graph_http: Http) -> None:
    http = graph_http("reader")
    _, delta_link = sync(http, "users/delta?$select=displayName")
    body = http.get(delta_link).json()
    assert body["value"] == [] and "$deltatoken=" in body["@odata.deltaLink"]
    assert "@odata.nextLink" not in body


def test_delta_reports_created_updated_and_removed_users(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    _, delta_link = sync(http, "users/delta?$select=displayName,jobTitle,userPrincipalName")
    ada, kat = user_id(http, "ada@contoso.example"), user_id(http, "kat@contoso.example")
    assert http.patch(f"users/{ada}", json={"jobTitle": "Principal Engineer"}).status_code == 204
    created = http.post("users", json=new_user("newcomer")).json()["id"]
    assert http.delete(f"users/{kat}").status_code == 204
    changes, next_link = sync(http, delta_link)
    seen = by_id(changes)
    assert seen[ada]["jobTitle"] == "Principal Engineer"
    assert seen[created]["userPrincipalName"] == "newcomer@contoso.example"
    assert seen[kat]["@removed"] == {"reason": "changed"}
    assert set(seen) == {ada, created, kat}
    assert http.delete(f"directory/deletedItems/{kat}").status_code == 204
    gone, _ = sync(http, next_link)
    assert by_id(gone)[kat]["@removed"] == {"reason": "deleted"}


def test_delta_select_returns_only_selected_properties_and_ignores_other_changes(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    items, delta_link = sync(http, "users/delta?$select=displayName,jobTitle")
    assert all(set(item) <= {"id", "displayName", "jobTitle"} for item in items)
    assert http.patch("users/ada@contoso.example", json={"officeLocation": "Paris"}).status_code == 204
    unchanged, delta_link = sync(http, delta_link)
    assert unchanged == []
    assert http.patch("users/ada@contoso.example", json={"jobTitle": "Fellow"}).status_code == 204
    changed, _ = sync(http, delta_link)
    assert [(item["jobTitle"], item.get("@removed")) for item in changed] == [("Fellow", None)]
    assert set(changed[0]) <= {"id", "displayName", "jobTitle"}  # the token keeps the $select


def test_prefer_return_minimal_returns_only_changed_properties(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    _, delta_link = sync(http, "users/delta?$select=displayName,jobTitle,mobilePhone")
    assert http.patch("users/ada@contoso.example", json={"jobTitle": "Fellow"}).status_code == 204
    minimal, _ = sync(http, delta_link, headers={"Prefer": "return=minimal"})
    assert len(minimal) == 1 and minimal[0]["jobTitle"] == "Fellow"
    assert "displayName" not in minimal[0] and "mobilePhone" not in minimal[0]


def test_deltatoken_latest_starts_from_now(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    latest = http.get("users/delta", params={"$deltatoken": "latest"}).json()
    assert latest["value"] == [] and "@odata.nextLink" not in latest
    assert "$deltatoken=" in latest["@odata.deltaLink"]
    assert http.patch("users/ada@contoso.example", json={"jobTitle": "Fellow"}).status_code == 204
    changes, _ = sync(http, latest["@odata.deltaLink"])
    assert [item["id"] for item in changes] == [user_id(http, "ada@contoso.example")]


def test_delta_filter_by_ids(graph_http: Http) -> None:
    http = graph_http("reader")
    ada, lee = user_id(http, "ada@contoso.example"), user_id(http, "lee@contoso.example")
    items, _ = sync(http, f"users/delta?$filter=id eq '{ada}' or id eq '{lee}'")
    assert set(by_id(items)) == {ada, lee}


def test_groups_delta_tracks_members(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    empty = http.post("groups", json=new_group("nobodyhere")).json()["id"]
    items, delta_link = sync(http, "groups/delta?$select=displayName,members")
    groups = by_id(items)
    platform = group_id(http, "grp-platform")
    lee = user_id(http, "lee@contoso.example")
    assert {"@odata.type": "#microsoft.graph.user", "id": lee} in groups[platform]["members@delta"]
    assert "members@delta" not in groups[empty]  # a group with no members
    ada = user_id(http, "ada@contoso.example")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{ada}"}
    assert http.post(f"groups/{platform}/members/$ref", json=ref).status_code == 204
    assert http.delete(f"groups/{platform}/members/{lee}/$ref").status_code == 204
    changes, _ = sync(http, delta_link)
    deltas = [entry for item in changes if item["id"] == platform for entry in item.get("members@delta", [])]
    assert {"@odata.type": "#microsoft.graph.user", "id": ada} in deltas
    assert {"@odata.type": "#microsoft.graph.user", "id": lee, "@removed": {"reason": "deleted"}} in deltas


def test_groups_delta_removed_reasons(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    _, delta_link = sync(http, "groups/delta?$select=displayName")
    finance, sales = group_id(http, "grp-finance"), group_id(http, "grp-sales")
    assert http.delete(f"groups/{finance}").status_code == 204
    assert http.delete(f"groups/{sales}").status_code == 204
    changes = by_id(sync(http, delta_link)[0])
    assert changes[finance]["@removed"] == {"reason": "deleted"}  # security groups are deleted permanently
    assert changes[sales]["@removed"] == {"reason": "changed"}  # Microsoft 365 groups go to deletedItems


def test_groups_delta_reports_new_groups_in_full(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    _, delta_link = sync(http, "groups/delta")
    created = http.post("groups", json=new_group("fresh", description="New")).json()["id"]
    changes = by_id(sync(http, delta_link)[0])
    assert changes[created]["displayName"] == "Fresh" and changes[created]["description"] == "New"


def test_expired_delta_token_is_410_with_the_initial_url(
    reset_emulator: dict[str, Any], graph_http: Http, admin: httpx.Client
) -> None:

    http = graph_http("reader")
    _, delta_link = sync(http, "users/delta")
    admin.put("config", json={"clock_offset_s": SEVEN_DAYS - 3600}).raise_for_status()
    assert graph_http("reader").get(delta_link).status_code == 200  # a fresh token: the old one expired
    admin.put("config", json={"clock_offset_s": SEVEN_DAYS + 3600}).raise_for_status()
    gone = graph_http("reader").get(delta_link)
    assert gone.status_code == 410
    assert gone.headers["location"] == f"{reset_emulator['graph_url']}/users/delta"
    assert "error" in gone.json()


def test_delta_round_through_the_sdk(
    reset_emulator: dict[str, Any], graph_client: Factory, graph_http: Http
) -> None:
    async def go() -> tuple[int, str, list[str]]:
        client = graph_client("writer")
        page = await client.groups.delta.get()
        count = len(page.value)
        while page.odata_next_link:
            page = await client.groups.delta.with_url(page.odata_next_link).get()
            count += len(page.value)
        delta_link = page.odata_delta_link
        await client.groups.post(group_model())
        changes = await client.groups.delta.with_url(delta_link).get()
        return count, delta_link, [group.display_name for group in changes.value]

    def group_model() -> Any:
        from msgraph.generated.models.group import Group

        return Group(
            display_name="Via SDK", mail_enabled=False, mail_nickname="viasdk", security_enabled=True
        )

    count, delta_link, changed = run(go())
    assert count == len(graph_http("reader").get("groups", params={"$top": "999"}).json()["value"]) - 1
    assert "$deltatoken=" in delta_link and changed == ["Via SDK"]


def test_users_delta_tracks_the_manager(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    items, delta_link = sync(http, "users/delta?$select=displayName,manager")
    ada, grace = user_id(http, "ada@contoso.example"), user_id(http, "grace@contoso.example")
    assert {"@odata.type": "#microsoft.graph.user", "id": grace} in by_id(items)[ada]["manager@delta"]
    breakglass, lee = user_id(http, "breakglass@contoso.example"), user_id(http, "lee@contoso.example")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{lee}"}
    assert http.put(f"users/{breakglass}/manager/$ref", json=ref).status_code == 204
    changes = by_id(sync(http, delta_link)[0])
    assert {"@odata.type": "#microsoft.graph.user", "id": lee} in changes[breakglass]["manager@delta"]


def test_restored_user_comes_back_in_delta(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    kat = user_id(http, "kat@contoso.example")
    assert http.delete(f"users/{kat}").status_code == 204
    _, delta_link = sync(http, "users/delta?$select=displayName")
    assert http.post(f"directory/deletedItems/{kat}/restore").status_code == 200
    changes = by_id(sync(http, delta_link)[0])
    assert changes[kat]["displayName"] == "Kat Larson" and "@removed" not in changes[kat]


def test_initial_delta_context_names_the_selected_properties(
    emulator_info: dict[str, Any], graph_http: Http
) -> None:
    """DC concepts/delta-query-users and delta-query-groups initial responses:
    `$metadata#users(displayName,givenName,surname)`; `$select=displayName,description,members` gives
    `$metadata#groups(displayName,description)` (the relationship is not named)."""
    http = graph_http("reader")
    metadata = f"{emulator_info['graph_url']}/$metadata#"
    users_page = http.get("users/delta", params={"$select": "displayName,givenName,surname"}).json()
    assert users_page["@odata.context"] == metadata + "users(displayName,givenName,surname)"
    groups_page = http.get("groups/delta", params={"$select": "displayName,description,members"}).json()
    assert groups_page["@odata.context"] == metadata + "groups(displayName,description)"


def test_groups_delta_tracks_owners_when_selected(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """DC group-delta.md: "You can additionally track other changes like ownership and more by selecting
    any group relationship of type directoryObject collection. Only the id property … is returned.\""""
    http = graph_http("writer")
    items, delta_link = sync(http, "groups/delta?$select=displayName,owners")
    finance, rob = group_id(http, "grp-finance"), user_id(http, "rob@contoso.example")
    assert {"@odata.type": "#microsoft.graph.user", "id": rob} in by_id(items)[finance]["owners@delta"]
    assert all("members@delta" not in item for item in items)
    cameron = user_id(http, "cameron@contoso.example")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{cameron}"}
    assert http.post(f"groups/{finance}/owners/$ref", json=ref).status_code == 204
    assert http.delete(f"groups/{finance}/owners/{rob}/$ref").status_code == 204
    changes = by_id(sync(http, delta_link)[0])
    owners = changes[finance]["owners@delta"]
    assert {"@odata.type": "#microsoft.graph.user", "id": cameron} in owners
    assert {"@odata.type": "#microsoft.graph.user", "id": rob, "@removed": {"reason": "deleted"}} in owners


def test_groups_delta_types_nested_group_members(graph_http: Http) -> None:
    http = graph_http("reader")
    items = by_id(sync(http, "groups/delta?$select=displayName,members")[0])
    engineering, platform = group_id(http, "grp-engineering"), group_id(http, "grp-platform")
    assert {"@odata.type": "#microsoft.graph.group", "id": platform} in items[engineering]["members@delta"]


def test_rule_driven_membership_changes_show_in_groups_delta(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("writer")
    _, delta_link = sync(http, "groups/delta?$select=displayName,members")
    dynamic, ada = group_id(http, "grp-all-employees"), user_id(http, "ada@contoso.example")
    assert http.patch(f"users/{ada}", json={"employeeType": "Contractor"}).status_code == 204
    changes = by_id(sync(http, delta_link)[0])
    removed = {"@odata.type": "#microsoft.graph.user", "id": ada, "@removed": {"reason": "deleted"}}
    assert removed in changes[dynamic]["members@delta"]


def test_what_an_incremental_read_of_users_and_groups_sees(
    reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """concepts/delta-query-overview: `$select` tracks the selected properties and, for users, the manager
    (`manager@delta`); group-delta: `$select=members` tracks membership, any other directoryObject-collection
    relationship (owners) only when selected; role assignments are no property of a user or group, so a
    role change surfaces in neither delta. License properties change with group-based licensing too."""
    http, admin = graph_http("writer"), graph_http("admin")
    select = "id,displayName,assignedLicenses,licenseAssignmentStates,manager"
    _, users_link = sync(http, f"users/delta?$select={select}")
    _, groups_link = sync(http, "groups/delta?$select=id,displayName,members")
    ada, lee = user_id(http, "ada@contoso.example"), user_id(http, "lee@contoso.example")
    ems, finance = group_id(http, "grp-lic-ems"), group_id(http, "grp-finance")
    assert http.delete(f"groups/{ems}/members/{ada}/$ref").status_code == 204  # loses EMS E5
    assert (
        http.post(f"groups/{finance}/owners/$ref", json={"@odata.id": f"{GRAPH}/users/{lee}"}).status_code
        == 204
    )
    role = {
        "roleDefinitionId": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "principalId": lee,
        "directoryScopeId": "/",
    }
    assert admin.post("roleManagement/directory/roleAssignments", json=role).status_code == 201
    users = by_id(sync(http, users_link)[0])
    assert set(users) == {ada}
    assert "b05e124f-c7cc-45a0-a6aa-8cf78c946968" not in {a["skuId"] for a in users[ada]["assignedLicenses"]}
    groups = by_id(sync(http, groups_link)[0])
    assert set(groups) == {ems}
    assert {"@odata.type": "#microsoft.graph.user", "id": ada, "@removed": {"reason": "deleted"}} in groups[
        ems
    ]["members@delta"]
