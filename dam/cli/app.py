"""The `dam` group, what every command shares (the library, output, clocks), and the one place
where what a command refuses (dam.errors, a path outside the roots) becomes an exit code.

Exit codes: 0 done; 1 failed; 2 bad usage; 3 finished, but some files could not be processed
(listed in the summary and in `dam jobs`); 4 not found; 5 a remote refused the login (a wrong
password or user: dam.errors.AuthFailed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from dam.config import ENCODERS, Settings
from dam.errors import AuthFailed, DamError, InvalidInput, NotConfigured, NotFound
from dam.paths import PathNotAllowed

out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # a path in an error is never cut mid-name

EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL, EXIT_NOT_FOUND, EXIT_AUTH = 1, 2, 3, 4, 5


def exit_code(e: Exception) -> int:
    """The one mapping from what a command refuses to its exit code."""
    if isinstance(e, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(e, AuthFailed):
        return EXIT_AUTH
    if isinstance(e, (InvalidInput, NotConfigured)):
        return EXIT_USAGE  # the command line or the configuration must change
    return EXIT_FAILED


class DamCommand(click.Command):
    """A command whose refusals are typed errors: said on stderr (with --json also as
    `{error, detail}` on stdout), then the exit code `exit_code` gives."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (DamError, PathNotAllowed) as e:
            code, detail = (e.code, e.detail) if isinstance(e, DamError) else ("path_not_allowed", str(e))
            title = getattr(e, "title", None)
            if ctx.params.get("as_json"):
                click.echo(json.dumps({"error": code, "detail": detail}, indent=2, ensure_ascii=False))
            elif isinstance(detail, list):
                err.print(f"[red]{title or code}:[/]")
                for line in detail:
                    err.print(f"  ✗ {line}")
            else:
                err.print(f"[red]error:[/] {title + ': ' if title else ''}{detail}")
            sys.exit(exit_code(e))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(path_type=Path), help="Library data folder (default ./dam-data, env DAM_DATA_DIR).")
@click.option("--encoder", type=click.Choice(ENCODERS), help="Visual encoder (env DAM_ENCODER).")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, encoder: str | None) -> None:
    """dam: index footage, find any moment by text or by example."""
    overrides = {k: v for k, v in {"data_dir": data_dir, "encoder": encoder}.items() if v is not None}
    try:
        ctx.obj = {"settings": Settings(**overrides)}
    except Exception as e:  # pydantic ValidationError: a bad DAM_* value
        raise click.UsageError(f"bad configuration: {e}") from None


cli.command_class = DamCommand


def library(ctx: click.Context):
    """The Library, opened on first use: `dam --help` and `dam samples` never load it."""
    if "library" not in ctx.obj:
        from dam.library import Library

        ctx.obj["library"] = Library(ctx.obj["settings"])
    return ctx.obj["library"]


def emit(data, as_json: bool) -> bool:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    return as_json


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    m, s = divmod(max(0.0, seconds), 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:05.2f}" if h else f"{m:d}:{s:05.2f}"


def print_errors(errors) -> None:
    if not errors:
        return
    hurt = sum(e.stage == "damaged" for e in errors)
    failed = len(errors) - hurt
    parts = [f"{failed} file(s) could not be processed"] * bool(failed)
    parts += [f"{hurt} damaged file(s) indexed for what decodes"] * bool(hurt)
    err.print(f"[yellow]{', '.join(parts)}:[/]")
    for e in errors[:50]:
        err.print(f"  [yellow]✗[/] {e.path}: {e.reason} [dim]({e.stage})[/]")
    if len(errors) > 50:
        err.print(f"  … and {len(errors) - 50} more (see `dam jobs`)")


def write_text(dest: Path, text: str) -> None:
    """A file the user named (subtitles, a timeline), written whole or not at all."""
    tmp = dest.with_name(f".{dest.name}.part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(dest)


def main() -> None:
    # Not click's standalone mode: it turns Ctrl-C into "Aborted!" and exit 1 (a failure) before
    # this function sees it; Ctrl-C is exit 130, the shell's convention for SIGINT.
    try:
        code = cli.main(standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        err.print("interrupted: what finished is kept; run the same command again to resume")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
