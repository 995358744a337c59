"""The emulator's Microsoft identity platform: built-in apps, the token endpoint and token checks.

Tokens are HS256 JWTs signed with a key kept in the store's meta table, so they survive a restart. The
clients never validate them; the emulator does, on every Graph request.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

import jwt

from reconciler.emulator.types import AppIdentity, GraphApiError

if TYPE_CHECKING:
    from reconciler.emulator.store import Store

# The apps every tenant has (documented in the README): `reader` holds entraform's read permissions,
# directory roles and the audit log included; `writer` adds the writes but for role management, which
# only `admin` holds (the app a tenant keeps for privileged changes).
READER_ROLES = (
    "User.Read.All",
    "GroupMember.Read.All",
    "Organization.Read.All",
    "RoleManagement.Read.Directory",
    "AuditLog.Read.All",
    "Directory.Read.All",
    "User-LifeCycleInfo.Read.All",
)
WRITER_ROLES = (
    *READER_ROLES,
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All",
    "LicenseAssignment.ReadWrite.All",
    "User.DeleteRestore.All",
    "User-LifeCycleInfo.ReadWrite.All",
)
ADMIN_ROLES = (*WRITER_ROLES, "RoleManagement.ReadWrite.Directory")
BUILTIN_ROLES = {"reader": READER_ROLES, "writer": WRITER_ROLES, "admin": ADMIN_ROLES}

# Graph accepts both forms of its own audience (Entra docs: access-token-claims-reference, `aud`).
GRAPH_AUDIENCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
# Azure Resource Manager's: a token asked for either resource carries the first (what azure-cli asks for,
# `https://management.core.windows.net//.default`).
ARM_AUDIENCES = ("https://management.core.windows.net/", "https://management.azure.com/")
TOKEN_LIFETIME_S = 3599
_APPS_META = "emulator.apps"
_KEY_META = "emulator.signing_key"
_VERIFIED_CACHE_SIZE = 1000


def display_name_of(name: str) -> str:
    """The name an app is known by in the tenant (Entra's displayName; audit records show it)."""
    return f"entraform {name}"


def service_principal_id(client_id: str) -> str:
    """The object id of an app's service principal in the tenant (the token's `oid`)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, client_id))


@dataclass(frozen=True)
class AppRegistration:
    name: str
    client_id: str
    client_secret: str
    roles: tuple[str, ...]
    display_name: str = ""

    @property
    def shown_as(self) -> str:
        return self.display_name or display_name_of(self.name)

    def to_json(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "display_name": self.shown_as,
            "roles": list(self.roles),
        }


@dataclass(frozen=True)
class TokenReply:
    """What the token endpoint answers: a status and the JSON body."""

    status: int
    body: dict[str, Any]


class Auth:
    """Apps, secrets and the signing key of one emulated tenant (all persisted in the store's meta)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.apps = self._load_apps()
        self.key = self._load_key()
        self._verified: dict[str, dict[str, Any]] = {}

    def _load_apps(self) -> dict[str, AppRegistration]:
        """The saved apps, brought up to date: a tenant saved before an app or a permission was added
        gets it now, keeping every app's client id and secret (so its info file stays valid)."""
        saved = json.loads(self.store.get_meta(_APPS_META) or "{}")
        apps = {
            name: AppRegistration(
                name, app["client_id"], app["client_secret"], tuple(app["roles"]), app.get("display_name", "")
            )
            for name, app in saved.items()
        }
        for name, roles in BUILTIN_ROLES.items():
            old = apps.get(name)
            client_id, secret = (
                (old.client_id, old.client_secret) if old else (str(uuid.uuid4()), _new_secret())
            )
            apps[name] = AppRegistration(name, client_id, secret, roles, display_name_of(name))
        current = {name: app.to_json() for name, app in apps.items()}
        if current != saved:
            self.store.set_meta(_APPS_META, json.dumps(current))
        return apps

    def _load_key(self) -> bytes:
        saved = self.store.get_meta(_KEY_META)
        if saved is None:
            saved = secrets.token_hex(32)
            self.store.set_meta(_KEY_META, saved)
        return bytes.fromhex(saved)

    def app_by_client_id(self, client_id: str) -> AppRegistration | None:
        return next((app for app in self.apps.values() if app.client_id == client_id), None)

    def known_tenant(self, tenant: str) -> bool:
        """The token endpoint's `{tenant}`: the tenant id or one of its verified domains."""
        domains = {d.get("name", "").lower() for d in self.store.organization.get("verifiedDomains", [])}
        return tenant == self.store.tenant_id or tenant.lower() in domains

    # ---- issuing ---------------------------------------------------------------------------------

    def mint(self, app: AppRegistration, now: float, audience: str = GRAPH_AUDIENCES[0]) -> str:
        """A signed app-only access token for `app`, shaped like Entra's v1.0 tokens (Graph's by default)."""
        tenant_id = self.store.tenant_id
        issued = int(now)
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "iat": issued,
            "nbf": issued,
            "exp": issued + TOKEN_LIFETIME_S,
            "appid": app.client_id,
            "app_displayname": app.shown_as,
            "idtyp": "app",
            "oid": service_principal_id(app.client_id),
            "roles": list(app.roles),
            "tid": tenant_id,
            "ver": "1.0",
            "xms_cc": ["CP1"],
            "uti": secrets.token_urlsafe(16),
        }
        return jwt.encode(claims, self.key, algorithm="HS256", headers={"kid": "emulator"})

    def token_endpoint(
        self, tenant: str, form_body: bytes, authorization: str | None, now: float
    ) -> TokenReply:
        """`POST /{tenant}/oauth2/v2.0/token` with the client-credentials grant; AADSTS errors, never 5xx."""
        form = {k: v[0] for k, v in parse_qs(form_body.decode("utf-8", "replace")).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = _basic_credentials(authorization)
        if basic is not None:
            client_id, client_secret = client_id or basic[0], client_secret or basic[1]
        if not self.known_tenant(tenant):
            return _aad_error(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
                "signing into the correct cloud.",
                now,
            )
        grant = form.get("grant_type")
        if grant is None:
            return _missing_parameter("grant_type", now)
        if grant != "client_credentials":
            return _aad_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'. The emulator supports only "
                "'client_credentials'.",
                now,
            )
        if not client_id:
            return _missing_parameter("client_id", now)
        app = self.app_by_client_id(client_id)
        if app is None:
            return _aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. This "
                "can happen if the application has not been installed by the administrator of the tenant "
                "or consented to by any user in the tenant. You may have sent your authentication request "
                "to the wrong tenant.",
                now,
            )
        if not client_secret:
            return _aad_error(
                401,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' "
                "grant type.",
                now,
            )
        if not secrets.compare_digest(client_secret, app.client_secret):
            return _aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{client_id}'.",
                now,
            )
        scope = form.get("scope")
        if scope is None:
            return _missing_parameter("scope", now)
        if not all(s.endswith("/.default") for s in scope.split()):
            return _aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a "
                "scope value with /.default suffixed to the resource identifier (application ID URI).",
                now,
            )
        token = self.mint(app, now, audience_of(scope))
        body = {
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_S,
            "ext_expires_in": TOKEN_LIFETIME_S,
            "access_token": token,
        }
        return TokenReply(200, body)

    # ---- checking --------------------------------------------------------------------------------

    def verify(
        self, authorization: str | None, now: float, audiences: tuple[str, ...] = GRAPH_AUDIENCES
    ) -> AppIdentity:
        """The calling app from an `Authorization: Bearer …` header for one of `audiences` (Graph's by
        default), or 401 InvalidAuthenticationToken."""
        if not authorization or not authorization.strip():
            raise _unauthenticated("Access token is empty.")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthenticated("Access token validation failure. Invalid token.")
        claims = self._decode(token.strip())
        if claims.get("aud") not in audiences:
            raise _unauthenticated("Access token validation failure. Invalid audience.")
        # The emulator's own clock (with its configured offset) decides expiry, so tests can age tokens.
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
            raise _unauthenticated("Lifetime validation failed, the token is expired.")
        tenant_id = self.store.tenant_id
        if claims.get("tid") != tenant_id or claims.get("iss") != f"https://sts.windows.net/{tenant_id}/":
            raise _unauthenticated("Access token validation failure. Invalid issuer or signature.")
        app = self.app_by_client_id(str(claims.get("appid", "")))
        if app is None:
            raise _unauthenticated("Access token validation failure. Unknown application.")
        roles = claims.get("roles") or []
        return AppIdentity(
            client_id=app.client_id,
            name=app.name,
            roles=frozenset(map(str, roles)),
            tenant_id=claims["tid"],
            display_name=app.shown_as,
        )

    def _decode(self, token: str) -> dict[str, Any]:
        """The claims of a token signed with our key; remembered, as clients reuse a token for an hour."""
        claims = self._verified.get(token)
        if claims is not None:
            return claims
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=["HS256"],
                audience=[*GRAPH_AUDIENCES, *ARM_AUDIENCES],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidAudienceError as exc:
            raise _unauthenticated("Access token validation failure. Invalid audience.") from exc
        except jwt.InvalidTokenError as exc:
            raise _unauthenticated("Access token validation failure. Invalid signature.") from exc
        if len(self._verified) >= _VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = claims
        return claims


