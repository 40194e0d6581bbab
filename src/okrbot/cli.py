"""The `okrbot` command: serve, migrate, shell, import, export, review (SPEC §8)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from okrbot.config import MissingCredentials, Settings
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head
from okrbot.store.workspaces import only_workspace

app = typer.Typer(help="okrbot: OKRs next to the work, in Slack.", no_args_is_help=True, add_completion=False)
review_app = typer.Typer(help="Review nudges.", no_args_is_help=True)
app.add_typer(review_app, name="review")

DEFAULT_TEAM = "T0"


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as error:
        typer.echo(f"Configuration error: {error}", err=True)
        raise typer.Exit(2) from error


def _database(settings: Settings) -> Database:
    upgrade_to_head(settings.database_url)
    return Database(settings.database_url)


def _team(db: Database, team: str | None) -> str:
    """--team, else the only workspace in the database, else T0 (SPEC §8)."""
    if team:
        return team
    with db.session_scope() as session:
        return only_workspace(session) or DEFAULT_TEAM


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the newest version."""
    settings = _settings()
    upgrade_to_head(settings.database_url)
    typer.echo(f"Database is up to date ({Database(settings.database_url).backend}).")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
) -> None:
    """Run the bot: HTTP on /slack/events, or Socket Mode when SLACK_APP_TOKEN is set."""
    from okrbot.server import run_server

    settings = _settings()
    try:
        settings.require_slack_credentials()
    except MissingCredentials as error:
        typer.echo(f"Can't start: {error}", err=True)
        raise typer.Exit(2) from error
    run_server(settings, host=host, port=port)


@app.command()
def shell(
    command: Annotated[list[str] | None, typer.Option("-c", "--command", help='A command to run, e.g. "/okr status all". Repeat for more.')] = None,
    user: Annotated[str, typer.Option(help="Act as this Slack user id.")] = "U0",
    channel: Annotated[str | None, typer.Option(help="Act in this channel id.")] = None,
    team: Annotated[str | None, typer.Option(help="Workspace id (default: the only one, or T0).")] = None,
    admin: Annotated[bool, typer.Option(help="Act as an okrbot admin.")] = False,
) -> None:
    """The /okr commands offline, replies printed as text. No Slack needed."""
    from okrbot.shell import Shell

    settings = _settings()
    db = _database(settings)
    runner_shell = Shell(db, settings, team=_team(db, team), user=user, channel=channel, admin=admin)
    if command:
        failed = [runner_shell.run(line) for line in command]
        raise typer.Exit(1 if any(failed) else 0)
    runner_shell.interactive(sys.stdin)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A JSON file in okrbot's interchange format.", exists=True, dir_okay=False)],
    team: Annotated[str | None, typer.Option(help="Workspace id (default: the only one, or T0).")] = None,
) -> None:
    """Import objectives, KRs, check-ins and initiatives. Importing twice changes nothing."""
    from okrbot.services.interchange import InterchangeError, import_document, parse_document

    settings = _settings()
    db = _database(settings)
    team_id = _team(db, team)
    try:
        document = parse_document(file.read_text(encoding="utf-8"))
        with db.session_scope() as session:
            report = import_document(session, team_id, document)
    except InterchangeError as error:
        typer.echo(f"Not imported: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(report.summary())


@app.command()
def export(
    format: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (default: standard output).")] = None,
    team: Annotated[str | None, typer.Option(help="Workspace id (default: the only one, or T0).")] = None,
) -> None:
    """Export every objective with its KRs, check-ins and initiatives."""
    from okrbot.services.interchange import export_csv, export_json

    if format not in ("json", "csv"):
        typer.echo("--format takes json or csv.", err=True)
        raise typer.Exit(2)
    settings = _settings()
    db = _database(settings)
    team_id = _team(db, team)
    with db.session_scope() as session:
        text = export_json(session, team_id) if format == "json" else export_csv(session, team_id)
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {output}")
    else:
        sys.stdout.write(text)


def main() -> None:  # pragma: no cover - console entry point
    app()
