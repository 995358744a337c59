"""Every usage error of every command exits 1 with one `error:` line and a hint (SPEC §1).

Exit 2 means "there are differences" and nothing else: a CI job branching on it must never mistake a
typo for drift. The commands and options are walked from the click tree, so a new one is covered too.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import main


def commands(
    group: click.Group = main, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


LEAVES = [(path, command) for path, command in commands() if not isinstance(command, click.Group)]


def wrong_values(option: click.Option) -> list[str]:
    """Values the option's type refuses."""
    kind = option.type
    if isinstance(kind, click.Choice):
        return ["no-such-choice"]
    if isinstance(kind, click.IntRange):
        return ["not-a-number", str((kind.max or 0) + 1000)]
    if kind is click.INT:
        return ["not-a-number"]
    return []


def cases() -> Iterator[tuple[str, list[str]]]:
    for path, command in LEAVES:
        yield f"{' '.join(path)}: unknown option", [*path, "--bogus"]
        yield (
            f"{' '.join(path)}: unexpected argument",
            [*path, *_required(command), "extra1", "extra2", "extra3"],
        )
        for param in command.params:
            if not isinstance(param, click.Option) or param.is_flag:
                continue
            name = param.opts[0]
            yield f"{' '.join(path)} {name}: no value", [*path, *_required(command, but=param), name]
            for value in wrong_values(param):
                yield f"{' '.join(path)} {name} {value}", [*path, *_required(command, but=param), name, value]
            if param.required:
                yield f"{' '.join(path)}: missing {name}", [*path, *_required(command, but=param)]
    yield "unknown command", ["plna"]
    yield "unknown global option", ["--verbosee", "validate"]
    yield "global option without a value", ["validate", "--config"]
    yield "unknown emulator command", ["emulator", "run"]


def _required(command: click.Command, but: click.Parameter | None = None) -> list[str]:
    """Valid values for the command's required options, so that only the case at hand is wrong."""
    words: list[str] = []
    for param in command.params:
        if isinstance(param, click.Option) and param.required and param is not but:
            words += [param.opts[0], "somewhere"]
    return words


CASES = list(cases())


@pytest.mark.parametrize(("args"), [args for _, args in CASES], ids=[name for name, _ in CASES])
def test_a_usage_error_exits_1_with_one_error_line_and_a_hint(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert "--help')" in lines[0] and "try 'entraform" in lines[0]
    assert "Traceback" not in result.stderr and "Usage:" not in result.stderr


def test_the_hint_names_the_command() -> None:
    result = CliRunner().invoke(main, ["drift", "--bogus"])
    assert result.stderr == "error: no such option '--bogus' (try 'entraform drift --help')\n"
    result = CliRunner().invoke(main, ["plan", "--format", "yaml"])
    assert result.stderr == (
        "error: invalid value for '--format': 'yaml' is not one of 'text', 'markdown', 'json' "
        "(try 'entraform plan --help')\n"
    )


def test_every_command_is_walked() -> None:
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"validate", "plan", "apply", "drift", "import", "schema", "emulator serve"} <= names


def test_help_and_version_exit_0() -> None:
    for args in (["--help"], ["plan", "--help"], ["--version"], ["emulator", "serve", "-h"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)


def test_top_level_help_keeps_every_command_description_whole() -> None:
    result = CliRunner().invoke(main, ["--help"], terminal_width=80)
    listed = result.stdout.split("Commands:\n", 1)[1]
    for line in listed.splitlines():
        assert not line.rstrip().endswith("..."), line
