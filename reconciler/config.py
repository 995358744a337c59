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

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.errors import ConfigError, EntraformError, ValidationFailed

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
    users: Literal["disable", "delete"] = "disable"


class SafetyConfig(_Strict):
    max_delete_fraction: float = Field(default=0.3, ge=0, le=1)
    max_update_fraction: float = Field(default=0.5, ge=0, le=1)
    min_existing: int = Field(default=10, ge=0)


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


def _substitute(value: Any, where: str, file: str) -> Any:
    """Replace `${VAR}` in the auth section's strings; refuse literal secrets."""
    if isinstance(value, dict):
        return {k: _substitute_field(k, v, f"{where}.{k}", file) for k, v in value.items()}
    return value


def _substitute_field(key: str, value: Any, where: str, file: str) -> Any:
    if not isinstance(value, str):
        return value
    place = _setting_location(Path(file), ("auth", key))
    if key in _SECRET_FIELDS and not _VAR.fullmatch(value.strip()):
        raise ConfigError(
            f"{place}: {where} holds a literal secret; write ${{VARIABLE}} and set it in the environment"
        )

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"{place}: {where} needs the environment variable {name}, which is not set")
        return os.environ[name]

    return _VAR.sub(lookup, value)


def load_config(path: str | None) -> Config:
    """Read `entraform.yaml`; with no file (and none asked for), the embedded local tenant."""
    file = Path(path or DEFAULT_CONFIG_FILE)
    if not file.exists():
        if path is not None:
            raise ConfigError(f"{file}: no such config file")
        return Config()
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: the config must be a mapping of settings")
    if isinstance(raw.get("auth"), dict):
        raw["auth"] = _substitute(raw["auth"], "auth", str(file))
    raw["base_dir"] = str(file.parent)
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems: list[EntraformError] = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = f"unknown setting{_did_you_mean(error['loc'])}"
            problems.append(ConfigError(f"{_setting_location(file, error['loc'])}: {where}: {message}"))
        if len(problems) == 1:
            raise problems[0] from None
        raise ValidationFailed(problems) from None


def _setting_location(file: Path, loc: tuple[int | str, ...]) -> str:
    """`FILE:LINE:COL` of the key of the setting at `loc` (as deep as it is written), for error messages."""
    node = yaml.compose(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    line, col = 0, 0
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        entry = next(((key, value) for key, value in node.value if key.value == part), None)
        if entry is None:
            break
        line, col = entry[0].start_mark.line, entry[0].start_mark.column
        node = entry[1]
    return f"{file}:{line + 1}:{col + 1}"


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