def audience_of(scope: str) -> str:
    """The audience a token for `scope` carries: ARM's for Azure Resource Manager's resource, else Graph's
    (clients that derive the scope from the emulator's own address still get a Graph token)."""
    resources = {s.removesuffix("/.default").rstrip("/") + "/" for s in scope.split()}
    return ARM_AUDIENCES[0] if resources & set(ARM_AUDIENCES) else GRAPH_AUDIENCES[0]


def openid_configuration(authority: str, tenant: str) -> dict[str, Any]:
    """What MSAL reads before asking for a token: it needs `token_endpoint` and `authorization_endpoint`."""
    base = f"{authority}/{tenant}"
    return {
        "issuer": f"{authority}/{tenant}/v2.0",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "jwks_uri": f"{authority}/{tenant}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
    }


def _new_secret() -> str:
    # Entra client secrets look like "abc8Q~…": three characters, a version marker, then 34 more.
    return f"emu8Q~{secrets.token_urlsafe(27)}"


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 §2.3.1: both halves are form-urlencoded before being joined.
    return unquote(client_id), unquote(client_secret)


def _missing_parameter(name: str, now: float) -> TokenReply:
    return _aad_error(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{name}'.",
        now,
    )


def _aad_error(status: int, error: str, code: int, message: str, now: float) -> TokenReply:
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(now))
    description = (
        f"AADSTS{code}: {message}\r\n"
        f"Trace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {stamp}"
    )
    body = {
        "error": error,
        "error_description": description,
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return TokenReply(status, body)


def _unauthenticated(message: str) -> GraphApiError:
    return GraphApiError(401, "InvalidAuthenticationToken", message)
