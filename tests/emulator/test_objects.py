"""One factory per kind: a user or group created through Graph holds the same properties as a seeded one."""

from __future__ import annotations

from graph_calls import Tenant

from reconciler.emulator import objects


def test_a_created_user_keeps_the_properties_a_seeded_one_keeps() -> None:
    tenant = Tenant("demo")
    try:
        body = {
            "accountEnabled": True,
            "displayName": "Nina New",
            "mailNickname": "nina",
            "userPrincipalName": "nina@contoso.example",
            "passwordProfile": {"password": "Correct-Horse-9"},
        }
        reply = tenant.call("POST", "users", json=body)
        assert reply.status_code == 201, reply.text
        created = tenant.store.users[reply.json()["id"]]
        seeded = tenant.store.users[tenant.user_id("ada@contoso.example")]
        assert set(created) == set(seeded) == set(objects.new_user("x", "t", {"userPrincipalName": "a@b"}))
        assert created["mail"] is None and seeded["mail"] == "ada@contoso.example"
    finally:
        tenant.close()


def test_a_created_group_keeps_the_properties_a_seeded_one_keeps() -> None:
    tenant = Tenant("demo")
    try:
        body = {
            "displayName": "Guild",
            "mailEnabled": True,
            "mailNickname": "guild",
            "securityEnabled": False,
        }
        reply = tenant.call("POST", "groups", json={**body, "groupTypes": ["Unified"]})
        assert reply.status_code == 201, reply.text
        created = tenant.store.groups[reply.json()["id"]]
        seeded = tenant.store.groups[tenant.group_id("grp-sales")]
        assert set(created) == set(seeded)
        assert created["mail"] == "guild@contoso.example"
        assert created["proxyAddresses"] == ["SMTP:guild@contoso.example"]
        assert created["visibility"] == "Private"
    finally:
        tenant.close()
