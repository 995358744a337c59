"""`entraform.yaml` → `Config`: defaults, `${VAR}` substitution, refused secrets, precise errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.config import Config, load_config
from reconciler.errors import ConfigError, EntraformError, ValidationFailed


def config_errors(tmp_path: Path, text: str | bytes) -> list[str]:
    """The `error:` lines of a config file holding `text`, with the folder left out."""
    path = tmp_path / "entraform.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(EntraformError) as failed:
        load_config(str(path))
    return [line.replace(str(tmp_path) + "/", "") for line in failed.value.lines()]


def config_error(tmp_path: Path, text: str | bytes) -> str:
    (line,) = config_errors(tmp_path, text)
    return line


def test_no_config_file_means_the_local_tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert config == Config()
    assert (config.is_local, config.state_path) == (True, Path("state"))


def test_an_explicit_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as failed:
        load_config(str(tmp_path / "nope.yaml"))
    assert failed.value.message == f"{tmp_path}/nope.yaml: no such config file"


def test_paths_resolve_against_the_config_directory(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "entraform.yaml").write_text("state_dir: desired\n", encoding="utf-8")
    config = load_config(str(tmp_path / "infra" / "entraform.yaml"))
    assert config.state_path == tmp_path / "infra" / "desired"


def test_environment_variables_are_substituted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "s3cret")
    path = tmp_path / "entraform.yaml"
    path.write_text(
        "tenant: contoso.example\nauth:\n  method: client_secret\n"
        "  client_id: ${AZURE_CLIENT_ID}\n  client_secret: ${AZURE_CLIENT_SECRET}\n",
        encoding="utf-8",
    )
    config = load_config(str(path))
    assert config.auth.client_id == "11111111-2222-3333-4444-555555555555"
    assert config.auth.client_secret == "s3cret"
    assert not config.is_local


def test_an_unset_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENTRAFORM_TEST_UNSET", raising=False)
    message = config_error(tmp_path, "auth:\n  client_id: ${ENTRAFORM_TEST_UNSET}\n")
    assert message == (
        "entraform.yaml:2:3: auth.client_id needs the environment variable ENTRAFORM_TEST_UNSET, "
        "which is not set"
    )


def test_a_literal_secret_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, "auth:\n  method: client_secret\n  client_secret: hunter2\n")
    assert message == (
        "entraform.yaml:3:3: auth.client_secret holds a literal secret; write ${VARIABLE} and set it in the "
        "environment"
    )


def test_an_unknown_setting_is_refused_with_its_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "tenant: local\nsafety:\n  max_delete_fraktion: 0.2\n")
    assert message == (
        "entraform.yaml:3:3: safety.max_delete_fraktion: unknown setting (did you mean "
        "'max_delete_fraction'?)"
    )


def test_an_unknown_top_level_setting(tmp_path: Path) -> None:
    message = config_error(tmp_path, "state_dri: state\n")
    assert message == "entraform.yaml:1:1: state_dri: unknown setting (did you mean 'state_dir'?)"


def test_a_value_out_of_range(tmp_path: Path) -> None:
    message = config_error(tmp_path, "safety:\n  max_delete_fraction: 2\n")
    assert (
        message == "entraform.yaml:2:3: safety.max_delete_fraction: Input should be less than or equal to 1"
    )


def test_a_wrong_choice(tmp_path: Path) -> None:
    message = config_error(tmp_path, "removal:\n  users: erase\n")
    assert message == "entraform.yaml:2:3: removal.users: Input should be 'disable', 'delete' or 'purge'"


def test_invalid_yaml(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'tenant: "local\n')
    assert message.startswith("entraform.yaml:2:1: invalid YAML: ")


def test_not_a_mapping(tmp_path: Path) -> None:
    assert (
        config_error(tmp_path, "- local\n") == "entraform.yaml:1:1: the config must be a mapping of settings"
    )


def test_every_wrong_setting_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "entraform.yaml").write_text(
        "tenant: local\nsafety:\n  max_delete_fraction: 7\n  min_existing: many\nremoval:\n  users: erase\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        load_config(str(tmp_path / "entraform.yaml"))
    lines = [line.replace(str(tmp_path) + "/", "") for line in caught.value.lines()]
    assert [line.split(": ")[0] for line in lines] == [
        "entraform.yaml:3:3",
        "entraform.yaml:4:3",
        "entraform.yaml:6:3",
    ]
    assert "removal.users" in lines[2]


def test_every_problem_of_the_auth_section_is_reported_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A literal secret does not hide the other problems, and every unset variable is named."""
    monkeypatch.delenv("ENTRAFORM_TEST_A", raising=False)
    monkeypatch.delenv("ENTRAFORM_TEST_B", raising=False)
    lines = config_errors(
        tmp_path,
        "tenant: contoso.example\n"
        "auth:\n"
        "  method: client_secret\n"
        "  client_id: ${ENTRAFORM_TEST_A}\n"
        "  client_secret: hunter2\n"
        "  token_file: ${ENTRAFORM_TEST_B}/${ENTRAFORM_TEST_A}\n"
        "safety: {max_update_fraktion: 1}\n",
    )
    unset = "needs the environment variable {}, which is not set"
    assert lines == [
        "entraform.yaml:4:3: auth.client_id " + unset.format("ENTRAFORM_TEST_A"),
        "entraform.yaml:5:3: auth.client_secret holds a literal secret; write ${VARIABLE} and set it in the "
        "environment",
        "entraform.yaml:6:3: auth.token_file " + unset.format("ENTRAFORM_TEST_A"),
        "entraform.yaml:6:3: auth.token_file " + unset.format("ENTRAFORM_TEST_B"),
        "entraform.yaml:7:10: safety.max_update_fraktion: unknown setting "
        "(did you mean 'max_update_fraction'?)",
    ]


def test_a_directory_given_as_the_config_file(tmp_path: Path) -> None:
    with pytest.raises(EntraformError) as failed:
        load_config(str(tmp_path))
    assert failed.value.lines() == [
        f"{tmp_path.as_posix()}: cannot read the config file: it is a directory, not a file"
    ]


def test_a_config_file_that_is_not_utf8(tmp_path: Path) -> None:
    assert config_error(tmp_path, b"tenant: caf\xe9\n") == (
        "entraform.yaml:1:12: not UTF-8 text (byte 0xe9); save the config file as UTF-8"
    )


def test_an_unreadable_config_file(tmp_path: Path) -> None:
    path = tmp_path / "entraform.yaml"
    path.write_text("tenant: local\n", encoding="utf-8")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who may read any file (root)")
        with pytest.raises(EntraformError) as failed:
            load_config(str(path))
    finally:
        path.chmod(0o644)
    assert failed.value.lines() == [f"{path.as_posix()}: cannot read the config file: permission denied"]


def test_an_empty_config_file_is_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "entraform.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert load_config(str(path)).tenant == "local"


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "entraform.yaml"
    path.write_bytes(b"\xef\xbb\xbfstate_dir: desired\n")
    assert load_config(str(path)).state_dir == "desired"
