"""The `entraform` command line: click commands, exit codes and wiring (SPEC §1).

Heavy modules (the Graph SDK, the emulator) are imported inside the commands that need them so that
`entraform validate` and `--help` stay fast.
"""

from __future__ import annotations

import asyncio
import gc
import shlex
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler import __version__
from reconciler.config import Config, load_config
from reconciler.desired.model import DesiredGroup, DesiredState, DesiredUser
from reconciler.errors import ApplyFailed, EntraformError
from reconciler.files import make_directory, write_text
from reconciler.live import LiveState
from reconciler.plan.model import Plan
from reconciler.wording import counted

if TYPE_CHECKING:  # imported where used: `validate` and `--help` stay fast without the Graph client
    from reconciler.desired.loader import Declared
    from reconciler.importer import Layout
    from reconciler.progress import ProgressDisplay
    from reconciler.reports.signins import SignIns

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Globals:
    config_file: str | None
    verbose: bool
    quiet: bool
    color: bool

    def config(self) -> Config:
        return load_config(self.config_file)


def _fail(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"error: {line}", err=True)


def handles_errors(func: F) -> F:
    """Turn every failure into `error: …` lines and exit 1; a traceback only with -v.

    Exit 2 means "there are differences" and nothing else (SPEC §1), so nothing that goes wrong may
    leave with it: errors a user can act on, bad paths (`OSError`) and, as a last resort, bugs.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        verbose = bool(ctx.obj and ctx.obj.verbose)
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:
            # SPEC §1 knows exit statuses 0, 1 and 2 only: an interrupted run is a partial one.
            _fail(["interrupted; run the command again to finish (plan/apply converge)"])
            sys.exit(1)
        except click.UsageError:
            raise  # an option combination a command refuses: `main` words it, with the help hint
        except Exception as exc:
            if verbose:
                raise
            _fail(_error_lines(exc))
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _error_lines(exc: Exception) -> list[str]:
    if isinstance(exc, EntraformError):
        return exc.lines()
    if isinstance(exc, OSError):
        from reconciler.files import describe_os_error

        where = f"{exc.filename}: " if exc.filename else ""
        return [f"{where}{describe_os_error(exc)}"]
    return [f"unexpected {type(exc).__name__}: {exc} (run again with -v for the details, and report it)"]


class EntraformCli(click.Group):
    """The top-level group: usage errors exit 1 with one `error:` line and a hint, not click's 2.

    Click exits 2 on a usage error; in a drift job 2 means "the tenant drifted", so a typo would open a
    drift issue from a report that was never written (SPEC §1).
    """

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else self.name
            _fail([f"{_sentence(exc.format_message())} (try '{command} --help')"])
            sys.exit(1)
        except click.ClickException as exc:
            _fail([_sentence(exc.format_message())])
            sys.exit(1)
        except click.Abort:
            _fail(["aborted; nothing more was done"])
            sys.exit(1)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


def _sentence(message: str) -> str:
    """Click's message on one line, starting in lower case like every other `error:` line."""
    text = " ".join(message.split()).removesuffix(".")
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


@click.group(name="entraform", cls=EntraformCli, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", metavar="FILE", help="Config file (default ./entraform.yaml).")
@click.option("-v", "--verbose", is_flag=True, help="More detail; tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and the essential output.")
@click.option("--no-color", is_flag=True, help="No colour in the output.")
@click.version_option(__version__, prog_name="entraform")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, verbose: bool, quiet: bool, no_color: bool) -> None:
    """GitOps for Microsoft Entra ID: users, groups, memberships and licenses from YAML."""
    # A run builds millions of small acyclic objects (a 100,000-user tenant and its YAML): with the
    # default threshold of 700 the cycle collector walks them again and again, 40% of a warm plan.
    gc.set_threshold(100_000, 50, 100)
    ctx.obj = Globals(config_file=config_file, verbose=verbose, quiet=quiet, color=not no_color)


@main.group(short_help="The local Microsoft Graph emulator.")
def emulator() -> None:
    """The local Microsoft Graph emulator."""


