"""`entraform.yaml` → `Config` (SPEC §2).

`${VAR}` is read from the environment in the auth section; a literal secret there is refused so that
no secret is ever committed to git beside the desired state.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from yaml.error import Mark

from reconciler.errors import ConfigError, EntraformError, Location, Problem, ValidationFailed
from reconciler.files import read_text
from reconciler.yamlload import MarkedList, MarkedMap, parse_yaml

DEFAULT_CONFIG_FILE = "entraform.yaml"
LOCAL_TENANT = "local"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_FIELDS = ("client_secret", "certificate_password")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthConfig(_Strict):
    method: Literal["default", "client_secret", "certificate", "workload_identity", "azure_cli"] = "default"
    client_id: str | None = None
    client_secret: str | None = None
    certificate_path: str | None = None
    certificate_password: str | None = None
    token_file: str | None = Field(default=None, description="federated token file (workload_identity)")


class UserMatch(_Strict):
    upn_suffix: str | None = None


class GroupMatch(_Strict):
    mail_nickname_prefix: str | None = None


class UserScope(_Strict):
    authoritative: bool = False
    match: UserMatch = UserMatch()


class GroupScope(_Strict):
    authoritative: bool = False
    match: GroupMatch = GroupMatch()


class ScopeConfig(_Strict):
    protected: list[str] = Field(
        default_factory=list, description="UPNs or group mailNicknames never changed"
    )
    users: UserScope = UserScope()
    groups: GroupScope = GroupScope()


class RemovalConfig(_Strict):
    users: Literal["disable", "delete", "purge"] = Field(
        default="disable",
        description="disable: accountEnabled false, direct licenses and memberships of managed groups "
        "removed · delete: soft delete, restorable for 30 days · purge: deleted permanently (no restore)",
    )


class SafetyConfig(_Strict):
    max_delete_fraction: float = Field(default=0.3, ge=0, le=1)
    max_purge_fraction: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="of the managed users, purged (removal.users: purge) in one plan: a purge has no undo",
    )
    max_update_fraction: float = Field(default=0.5, ge=0, le=1)
    min_existing: int = Field(default=10, ge=0)


class DriftConfig(_Strict):
    apply_apps: list[str] = Field(
        default_factory=list,
        description="client ids of the apps entraform applies with (e.g. CI's writer): their writes are not "
        "drift; the journal's apps count too",
    )


class Config(_Strict):
    tenant: str = LOCAL_TENANT
    graph_url: str = "https://graph.microsoft.com/v1.0"
    authority: str = "https://login.microsoftonline.com"
    ca_bundle: str | None = None
    auth: AuthConfig = AuthConfig()
    state_dir: str = "state"
    scope: ScopeConfig = ScopeConfig()
    removal: RemovalConfig = RemovalConfig()
    safety: SafetyConfig = SafetyConfig()
    drift: DriftConfig = DriftConfig()
    cache_dir: str = Field(
        default=".entraform/cache", description="where plan and drift keep the delta cache"
    )
    # Directory the config was read from: relative paths (state_dir, ca_bundle) resolve against it.
    base_dir: str = Field(default=".", exclude=True)

    @property
    def is_local(self) -> bool:
        return self.tenant == LOCAL_TENANT

    def path(self, relative: str) -> Path:
        return Path(self.base_dir) / relative

    @property
    def state_path(self) -> Path:
        return self.path(self.state_dir)


def _substitute(key: str, value: Any, auth: MarkedMap, problems: list[Problem]) -> Any:
    """`${VAR}` in the auth section's strings replaced from the environment; literal secrets refused."""
    if not isinstance(value, str):
        return value
    where = f"auth.{key}"
    place = auth.key_location(key)
    if key in _SECRET_FIELDS and not _VAR.fullmatch(value.strip()):
        message = f"{where} holds a literal secret; write ${{VARIABLE}} and set it in the environment"
        problems.append(Problem(message, place))
        return None
    missing = [name for name in _VAR.findall(value) if name not in os.environ]
    for name in missing:
        problems.append(Problem(f"{where} needs the environment variable {name}, which is not set", place))
    return None if missing else _VAR.sub(lambda match: os.environ[match.group(1)], value)


def load_config(path: str | None) -> Config:
    """Read `entraform.yaml`; with no file (and none asked for), the embedded local tenant.

    Every problem is reported at once, each at the line of the setting it is about: YAML syntax, unknown
    or wrong settings, literal secrets and unset `${VAR}`s.
    """
    file = Path(path or DEFAULT_CONFIG_FILE)
    if path is None and not file.exists():
        return Config()
    name = file.as_posix()
    if not file.exists():
        raise ConfigError(f"{name}: no such config file")
    document, problems = parse_yaml(read_text(file, "config file"), name)
    if problems:
        raise _failed(problems)
    if document is None:
        document = MarkedMap(name, Mark(name, 0, 0, 0, "", 0))
    if not isinstance(document, MarkedMap):
        raise ConfigError("the config must be a mapping of settings", Location(name, 1, 1))
    raw: dict[str, Any] = dict(document)
    auth = document.get("auth")
    if isinstance(auth, MarkedMap):
        raw["auth"] = {key: _substitute(key, value, auth, problems) for key, value in auth.items()}
    raw["base_dir"] = str(file.parent)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"]
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = f"unknown setting{_did_you_mean(loc)}"
            setting = ".".join(str(part) for part in loc)
            problems.append(Problem(f"{setting}: {message}", _setting_location(document, loc)))
    if problems:
        raise _failed(problems)
    return config


def _failed(problems: list[Problem]) -> EntraformError:
    if len(problems) == 1:
        return ConfigError(problems[0].message, problems[0].location)
    return ValidationFailed(problems)


def _setting_location(document: MarkedMap, loc: tuple[int | str, ...]) -> Location:
    """Where the key of the setting at `loc` is written, as deep as it is written."""
    node: Any = document
    location = Location(document.file, 1, 1)
    for part in loc:
        if isinstance(node, MarkedMap) and part in node:
            location = node.key_location(str(part))
        elif isinstance(node, MarkedList) and isinstance(part, int) and 0 <= part < len(node):
            location = node.item_location(part)
        else:
            break
        node = node[part]
    return location


def _did_you_mean(loc: tuple[int | str, ...]) -> str:
    model: type[BaseModel] = Config
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        nested = field.annotation if field else None
        if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
            return ""
        model = nested
    known = [name for name in model.model_fields if name != "base_dir"]
    match = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
