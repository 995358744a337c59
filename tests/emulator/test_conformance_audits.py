"""Conformance: the directory audit log, through raw HTTP and the real SDK.

Sources (DC = microsoftgraph/microsoft-graph-docs-contrib): DC directoryaudit-list.md (permissions, the
$filter table, example 1's record), directoryaudit-get.md, resources/directoryaudit.md,
resources/targetresource.md, resources/appidentity.md; Entra docs reference-audit-activities.md ("Core
Directory": activity names and categories).
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

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
)

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")

AUDITS = "auditLogs/directoryAudits"
DENIED = (403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
# resources/directoryaudit: the properties of a record.
RECORD_PROPERTIES = {
    "activityDateTime",
    "activityDisplayName",
    "additionalDetails",
    "category",
    "correlationId",
    "id",
    "initiatedBy",
    "loggedByService",
    "operationType",
    "result",
    "resultReason",
    "targetResources",
}
# resources/targetresource.
TARGET_PROPERTIES = {"id", "displayName", "type", "userPrincipalName", "groupType", "modifiedProperties"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def create_user(http: httpx.Client, nickname: str) -> tuple[str, str]:
    """A new user, sent with a client-request-id: (the user's id, that correlation id)."""
    correlation = str(uuid.uuid4())
    reply = http.post("users", json=new_user(nickname), headers={"client-request-id": correlation})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"], correlation


def audits(http: httpx.Client, text: str, **params: str) -> list[dict[str, Any]]:
    reply = http.get(AUDITS, params={"$filter": text, **params})
    assert reply.status_code == 200, reply.text
    value: list[dict[str, Any]] = reply.json()["value"]
    return value


def test_a_write_is_logged_in_graphs_shape(
    reset_emulator: dict[str, Any], emulator_info: dict[str, Any], graph_http: Http
) -> None:
    """directoryaudit-list example 1 and resources/directoryaudit: one record per activity, by the Core
    Directory service, with the initiating app (resources/appidentity) and its targets."""
    user, correlation = create_user(graph_http("writer"), "audited")
    reader = graph_http("reader")
    body = reader.get(AUDITS, params={"$filter": f"correlationId eq '{correlation}'"}).json()
    assert body["@odata.context"] == f"{emulator_info['graph_url']}/$metadata#auditLogs/directoryAudits"
    (record,) = body["value"]
    assert set(record) == RECORD_PROPERTIES
    assert (record["activityDisplayName"], record["category"], record["result"]) == (
        "Add user",
        "UserManagement",
        "success",
    )
    assert record["loggedByService"] == "Core Directory" and record["operationType"] == "Add"
    assert ISO_UTC.match(record["activityDateTime"])
    writer = emulator_info["apps"]["writer"]
    app = record["initiatedBy"]["app"]
    assert (app["appId"], app["displayName"]) == (writer["client_id"], "entraform writer")
    assert set(app) == {"appId", "displayName", "servicePrincipalId", "servicePrincipalName"}
    assert record["initiatedBy"]["user"] is None
    (target,) = record["targetResources"]
    assert set(target) == TARGET_PROPERTIES
    assert (target["id"], target["type"], target["userPrincipalName"]) == (
        user,
        "User",
        "audited@contoso.example",
    )
    one = reader.get(f"{AUDITS}/{record['id']}").json()  # directoryaudit-get
    assert one["@odata.context"].endswith("$metadata#auditLogs/directoryAudits/$entity")
    assert {k: v for k, v in one.items() if k != "@odata.context"} == record


def test_listing_needs_audit_log_read_all_and_directory_read_all(graph_http: Http, narrow: str) -> None:
    """directoryaudit-list: application permissions "AuditLog.Read.All and Directory.Read.All"."""
    assert error_of(graph_http(narrow).get(AUDITS)) == DENIED
    assert graph_http("reader").get(AUDITS).status_code == 200


def test_filters_of_the_documented_table(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """directoryaudit-list ("Attributes supported by $filter parameter"): activityDateTime (unquoted),
    activityDisplayName eq and startswith, category, correlationId, initiatedBy/app/appId, and the
    targetResources lambdas on id and displayName, combined with `and`."""
    writer, reader = graph_http("writer"), graph_http("reader")
    user, correlation = create_user(writer, "filtered")
    assert writer.patch(f"users/{user}", json={"jobTitle": "Auditor"}).status_code == 204
    mine = f"targetResources/any(t:t/id eq '{user}')"
    records = audits(reader, mine)
    assert [r["activityDisplayName"] for r in records] == ["Update user", "Add user"]  # newest first
    at = records[-1]["activityDateTime"]
    assert {r["id"] for r in audits(reader, f"activityDateTime ge {at} and {mine}")} == {
        r["id"] for r in records
    }
    assert audits(reader, f"activityDateTime lt {at} and {mine}") == []
    assert len(audits(reader, f"activityDateTime le {records[0]['activityDateTime']} and {mine}")) == 2
    assert audits(reader, f"activityDateTime gt {records[0]['activityDateTime']} and {mine}") == []
    assert [
        r["activityDisplayName"] for r in audits(reader, f"activityDisplayName eq 'Add user' and {mine}")
    ] == ["Add user"]
    assert len(audits(reader, f"startswith(activityDisplayName,'Update') and {mine}")) == 1
    assert len(audits(reader, f"category eq 'UserManagement' and {mine}")) == 2
    assert [r["correlationId"] for r in audits(reader, f"correlationId eq '{correlation}'")] == [correlation]
    app_id = records[0]["initiatedBy"]["app"]["appId"]
    assert len(audits(reader, f"initiatedBy/app/appId eq '{app_id}' and {mine}")) == 2
    assert len(audits(reader, "targetResources/any(t:t/displayName eq 'Filtered')")) == 2
    assert error_of(reader.get(AUDITS, params={"$filter": f"activityDateTime ge '{at}'"}))[0] == 400


def test_top_and_paging(
    emulator_info: dict[str, Any], reset_emulator: dict[str, Any], graph_http: Http
) -> None:
    """directoryaudit-list: `$top` and `$skiptoken` paging (concepts/paging: follow nextLink verbatim)."""
    writer, reader = graph_http("writer"), graph_http("reader")
    for n in range(3):
        create_user(writer, f"paged{n}")
    everything = reader.get(AUDITS).json()["value"]
    assert len(everything) >= 3
    pages = all_pages(reader, f"{AUDITS}?$top=2")
    assert pages[0]["@odata.nextLink"].startswith(f"{emulator_info['graph_url']}/auditLogs/directoryAudits?")
    assert [r["id"] for page in pages for r in page["value"]] == [r["id"] for r in everything]
    assert error_of(reader.get(AUDITS, params={"$top": "0"}))[:2] == (400, "Request_BadRequest")


def test_the_clients_audit_read_works_inside_batch(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    """concepts/json-batching: the read entraform's drift sends per differing object, as a `$batch` step."""
    user, _ = create_user(graph_http("writer"), "batched")
    since = graph_http("reader").get(AUDITS).json()["value"][-1]["activityDateTime"]
    text = quote(f"activityDateTime ge {since} and targetResources/any(t:t/id eq '{user}')")
    step = {"id": "1", "method": "GET", "url": f"/auditLogs/directoryAudits?$filter={text}"}
    (answer,) = graph_http("reader").post("$batch", json={"requests": [step]}).json()["responses"]
    assert answer["status"] == 200
    assert [r["activityDisplayName"] for r in answer["body"]["value"]] == ["Add user"]


def test_audit_records_through_the_sdk(reset_emulator: dict[str, Any], graph_client: Factory) -> None:
    """The real msgraph-sdk reads /auditLogs/directoryAudits into DirectoryAudit models."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.audit_logs.directory_audits import directory_audits_request_builder
    from msgraph.generated.models.password_profile import PasswordProfile
    from msgraph.generated.models.user import User

    builder = directory_audits_request_builder.DirectoryAuditsRequestBuilder

    async def go() -> list[tuple[str | None, str | None, str | None]]:
        password = PasswordProfile(password="xWwvJ]6NMw+bWH-d", force_change_password_next_sign_in=True)
        user = User(
            account_enabled=True,
            display_name="Sdk Audited",
            mail_nickname="sdkaudited",
            user_principal_name="sdkaudited@contoso.example",
            password_profile=password,
        )
        created = await graph_client("writer").users.post(user)
        query = builder.DirectoryAuditsRequestBuilderGetQueryParameters(
            filter=f"targetResources/any(t:t/id eq '{created.id}')"
        )
        found = await graph_client("reader").audit_logs.directory_audits.get(
            request_configuration=RequestConfiguration(query_parameters=query)
        )
        return [
            (r.activity_display_name, r.target_resources[0].user_principal_name, r.logged_by_service)
            for r in found.value
        ]

    assert run(go()) == [("Add user", "sdkaudited@contoso.example", "Core Directory")]
