"""Emulator speed: seeding a synthetic tenant, then paging every user over loopback HTTPS.

    .venv/bin/python bench/bench_emulator.py [--seed synthetic:100000:10000:1000000]

1. Seeding: `build_seed` + `Store.load_seed` into a fresh SQLite file (targets: ≤ 90 s for the default).
2. Serving: `entraform emulator serve` in its own process on that file (loading it is timed too).
3. Paging: GET /users?$top=999&$select=<10 properties> following every @odata.nextLink over HTTPS, with
   httpx and `json.loads` on each page, as the reconciler's bulk reads do (target: ≤ 10 s for 100,000).
"""

from __future__ import annotations

import argparse
import json
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from reconciler.emulator.seeds import build_seed
from reconciler.emulator.store import Store

SELECT = ",".join(
    [
        "id",
        "displayName",
        "userPrincipalName",
        "accountEnabled",
        "department",
        "jobTitle",
        "mail",
        "usageLocation",
        "employeeId",
        "givenName",
    ]
)
ENTRAFORM = Path(sys.executable).with_name("entraform")


def seed(db: Path, name: str) -> float:
    started = time.perf_counter()
    store = Store.open(str(db))
    store.load_seed(build_seed(name))
    store.set_meta("emulator.seed", name)
    store.close()
    return time.perf_counter() - started


def serve(db: Path, name: str, info_file: Path) -> tuple[subprocess.Popen[bytes], dict[str, object], float]:
    started = time.perf_counter()
    command = [str(ENTRAFORM), "emulator", "serve", "--db", str(db), "--seed", name, "--port", "0"]
    command += ["--no-throttle", "--info-file", str(info_file)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not info_file.exists():
        if process.poll() is not None:
            raise SystemExit(f"emulator exited with {process.returncode}")
        time.sleep(0.05)
    time.sleep(0.2)  # the info file is written before the socket accepts: give uvicorn a moment
    return process, json.loads(info_file.read_text()), time.perf_counter() - started


def page_users(info: dict[str, object]) -> tuple[int, int, float]:
    verify = ssl.create_default_context(cafile=str(info["ca_bundle"]))
    apps = info["apps"]
    assert isinstance(apps, dict)
    reader = apps["reader"]
    token = httpx.post(
        f"{info['authority']}/{info['tenant_id']}/oauth2/v2.0/token",
        data={
            "client_id": reader["client_id"],
            "client_secret": reader["client_secret"],
            "grant_type": "client_credentials",
            "scope": "https://graph.microsoft.com/.default",
        },
        verify=verify,
    ).json()["access_token"]
    users = pages = 0
    started = time.perf_counter()
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, verify=verify, timeout=60) as client:
        url: str | None = f"{info['graph_url']}/users?$top=999&$select={SELECT}"
        while url:
            response = client.get(url)
            response.raise_for_status()
            body = json.loads(response.content)
            users += len(body["value"])
            pages += 1
            url = body.get("@odata.nextLink")
    return users, pages, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default="synthetic:100000:10000:1000000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "tenant.db"
        seconds = seed(db, args.seed)
        print(f"seed {args.seed}: {seconds:.1f} s (target ≤ 90 s)")
        process, info, startup = serve(db, args.seed, Path(folder) / "info.json")
        try:
            print(f"serve: loaded and listening after {startup:.1f} s")
            users, pages, paging = page_users(info)
            print(f"paging: {users} users in {pages} pages ($top=999, 10-property $select) in {paging:.2f} s")
            print("        over loopback HTTPS with httpx + json.loads (target ≤ 10 s for 100,000)")
        finally:
            process.terminate()
            process.wait(timeout=60)


if __name__ == "__main__":
    main()
