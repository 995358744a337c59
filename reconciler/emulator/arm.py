"""The two Azure Resource Manager answers azure-cli needs to sign in against the emulator as a custom cloud.

- `GET /metadata/endpoints?api-version=…` (no token): the cloud's endpoints, in the shape ARM's public
  metadata endpoint answers (`https://management.azure.com/metadata/endpoints?api-version=2022-09-01`) and
  `az cloud register --endpoint-resource-manager` reads. Sign-in, Resource Manager and Microsoft Graph all
  point at the emulator itself; the token audience stays ARM's.
- `GET /subscriptions?api-version=…` (an ARM token from the emulator's token endpoint): an empty list, the
  tenant of a directory without Azure subscriptions (`az login --allow-no-subscriptions`).

They are not Graph: they skip Graph's pipeline, its counters, throttling and resource units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reconciler.emulator.auth import ARM_AUDIENCES
from reconciler.emulator.types import GraphApiError

if TYPE_CHECKING:
    from reconciler.emulator.pipeline import Emulator

CLOUD_NAME = "EntraformEmulator"


def cloud_metadata(origin: str) -> dict[str, Any]:
    """ARM's metadata document for a cloud whose every endpoint is `origin`."""
    return {
        "name": CLOUD_NAME,
        "portal": origin,
        "authentication": {
            "loginEndpoint": origin,
            "audiences": list(ARM_AUDIENCES),
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "resourceManager": f"{origin}/",
        "microsoftGraphResourceId": f"{origin}/",
        "graph": f"{origin}/",
        "graphAudience": f"{origin}/",
        "suffixes": {},
    }


def arm_routes(emulator: Emulator) -> list[BaseRoute]:
    async def metadata_endpoints(request: Request) -> Response:
        if missing := _missing_api_version(request):
            return missing
        return JSONResponse(cloud_metadata(f"{request.url.scheme}://{request.url.netloc}"))

    async def subscriptions(request: Request) -> Response:
        if missing := _missing_api_version(request):
            return missing
        authorization = request.headers.get("authorization")
        if not authorization:
            return _error(
                401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
            )
        try:
            emulator.auth.verify(authorization, emulator.now(), audiences=ARM_AUDIENCES)
        except GraphApiError as error:
            return _error(401, "InvalidAuthenticationToken", error.message)
        return JSONResponse({"value": []})

    return [
        Route("/metadata/endpoints", metadata_endpoints, methods=["GET"]),
        Route("/subscriptions", subscriptions, methods=["GET"]),
    ]


def _missing_api_version(request: Request) -> Response | None:
    if request.query_params.get("api-version"):
        return None
    return _error(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )


def _error(status: int, code: str, message: str) -> Response:
    """ARM's error shape: `{"error": {"code", "message"}}`."""
    return JSONResponse({"error": {"code": code, "message": message}}, status)
