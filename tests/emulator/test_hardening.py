"""The emulator's own defences, in-process: bounded request bodies (every route), bounded `$filter`s, and
the files it writes (the info file holds the apps' secrets). The admin API's loopback rule is in
test_admin.py, token checks in test_auth.py, the `$batch` bound of 20 in test_conformance_batch.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator.app import MAX_BODY_BYTES
from reconciler.emulator.inprocess import LocalTenant
from reconciler.emulator.odata import MAX_FILTER_CHARS, MAX_FILTER_DEPTH, MAX_FILTER_NODES
from reconciler.emulator.serve import EmulatorServer, ServeOptions

Local = Callable[[str], LocalTenant]
TOO_LARGE = (413, "RequestEntityTooLarge", "The maximum request length supported is 4MB.")


def call(
    tenant: LocalTenant, method: str, path: str, app: str | None = None, **kwargs: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {tenant.token(app)}"} if app else {}
    transport = httpx.ASGITransport(app=tenant.app, client=("127.0.0.1", 1234))

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:8443") as client:
            return await client.request(method, path, headers=headers, **kwargs)

    return asyncio.run(go())


def error_of(reply: httpx.Response) -> tuple[int, str, str]:
    error = reply.json()["error"]
    return reply.status_code, error["code"], error["message"]


@pytest.mark.parametrize(
    "method, path, app",
    [
        ("POST", "/v1.0/$batch", "writer"),
        ("POST", "/v1.0/users", "writer"),
        ("PUT", "/_emulator/config", None),
        ("POST", "/tenant/oauth2/v2.0/token", None),
    ],
)
def test_a_body_over_4_mb_is_refused_with_413_on_every_route(
    local_tenant: Local, method: str, path: str, app: str | None
) -> None:
    tenant = local_tenant("empty")
    body = b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}'
    assert error_of(call(tenant, method, path, app, content=body)) == TOO_LARGE
    assert tenant.emulator.stats.writes == 0


def test_a_chunked_body_is_cut_off_once_it_passes_4_mb(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    chunk = b"a" * 65_536

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size shows only as it arrives
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            yield chunk

    assert error_of(call(tenant, "POST", "/v1.0/users", "writer", content=chunks())) == TOO_LARGE


def test_a_body_at_the_limit_is_read(local_tenant: Local) -> None:
    tenant = local_tenant("empty")
    body = json.dumps({"requests": [{"id": "1", "method": "GET", "url": "/users"}], "pad": ""}).encode()
    padded = body.replace(b'"pad": ""', b'"pad": "' + b" " * (MAX_BODY_BYTES - len(body)) + b'"')
    assert len(padded) == MAX_BODY_BYTES
    assert call(tenant, "POST", "/v1.0/$batch", "reader", content=padded).status_code == 200


def ors(count: int) -> str:
    return " or ".join(f"displayName eq 'n{i}'" for i in range(count))


@pytest.mark.parametrize(
    "text, why",
    [
        ("displayName eq '" + "a" * MAX_FILTER_CHARS + "'", f"at most {MAX_FILTER_CHARS} are accepted"),
        (
            "id in (" + ", ".join(f"'{i}'" for i in range(MAX_FILTER_NODES)) + ")",
            f"more than {MAX_FILTER_NODES} terms",
        ),
        (ors(MAX_FILTER_DEPTH + 5), f"deeper than {MAX_FILTER_DEPTH} levels"),
        ("not (" * 300 + "displayName eq 'a'" + ")" * 300, f"deeper than {MAX_FILTER_DEPTH} levels"),
    ],
    ids=["long", "many-terms", "long-or-chain", "nested"],
)
def test_a_filter_over_the_bounds_is_400_before_it_runs(local_tenant: Local, text: str, why: str) -> None:
    tenant = local_tenant("demo")
    reply = call(tenant, "GET", "/v1.0/groups", "reader", params={"$filter": text})
    status, code, message = error_of(reply)
    assert (status, code) == (400, "BadRequest")
    assert message.startswith("Invalid filter clause: the filter is too complex: ") and why in message


def test_a_filter_within_the_bounds_runs_however_long_its_or_chain(local_tenant: Local) -> None:
    tenant = local_tenant("demo")
    reply = call(tenant, "GET", "/v1.0/groups", "reader", params={"$filter": ors(MAX_FILTER_DEPTH - 5)})
    assert reply.status_code == 200 and reply.json()["value"] == []


def test_the_info_file_is_for_its_owner_only_and_a_link_there_is_replaced_not_followed(
    tmp_path: Path,
) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("not the emulator's\n")
    info_file = tmp_path / "info.json"
    info_file.symlink_to(target)
    server = EmulatorServer(
        ServeOptions(db=str(tmp_path / "t.db"), port=0, seed="empty", info_file=info_file)
    )
    server.start_in_thread()
    try:
        assert not info_file.is_symlink() and target.read_text() == "not the emulator's\n"
        assert info_file.stat().st_mode & 0o777 == 0o600  # it holds the apps' client secrets
    finally:
        server.stop()


@pytest.mark.parametrize("seed", ["../../etc/passwd", "/etc/passwd", "synthetic:../x:1:1", "demo/../empty"])
def test_the_admin_api_takes_seed_names_never_paths(local_tenant: Local, seed: str) -> None:
    tenant = local_tenant("empty")
    reply = call(tenant, "POST", "/_emulator/seed", json={"seed": seed})
    assert reply.status_code == 400
    assert tenant.emulator.seed == "empty"
