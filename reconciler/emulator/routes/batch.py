"""JSON `$batch` (Graph docs: concepts/json-batching): at most 20 steps, each run through the whole
pipeline (auth, throttling, faults) via `ctx.dispatch`; `dependsOn` (or msgraph-core's `depends_on`) steps
whose dependency failed get 424."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from reconciler.emulator.context import EmulatorContext
from reconciler.emulator.router import Route
from reconciler.emulator.types import GraphApiError, GraphRequest, GraphResponse, Json

MAX_STEPS = 20


def _invalid(message: str) -> GraphApiError:
    return GraphApiError(400, "BadRequest", message)


def _steps(body: Any) -> list[Json]:
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise _invalid("Invalid batch payload format: a 'requests' array is expected.")
    steps: list[Json] = body["requests"]
    if not steps:
        raise _invalid("Invalid batch payload format: the 'requests' array is empty.")
    if len(steps) > MAX_STEPS:
        raise _invalid(f"Number of batch requests {len(steps)} exceeds the maximum of {MAX_STEPS}.")
    seen: set[str] = set()
    for step in steps:
        if not isinstance(step, dict) or not step.get("id") or not step.get("method") or not step.get("url"):
            raise _invalid("Invalid batch payload format: every request needs 'id', 'method' and 'url'.")
        step_id = str(step["id"]).lower()
        if step_id in seen:
            raise _invalid(f"Duplicate request id '{step['id']}' in batch.")
        for dependency in _dependencies(step):
            if dependency.lower() not in seen:
                raise _invalid(f"Invalid dependency for request Id '{step['id']}'.")
        if step.get("body") is not None and not _has_content_type(step):
            raise _invalid(f"Request '{step['id']}': a request with a body needs a Content-Type header.")
        seen.add(step_id)
    return steps


def _dependencies(step: Json) -> list[str]:
    raw = step.get("dependsOn", step.get("depends_on")) or []
    return [str(d) for d in raw] if isinstance(raw, list) else [str(raw)]


def _has_content_type(step: Json) -> bool:
    headers = step.get("headers") or {}
    return isinstance(headers, dict) and any(k.lower() == "content-type" for k in headers)


def _step_request(outer: GraphRequest, step: Json) -> GraphRequest:
    url = str(step["url"])
    parts = urlsplit(url if "://" in url else "/" + url.lstrip("/"))
    headers = {str(k).lower(): str(v) for k, v in (step.get("headers") or {}).items()}
    return GraphRequest(
        method=str(step["method"]).upper(),
        path=unquote(parts.path),  # as the HTTP edge hands paths over: percent-decoded
        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
        headers=headers,
        body=step.get("body"),
        base_url=outer.base_url,
        app=outer.app,
        in_batch=True,
    )


def _failed_dependency(step_id: str) -> Json:
    return {
        "id": step_id,
        "status": 424,
        "headers": {"Content-Type": "application/json"},
        "body": {
            "error": {
                "code": "FailedDependency",
                "message": "Failed dependency: a request it depends on failed.",
            }
        },
    }


async def batch(ctx: EmulatorContext, req: GraphRequest, params: dict[str, str]) -> GraphResponse:
    steps = _steps(req.body)
    failed: set[str] = set()
    responses: list[Json] = []
    for step in steps:
        step_id = str(step["id"])
        if any(d.lower() in failed for d in _dependencies(step)):
            failed.add(step_id.lower())
            responses.append(_failed_dependency(step_id))
            continue
        inner = _step_request(req, step)
        if inner.path.rstrip("/").lower().endswith("$batch"):
            result = GraphResponse(
                400, {"error": {"code": "BadRequest", "message": "Nested batch requests are not supported."}}
            )
        else:
            result = await ctx.dispatch(inner)
        if result.status >= 400:
            failed.add(step_id.lower())
        item: Json = {"id": step_id, "status": result.status, "headers": dict(result.headers)}
        if result.body is not None:
            item["headers"].setdefault(
                "Content-Type", "text/plain" if isinstance(result.body, str) else "application/json"
            )
            item["body"] = result.body
        responses.append(item)
    return GraphResponse(200, {"responses": responses})


ROUTES = [Route("POST", "/$batch", batch, (), cost=0)]  # free: each step is charged on its own