@emulator.command("serve", short_help="Serve the Graph emulator until stopped.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8443, show_default=True, help="Port to bind; 0 picks any free port.")
@click.option("--db", "db_file", default=".entraform/emulator.db", show_default=True, help="SQLite database.")
@click.option(
    "--seed", default="demo", show_default=True, help="demo, empty or synthetic:USERS:GROUPS:MEMBERSHIPS."
)
@click.option(
    "--info-file", type=click.Path(dir_okay=False), help="Write the connection JSON here once serving."
)
@click.option("--tls/--no-tls", default=True, show_default=True, help="HTTPS with a CA kept beside the db.")
@click.option("--throttle/--no-throttle", default=True, show_default=True, help="Throttle by resource units.")
@click.option("--allow-remote", is_flag=True, help="Allow a --host that is not loopback.")
@handles_errors
def emulator_serve(
    host: str,
    port: int,
    db_file: str,
    seed: str,
    info_file: str | None,
    tls: bool,
    throttle: bool,
    allow_remote: bool,
) -> None:
    """Run the Microsoft Graph emulator until stopped (Ctrl-C or SIGTERM)."""
    import json
    import signal

    from reconciler.emulator.seeds import SeedError
    from reconciler.emulator.serve import EmulatorServer, ServeOptions, is_loopback_host

    if not is_loopback_host(host) and not allow_remote:
        raise EntraformError(
            f"refusing to listen on {host}: the emulator's apps and secrets are for local tests; "
            "bind a loopback address or pass --allow-remote"
        )
    if db_file != ":memory:":
        Path(db_file).parent.mkdir(parents=True, exist_ok=True)
    options = ServeOptions(
        db=db_file,
        host=host,
        port=port,
        seed=seed,
        info_file=Path(info_file) if info_file else None,
        tls=tls,
        throttle=throttle,
    )
    try:
        server = EmulatorServer(options)
    except SeedError as exc:
        raise EntraformError(f"--seed {seed}: {exc}") from exc
    except OSError as exc:
        raise EntraformError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc

    if server.emulator.seed != seed:
        click.echo(
            f"note: {db_file} already holds a tenant seeded with {server.emulator.seed}; --seed {seed} is "
            "ignored (POST /_emulator/seed replaces the tenant)",
            err=True,
        )

    def announce(info: dict[str, Any]) -> None:
        click.echo(f"Graph emulator ready (Ctrl-C stops it): {json.dumps(info, indent=2)}", err=True)

    # uvicorn re-raises the signal that stopped it once it has shut down: exit 0 on SIGTERM, as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        server.run(announce)
    except KeyboardInterrupt:
        return


@main.command(short_help="Check the desired state offline.")
@click.pass_obj
@handles_errors
def validate(obj: Globals) -> None:
    """Load and check the desired state offline (no Graph call): exit 0 valid, 1 invalid."""
    from reconciler.desired.loader import load_desired

    config = obj.config()
    state = load_desired(config)
    if not obj.quiet:
        memberships = sum(len(group.members or ()) for group in state.groups.values())
        licenses = sum(len(user.licenses or ()) for user in state.users.values())
        licenses += sum(len(group.licenses or ()) for group in state.groups.values())
        counts = ", ".join(
            (
                counted(len(state.users), "user"),
                counted(len(state.groups), "group"),
                counted(memberships, "membership"),
                counted(licenses, "license"),
                *([counted(len(state.roles), "directory role")] if state.roles else []),
            )
        )
        where = config.state_path.as_posix()
        click.echo(f"{where}/ is valid: {counts} in {counted(len(state.files), 'file')}")


@main.command(short_help="Write the JSON Schemas of the YAML files.")
@click.option("--out", "out_dir", default="schemas", show_default=True, metavar="DIR", help="Where to write.")
@click.pass_obj
@handles_errors
def schema(obj: Globals, out_dir: str) -> None:
    """Write the JSON Schemas of the desired-state files and of entraform.yaml."""
    from reconciler.desired.schema import config_schema_json, state_schema_json

    out = Path(out_dir)
    make_directory(out)
    schemas = {"state.schema.json": state_schema_json(), "config.schema.json": config_schema_json()}
    for name, text in schemas.items():
        write_text(out / name, text, "schema")
        if not obj.quiet:
            click.echo(f"wrote {(out / name).as_posix()}")


_FORMATS = click.Choice(["text", "markdown", "json"])


def _render(plan: Plan, fmt: str, color: bool) -> str:
    from reconciler.plan.render_json import render_json
    from reconciler.plan.render_markdown import render_markdown
    from reconciler.plan.render_text import render_text

    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    return render_text(plan, color=color)


def _make_plan(obj: Globals, targets: tuple[str, ...], cached: bool) -> Plan:
    from reconciler.plan.targets import Target
    from reconciler.planning import make_plan
    from reconciler.progress import for_stderr

    config = obj.config()
    parsed = [Target.parse(t) for t in targets]
    with for_stderr(obj.quiet, obj.color) as progress:
        return make_plan(config, parsed, progress, cached=cached).plan


_NO_CACHE = click.option(
    "--no-cache",
    is_flag=True,
    help="Read the whole tenant and parse every file; neither use nor update the caches.",
)


@main.command(short_help="Read the tenant, diff, print the plan.")
@click.option("--out", "out_file", metavar="FILE", help="Also save the plan as JSON, for `apply FILE`.")
@click.option("--format", "fmt", type=_FORMATS, default="text", show_default=True, help="Output format.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has changes (0 when none).")
@click.option("--target", "targets", multiple=True, metavar="KIND:KEY", help="Only user:UPN or group:NICK.")
@_NO_CACHE
@click.pass_obj
@handles_errors
def plan(
    obj: Globals,
    out_file: str | None,
    fmt: str,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    no_cache: bool,
) -> None:
    """Read the tenant, diff it with the desired state and print the plan."""
    from reconciler.plan import planfile

    result = _make_plan(obj, targets, cached=not no_cache)
    if out_file:
        planfile.save(result, out_file)
    click.echo(_render(result, fmt, obj.color and sys.stdout.isatty()), nl=False)
    if out_file and not obj.quiet:
        click.echo(f"Saved the plan to {out_file}; apply it with: entraform apply {out_file}", err=True)
    if detailed_exitcode and not result.is_empty:
        sys.exit(2)


@main.command(short_help="What in the tenant differs from git.")
@click.option("--format", "fmt", type=_FORMATS, default="text", show_default=True, help="Output format.")
@click.option("--report", "report_file", metavar="FILE", help="Also write the report (in --format) here.")
@_NO_CACHE
@click.pass_obj
@handles_errors
def drift(obj: Globals, fmt: str, report_file: str | None, no_cache: bool) -> None:
    """What in the tenant differs from git, who changed it and when: exit 0 none, 2 drift, 1 error."""
    from reconciler.drift import render
    from reconciler.drift.run import make_drift
    from reconciler.progress import for_stderr

    config = obj.config()
    with for_stderr(obj.quiet, obj.color) as progress:
        report = make_drift(config, progress, cached=not no_cache)
    renderers = {"json": render.render_json, "markdown": render.render_markdown, "text": render.render_text}
    text = renderers[fmt](report)
    click.echo(text, nl=False)
    if report_file:
        write_text(Path(report_file), text, "report")
    if not report.is_empty:
        sys.exit(2)


@main.command(short_help="Apply a reviewed plan (or plan and ask).")
@click.argument("plan_file", metavar="[FILE]", required=False)
@click.option(
    "--auto-approve", is_flag=True, help="Apply without asking (required when stdin is not a terminal)."
)
@click.option("--force", is_flag=True, help="Apply a plan that is unsafe (over the safety fractions).")
@click.option(
    "--parallelism",
    default=4,
    show_default=True,
    type=click.IntRange(1, 32),
    help="$batch requests in flight.",
)
@click.option("--journal", "journal_file", metavar="FILE", help="Journal (default .entraform/journal.jsonl).")
@click.option(
    "--initial-passwords", "passwords_file", metavar="FILE", help="Save new users' passwords (0600)."
)
@click.pass_obj
@handles_errors
def apply(
    obj: Globals,
    plan_file: str | None,
    auto_approve: bool,
    force: bool,
    parallelism: int,
    journal_file: str | None,
    passwords_file: str | None,
) -> None:
    """Apply a saved plan FILE (if not stale), or plan, show it and ask y/N."""
    from reconciler.apply.journal import DEFAULT_JOURNAL
    from reconciler.apply.lock import tenant_lock
    from reconciler.apply.passwords import check_password_file
    from reconciler.apply.run import (
        ApplyOptions,
        checked_plan,
        execute,
        problems_of,
        record_applied,
        refuse_unsafe,
        summary_lines,
    )
    from reconciler.progress import for_stderr

    if plan_file is None and not auto_approve and not sys.stdin.isatty():
        raise EntraformError(
            "stdin is not a terminal, so apply cannot ask for confirmation: pass --auto-approve, "
            "or apply a reviewed plan saved with `entraform plan --out FILE`"
        )
    if passwords_file:
        check_password_file(Path(passwords_file))
    config = obj.config()
    # Held until the command ends (click closes its context however it ends): the stale check and
    # every write happen while no other apply can write to this tenant.
    command = shlex.join(["entraform", *sys.argv[1:]])
    lock_dir = config.path(DEFAULT_JOURNAL).parent
    click.get_current_context().with_resource(tenant_lock(lock_dir, config.tenant, command))
    with for_stderr(obj.quiet, obj.color) as progress:
        planned = checked_plan(config, plan_file, progress)
    plan = planned.plan
    if plan_file is None:
        click.echo(_render(plan, "text", obj.color and sys.stdout.isatty()), nl=False)
    refuse_unsafe(plan, force)
    if plan.held and plan_file is not None:
        # A saved plan is applied without being shown again: say once what stays as it is.
        for item in plan.held:
            click.echo(f"held: {item.principal} is protected; not applied: {item.wants}", err=True)
    if not plan.changes:
        if not obj.quiet:
            nothing = "Nothing to apply"
            if plan.held:
                click.echo(f"{nothing}: only {counted(len(plan.held), 'held item')} on protected principals.")
            else:
                click.echo(f"{nothing}: the tenant already matches the desired state.")
        return
    if plan_file is None and not auto_approve:
        question = f"Apply these {len(plan.changes)} change(s) to tenant {plan.tenant}?"
        if not click.confirm(question, default=False, err=True):
            raise EntraformError("apply cancelled; nothing was changed")
    options = ApplyOptions(
        journal=Path(journal_file) if journal_file else config.path(DEFAULT_JOURNAL),
        initial_passwords=Path(passwords_file) if passwords_file else None,
        parallelism=parallelism,
    )
    with for_stderr(obj.quiet, obj.color) as progress:
        task = progress.task("applying", total=len(plan.changes))
        result = execute(config, plan, planned.live, options, task.advance)
    record_applied(planned, result, options)
    for line in summary_lines(plan, result):
        click.echo(line)
    created = sum(
        1 for c in plan.changes if c.kind == "user" and c.action == "create" and c.id in result.created_ids
    )
    if created and passwords_file is None and not obj.quiet:
        click.echo(
            f"note: {created} new user(s) got random initial passwords that were not saved; "
            "use --initial-passwords FILE to keep them, or reset them in the portal",
            err=True,
        )
    if result.interrupted:
        raise KeyboardInterrupt
    failed, skipped = problems_of(plan, result)
    if failed or skipped:
        raise ApplyFailed(failed, skipped)


def _desired_or_note(config: Config, notes: list[str]) -> DesiredState | None:
    """The desired state to compare with, or None (and a note) when it cannot be loaded."""
    from reconciler.desired.loader import load_desired, parse_cache

    try:
        return load_desired(config, parse_cache(config))
    except EntraformError as exc:
        notes.append(_not_compared(exc))
        return None


def _not_compared(exc: EntraformError) -> str:
    first = exc.lines()[0]
    return f"not compared with git: the desired state does not load ({first}); run `entraform validate`"


@main.group(short_help="One user or group as the tenant sees it.")
def show() -> None:
    """One user or group as the tenant sees it: attributes (marked where git disagrees), managers,
    groups (with the path of each transitive one), licenses (and the group), roles, last sign-in."""


_SHOW_FORMATS = click.Choice(["text", "json"])


def _show(obj: Globals, kind: str, key: str, fmt: str) -> None:
    from reconciler.desired.loader import Declared, parse_cache
    from reconciler.graph.connect import open_client
    from reconciler.planning import run_sync
    from reconciler.reports.render import show_json, show_text
    from reconciler.reports.show import Shown, show_group, show_user

    config = obj.config()
    notes: list[str] = []

    async def read(declared: Future[Declared]) -> Shown:
        # Only the one user or group is looked up in git: at 100,000 users loading all of it is seconds.
        def declared_user(keys: tuple[str, ...]) -> DesiredUser | None:
            try:
                return declared.result().user(keys)
            except EntraformError as exc:
                notes.append(_not_compared(exc))
                return None

        def declared_group(nickname: str) -> DesiredGroup | None:
            try:
                return declared.result().group(nickname)
            except EntraformError as exc:
                notes.append(_not_compared(exc))
                return None

        client = open_client(config, read_only=True)
        try:
            if kind == "user":
                return await show_user(client, key, declared_user)
            return await show_group(client, key, declared_group)
        finally:
            await client.aclose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        # Hashing the YAML to find its kept reads (0.4 s at 100,000 users) overlaps the round trips.
        shown = run_sync(read(pool.submit(Declared, config, parse_cache(config))))
    shown.notes = notes + shown.notes
    click.echo(show_json(shown) if fmt == "json" else show_text(shown), nl=False)


@show.command("user", short_help="A user, by UPN.")
@click.argument("upn")
@click.option("--format", "fmt", type=_SHOW_FORMATS, default="text", show_default=True, help="Output format.")
@click.pass_obj
@handles_errors
def show_user_command(obj: Globals, upn: str, fmt: str) -> None:
    """A user by UPN: attributes, manager chain, direct reports, groups, licenses, roles, last sign-in."""
    _show(obj, "user", upn, fmt)


@show.command("group", short_help="A group, by mailNickname.")
@click.argument("nickname", metavar="NICK")
@click.option("--format", "fmt", type=_SHOW_FORMATS, default="text", show_default=True, help="Output format.")
@click.pass_obj
@handles_errors
def show_group_command(obj: Globals, nickname: str, fmt: str) -> None:
    """A group by mailNickname: attributes, owners, direct and transitive members, licenses, roles."""
    _show(obj, "group", nickname, fmt)


@main.group(short_help="License and privileged-access reports.")
def report() -> None:
    """Reports for reviewers and auditors: license seats and reclamation, directory role holders."""


@report.command("licenses", short_help="Seats per SKU and reclaimable ones.")
@click.option("--format", "fmt", type=_FORMATS, default="text", show_default=True, help="Output format.")
@click.option(
    "--inactive-days",
    default=90,
    show_default=True,
    type=click.IntRange(1, 3650),
    help="No sign-in this long: inactive.",
)
@click.pass_obj
@handles_errors
def report_licenses(obj: Globals, fmt: str, inactive_days: int) -> None:
    """Per SKU: enabled, consumed and free seats, direct and through groups, on disabled and inactive
    users; every reclaimable seat with the YAML edit that frees it."""
    from datetime import UTC, datetime

    from reconciler.reports import render
    from reconciler.reports.licenses import license_report

    config = obj.config()
    notes: list[str] = []
    desired = _desired_or_note(config, notes)
    live, sign_ins = _read_for_report(config, obj, licensing=True)
    result = license_report(live, sign_ins, desired, datetime.now(UTC), inactive_days)
    result.notes = notes + result.notes
    out = {"json": render.licenses_json, "markdown": render.licenses_markdown, "text": render.licenses_text}
    click.echo(out[fmt](result), nl=False)


@report.command("access", short_help="Every directory role and its holders.")
@click.option("--format", "fmt", type=_FORMATS, default="text", show_default=True, help="Output format.")
@click.pass_obj
@handles_errors
def report_access(obj: Globals, fmt: str) -> None:
    """Every directory role with its holders (direct and through groups), their last sign-in, and the
    holders the YAML does not declare."""
    from reconciler.reports import render
    from reconciler.reports.access import access_report

    config = obj.config()
    notes: list[str] = []
    desired = _desired_or_note(config, notes)
    live, sign_ins = _read_for_report(config, obj, licensing=False)
    result = access_report(live, sign_ins, desired)
    result.notes = notes + result.notes
    out = {"json": render.access_json, "markdown": render.access_markdown, "text": render.access_text}
    click.echo(out[fmt](result), nl=False)


def _read_for_report(config: Config, obj: Globals, licensing: bool) -> tuple[LiveState, SignIns]:
    """The tenant as a report needs it, with last sign-ins: `licensing`, only what the license report
    reads (reports/reading); else the whole tenant with every directory role."""
    from reconciler.graph.connect import open_client
    from reconciler.live_read import read_live
    from reconciler.planning import run_sync
    from reconciler.progress import for_stderr
    from reconciler.reports.reading import read_for_licenses
    from reconciler.reports.signins import read_sign_ins

    async def read(progress: ProgressDisplay) -> tuple[LiveState, SignIns]:
        client = open_client(config, read_only=True)
        try:
            if licensing:
                return await read_for_licenses(client, progress)
            return await asyncio.gather(read_live(client, progress, "all"), read_sign_ins(client))
        finally:
            await client.aclose()

    with for_stderr(obj.quiet, obj.color) as progress:
        return run_sync(read(progress))


@main.command("import", short_help="Write desired-state YAML from the tenant, or from an HR CSV export.")
@click.option("--out", "out_dir", metavar="DIR", help="Directory to write users.yaml and groups.yaml.")
@click.option(
    "--from-csv",
    "csv_file",
    metavar="FILE",
    help="Read users from an HR system's CSV export instead of the tenant (with --map).",
)
@click.option(
    "--map",
    "map_file",
    metavar="MAPPING.yaml",
    help="With --from-csv: CSV column → attribute, the key column and the file new users go to.",
)
@click.option("--users", "users_filter", metavar="FILTER", help="Only users matching this Graph $filter.")
@click.option("--groups", "groups_filter", metavar="FILTER", help="Only groups matching this Graph $filter.")
@click.option("--with-ids", is_flag=True, help="Pin every object's id, so renames are followed.")
@click.option(
    "--roles",
    "role_names",
    metavar="NAMES",
    help="Only these directory roles (comma-separated displayNames or templateIds); default: all held.",
)
@click.option(
    "--layout",
    type=click.Choice(["single", "per-department", "per-group-prefix"]),
    default="single",
    show_default=True,
    help=(
        "single: users.yaml, groups.yaml; per-department: users/DEPT.yaml; "
        "per-group-prefix: groups/PREFIX.yaml."
    ),
)
@click.pass_obj
@handles_errors
def import_(
    obj: Globals,
    out_dir: str | None,
    csv_file: str | None,
    map_file: str | None,
    users_filter: str | None,
    groups_filter: str | None,
    with_ids: bool,
    role_names: str | None,
    layout: Layout,
) -> None:
    """Write desired-state YAML from the live tenant (never over existing files); or, with --from-csv and
    --map, merge an HR export into the YAML under state_dir (new users added, declared ones updated)."""
    if csv_file is not None or map_file is not None:
        given = [
            name
            for name, value in (
                ("--out", out_dir),
                ("--users", users_filter),
                ("--groups", groups_filter),
                ("--roles", role_names),
            )
            if value is not None
        ]
        if with_ids:
            given.append("--with-ids")
        if csv_file is None or map_file is None or given:
            raise click.UsageError(
                "--from-csv and --map go together, without "
                + (", ".join(given) if given else "--out, --users, --groups, --roles or --with-ids"),
                click.get_current_context(),
            )
        _import_csv(obj, csv_file, map_file)
        return
    if out_dir is None:
        raise click.UsageError("missing option '--out'", click.get_current_context())
    from reconciler.importer import find_schema, write_state
    from reconciler.planning import read_tenant, run_sync
    from reconciler.progress import for_stderr

    config = obj.config()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise EntraformError(f"{out_dir}: --out is a file; give the directory to write the YAML to")
    # Checked before the long read: every layout writes *.yaml files under --out.
    existing = sorted(p.as_posix() for p in out.rglob("*.yaml")) if out.is_dir() else []
    if existing:
        raise EntraformError(f"{', '.join(existing[:3])} already exist(s); remove or choose another --out")
    # Filters first: a bad one fails before the long read.
    user_ids = run_sync(_filtered_ids(config, "users", users_filter)) if users_filter else None
    group_ids = run_sync(_filtered_ids(config, "groups", groups_filter)) if groups_filter else None
    roles = [n.strip() for n in role_names.split(",") if n.strip()] if role_names is not None else "all"
    with for_stderr(obj.quiet, obj.color) as progress:
        live = run_sync(read_tenant(config, progress, roles=roles))
    _check_roles_named(roles, live)
    make_directory(out)
    schema = find_schema(out)
    export = write_state(
        live, out, user_ids=user_ids, group_ids=group_ids, with_ids=with_ids, layout=layout, schema=schema
    )
    if not obj.quiet:
        wrote = f"{counted(export.users, 'user')}, {counted(export.groups, 'group')} and "
        wrote += counted(export.roles, "directory role")
        names = list(export.files)
        shown = ", ".join(names[:5]) + (f", … {len(names) - 5} more" if len(names) > 5 else "")
        click.echo(f"Wrote {wrote} to {out.as_posix()}/ ({shown})", err=True)
        if export.unnamed_holders:
            click.echo(
                f"note: left out {counted(export.unnamed_holders, 'role assignment')} of service principals "
                "or other objects the YAML cannot name (principals are users and groups)",
                err=True,
            )
        if export.read_only_groups:
            click.echo(
                f"note: left out {counted(export.read_only_groups, 'mail-enabled or distribution group')}: "
                "Exchange manages them and Graph cannot change them",
                err=True,
            )
        if schema is None:
            click.echo(
                "note: no schemas/state.schema.json above it, so the files name no schema; write one with "
                "`entraform schema --out schemas` for completion in your editor, then import again",
                err=True,
            )


def _import_csv(obj: Globals, csv_file: str, map_file: str) -> None:
    from reconciler.csvimport.run import import_csv

    result = import_csv(obj.config().state_path, csv_file, map_file)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if not obj.quiet:
        files = ", ".join(result.files) if result.files else "no file changed"
        click.echo(
            f"Read {counted(result.rows, 'row')}: {counted(result.created, 'new user')}, "
            f"{counted(result.updated, 'user')} updated ({files})",
            err=True,
        )


def _check_roles_named(roles: list[str] | str, live: LiveState) -> None:
    """Every role `--roles` names exists in the tenant."""
    if isinstance(roles, str):
        return
    from reconciler.desired.typecheck import did_you_mean

    names = sorted(d.display_name for d in live.role_definitions.values())
    unknown = [name for name in roles if live.role_definition(name) is None]
    if unknown:
        raise EntraformError(
            f"--roles: the tenant has no directory role {unknown[0]!r}{did_you_mean(unknown[0], names)}"
        )


async def _filtered_ids(config: Config, collection: str, graph_filter: str) -> set[str]:
    """Ids of the objects a Graph `$filter` selects; advanced-query mode so endsWith/ne/not work too."""
    from urllib.parse import quote

    from reconciler.graph.connect import open_client
    from reconciler.graph.reads import PAGE_SIZE, read_all

    client = open_client(config, read_only=True)
    try:
        path = f"/{collection}?$select=id&$count=true&$top={PAGE_SIZE}&$filter={quote(graph_filter)}"
        items = await read_all(client, path, headers={"ConsistencyLevel": "eventual"})
    finally:
        await client.aclose()
    return {item["id"] for item in items}
