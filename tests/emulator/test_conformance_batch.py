"""Conformance: JSON batching (DC concepts/json-batching.md, concepts/throttling.md "Throttling and
batching"), through raw HTTP and msgraph_core's BatchRequestContent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conformance import (
    MISSING_ID,
    Factory,
    Http,
    group_id,
    leave_seeded,  # noqa: F401 (fixture used by pytestmark)
    new_user,
    run,
    seeded,  # noqa: F401 (fixture used by pytestmark)
    user_id,
)

pytestmark = pytest.mark.usefixtures("leave_seeded", "seeded")


def batch(http: httpx.Client, *steps: dict[str, Any]) -> dict[str, dict[str, Any]]:
    reply = http.post("$batch", json={"requests": list(steps)})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    return {item["id"]: item for item in reply.json()["responses"]}


def header(step: dict[str, Any], name: str) -> str | None:
    return next(
        (value for key, value in step.get("headers", {}).items() if key.lower() == name.lower()), None
    )


def get(step_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "method": "GET", "url": url, **extra}


def test_steps_answer_by_id_with_status_headers_and_body(
    emulator_info: dict[str, Any], graph_http: Http
) -> None:
    http = graph_http("reader")
    answers = batch(
        http,
        get("1", "/users/ada@contoso.example"),
        get("2", f"/users/{MISSING_ID}"),
        get("3", "users?$select=id,displayName&$top=2"),
    )
    assert set(answers) == {"1", "2", "3"}
    assert answers["1"]["status"] == 200 and answers["1"]["body"]["displayName"] == "Ada Lovelace"
    assert (header(answers["1"], "Content-Type") or "").startswith("application/json")
    assert header(answers["1"], "x-ms-resource-unit") is not None
    assert answers["2"]["status"] == 404
    assert answers["2"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    page = answers["3"]["body"]
    assert len(page["value"]) == 2 and page["@odata.nextLink"].startswith(
        emulator_info["graph_url"] + "/users?"
    )


def test_absolute_urls_are_accepted(emulator_info: dict[str, Any], graph_http: Http) -> None:
    answers = batch(graph_http("reader"), get("1", f"{emulator_info['graph_url']}/users/ada@contoso.example"))
    assert answers["1"]["status"] == 200


def test_consistency_level_goes_in_the_step_headers(graph_http: Http) -> None:
    total = len(graph_http("reader").get("users", params={"$top": "999"}).json()["value"])
    answers = batch(
        graph_http("reader"),
        get("count", "/users?$count=true&$top=1", headers={"ConsistencyLevel": "eventual"}),
        get("segment", "/users/$count", headers={"ConsistencyLevel": "eventual"}),
        get("no-header", "/users/$count"),
    )
    assert answers["count"]["body"]["@odata.count"] == total
    assert answers["segment"]["status"] == 200 and str(answers["segment"]["body"]) == str(total)
    assert answers["no-header"]["status"] == 400


def test_writes_in_a_batch(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    people = group_id(http, "grp-people")
    ada = user_id(http, "ada@contoso.example")
    json_headers = {"Content-Type": "application/json"}
    answers = batch(
        http,
        {"id": "1", "method": "POST", "url": "/users", "headers": json_headers, "body": new_user("batched")},
        {
            "id": "2",
            "method": "PATCH",
            "url": f"/users/{ada}",
            "headers": json_headers,
            "body": {"jobTitle": "Batched"},
        },
        {
            "id": "3",
            "method": "POST",
            "url": f"/groups/{people}/members/$ref",
            "headers": json_headers,
            "body": {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{ada}"},
        },
        {"id": "4", "method": "DELETE", "url": "/users/kat@contoso.example"},
    )
    assert [answers[str(n)]["status"] for n in range(1, 5)] == [201, 204, 204, 204]
    assert answers["1"]["body"]["userPrincipalName"] == "batched@contoso.example"
    assert http.get(f"users/{ada}", params={"$select": "jobTitle"}).json()["jobTitle"] == "Batched"
    assert http.get("users/kat@contoso.example").status_code == 404


def test_failed_dependency_is_424(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    answers = batch(
        http,
        get("1", f"/users/{MISSING_ID}"),
        {
            "id": "2",
            "dependsOn": ["1"],
            "method": "PATCH",
            "url": "/users/ada@contoso.example",
            "headers": {"Content-Type": "application/json"},
            "body": {"jobTitle": "Never"},
        },
        get("3", "/users/ada@contoso.example", dependsOn=["2"]),
        get("4", "/users/lee@contoso.example"),
    )
    assert {key: step["status"] for key, step in answers.items()} == {"1": 404, "2": 424, "3": 424, "4": 200}
    assert http.get("users/ada@contoso.example", params={"$select": "jobTitle"}).json()["jobTitle"] != "Never"


def test_snake_case_depends_on_of_msgraph_core_is_honoured(graph_http: Http) -> None:
    answers = batch(
        graph_http("reader"),
        get("1", f"/users/{MISSING_ID}"),
        get("2", "/users/ada@contoso.example", depends_on=["1"]),
    )
    assert answers["2"]["status"] == 424


def test_sequential_dependencies_run_in_order(reset_emulator: dict[str, Any], graph_http: Http) -> None:
    http = graph_http("writer")
    json_headers = {"Content-Type": "application/json"}
    answers = batch(
        http,
        {"id": "1", "method": "POST", "url": "/users", "headers": json_headers, "body": new_user("ordered")},
        {
            "id": "2",
            "dependsOn": ["1"],
            "method": "PATCH",
            "url": "/users/ordered@contoso.example",
            "headers": json_headers,
            "body": {"jobTitle": "Second"},
        },
        get("3", "/users/ordered@contoso.example?$select=jobTitle", dependsOn=["2"]),
    )
    assert [answers[key]["status"] for key in ("1", "2", "3")] == [201, 204, 200]
    assert answers["3"]["body"]["jobTitle"] == "Second"


def test_more_than_20_steps_is_400(graph_http: Http) -> None:
    steps = [get(str(n), "/users/ada@contoso.example") for n in range(21)]
    assert graph_http("reader").post("$batch", json={"requests": steps}).status_code == 400
    assert len(batch(graph_http("reader"), *steps[:20])) == 20


@pytest.mark.parametrize(
    "steps",
    [
        [get("a", "/users"), get("A", "/users")],  # ids are case-insensitive and must be unique
        [get("1", "/users"), get("1", "/groups")],
        [get("1", "/users", dependsOn=["9"])],  # a dependency on no step of the batch
        [{"id": "1", "url": "/users"}],  # no method
        [{"method": "GET", "url": "/users"}],  # no id
        [{"id": "1", "method": "PATCH", "url": "/users/ada@contoso.example", "body": {}}],  # no Content-Type
    ],
)
def test_malformed_batches_are_400(graph_http: Http, steps: list[dict[str, Any]]) -> None:
    assert graph_http("reader").post("$batch", json={"requests": steps}).status_code == 400


def test_unparseable_batch_is_400(graph_http: Http) -> None:
    http = graph_http("reader")
    assert (
        http.post("$batch", content=b"{not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert http.post("$batch", json={"nothing": []}).status_code == 400


def test_step_permissions_and_method_checks(graph_http: Http) -> None:
    answers = batch(
        graph_http("reader"),
        {"id": "delete", "method": "DELETE", "url": f"/groups/{MISSING_ID}"},
        {"id": "put", "method": "PUT", "url": "/subscribedSkus"},
    )
    denied = answers["delete"]
    assert denied["status"] == 403
    assert denied["body"]["error"]["code"] == "Authorization_RequestDenied"
    assert denied["body"]["error"]["message"] == "Insufficient privileges to complete the operation."
    assert answers["put"]["status"] == 405
    assert answers["put"]["body"]["error"] == {
        **answers["put"]["body"]["error"],
        "code": "Request_BadRequest",
        "message": "Specified HTTP method is not allowed for the request target.",
    }


def test_throttled_steps_are_429_with_retry_after_in_the_step_headers(
    reset_emulator: dict[str, Any], graph_http: Http, admin: httpx.Client
) -> None:

    http = graph_http("reader")
    admin.put("config", json={"throttle": {"enabled": True, "ru_per_10s": 10}}).raise_for_status()
    reply = http.post("$batch", json={"requests": [get(str(n), "/users") for n in range(20)]})
    assert reply.status_code == 200
    answers = {item["id"]: item for item in reply.json()["responses"]}
    throttled = [step for step in answers.values() if step["status"] == 429]
    assert throttled and any(step["status"] == 200 for step in answers.values())
    for step in throttled:
        retry_after = header(step, "Retry-After")
        assert retry_after is not None and int(retry_after) > 0
        assert step["body"]["error"]["code"] == "TooManyRequests"


def test_batch_through_the_sdk(reset_emulator: dict[str, Any], graph_client: Factory) -> None:
    from msgraph_core.requests.batch_request_content import BatchRequestContent
    from msgraph_core.requests.batch_request_item import BatchRequestItem

    async def go() -> dict[str, int]:
        client = graph_client("writer")
        await client.users.by_user_id("ada@contoso.example").get()  # the items' URLs become absolute
        users = client.users
        items = {
            "a": BatchRequestItem(
                request_information=users.by_user_id("ada@contoso.example").to_get_request_information(),
                id="a",
            ),
            "b": BatchRequestItem(
                request_information=users.by_user_id(MISSING_ID).to_get_request_information(), id="b"
            ),
            "c": BatchRequestItem(
                request_information=users.by_user_id("lee@contoso.example").to_get_request_information(),
                id="c",
                depends_on=["b"],
            ),
        }
        response = await client.batch.post(batch_request_content=BatchRequestContent(items))
        return {key: item.status for key, item in response.responses.items()}

    assert run(go()) == {"a": 200, "b": 404, "c": 424}


def test_depends_on_matches_ids_case_insensitively(graph_http: Http) -> None:
    """DC json-batching.md: the request id is "Not case-sensitive"."""
    answers = batch(
        graph_http("reader"),
        get("first", f"/users/{MISSING_ID}"),
        get("second", "/users/ada@contoso.example", dependsOn=["FIRST"]),
    )
    assert answers["second"]["status"] == 424
