"""The `okrbot` command: serve, migrate, shell, import, export, review, eval (SPEC §8)."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from okrbot.config import MissingCredentials, Settings
from okrbot.observability import multiprocess as metrics_setup
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head
from okrbot.store.workspaces import only_workspace

app = typer.Typer(help="okrbot: OKRs next to the work, in Slack.", no_args_is_help=True, add_completion=False)
review_app = typer.Typer(help="Review nudges.", no_args_is_help=True)
app.add_typer(review_app, name="review")
eval_app = typer.Typer(help="Measure how well okrbot answers, on labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

DEFAULT_TEAM = "T0"
DELIVERY_CHUNK = 20  # review DMs sent between two moves of the progress bar


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as error:
        typer.echo(f"Configuration error: {error}", err=True)
        raise typer.Exit(2) from error


def _load_embedding_model(settings: Settings) -> None:
    """Load OKRBOT_EMBEDDING_MODEL now, so that a bad path stops start-up with a clear message
    rather than the first /okr serves (each worker process then loads it once)."""
    if not settings.embedding_model:
        return
    # One BLAS thread per process, set before numpy loads OpenBLAS (worker processes inherit it):
    # a request's vector is a few small matrix products, which a second thread on a shared core
    # only slows down (p95 21 ms with one thread, 430 ms with two under load; docs/performance.md).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from okrbot.services.embedding_model import EmbeddingModelError, encoder_for

    try:
        encoder_for(settings)
    except EmbeddingModelError as error:
        typer.echo(f"Can't start: {error}", err=True)
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
    settings = _settings()
    try:
        settings.require_slack_credentials()
    except MissingCredentials as error:
        typer.echo(f"Can't start: {error}", err=True)
        raise typer.Exit(2) from error
    _load_embedding_model(settings)
    # Before anything imports prometheus_client: the server and its workers count into one directory.
    counts = metrics_setup.share_counts_between_processes() if settings.metrics else None
    from okrbot.runtime.server import run_server

    try:
        run_server(settings, host=host, port=port)
    finally:
        metrics_setup.remove_counts(counts)


@app.command()
def worker() -> None:
    """Work on requests that `okrbot serve` processes acknowledged (same database): add
    workers, or run them on other machines with OKRBOT_WORKERS=0 on the servers."""
    from okrbot.runtime.jobs.child import run_worker

    settings = _settings()
    if not settings.slack_bot_token.strip() and not settings.oauth_mode:
        typer.echo("Can't start: set SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs (the worker answers through Slack's Web API).", err=True)
        raise typer.Exit(2)
    _load_embedding_model(settings)
    upgrade_to_head(settings.database_url)
    run_worker(settings)


@app.command()
def shell(
    command: Annotated[list[str] | None, typer.Option("-c", "--command", help='A command to run, e.g. "/okr status all". Repeat for more.')] = None,
    user: Annotated[str, typer.Option(help="Act as this Slack user id.")] = "U0",
    channel: Annotated[str | None, typer.Option(help="Act in this channel id (and count as a member of that team channel).")] = None,
    team: Annotated[str | None, typer.Option(help="Workspace id (default: the only one, or T0).")] = None,
    admin: Annotated[bool, typer.Option(help="Act as an okrbot admin.")] = False,
) -> None:
    """The /okr commands offline, replies printed as text. No Slack needed."""
    from okrbot.adapters.shell import Shell
    from okrbot.adapters.slack.text_notifier import TextNotifier

    settings = _settings()
    _load_embedding_model(settings)
    db = _database(settings)
    runner_shell = Shell(db, settings, TextNotifier(), team=_team(db, team), user=user, channel=channel, admin=admin)
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
    from okrbot.progress import progress_bar
    from okrbot.services.interchange import IMPORT_STAGES, InterchangeError, import_document, parse_document

    settings = _settings()
    db = _database(settings)
    team_id = _team(db, team)
    try:
        with progress_bar(f"Importing {file.name}", len(IMPORT_STAGES) + 2) as step:
            document = parse_document(file.read_text(encoding="utf-8"))
            step("read")
            with db.session_scope() as session:
                report = import_document(session, team_id, document, on_stage=step)
            step("saved")
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
    """Export every objective with its KRs, check-ins and initiatives, private ones included
    (an operator's command, run where the database is; no Slack surface exports)."""
    from okrbot.progress import progress_bar
    from okrbot.services.interchange import EXPORT_STAGES, export_csv, export_json

    if format not in ("json", "csv"):
        typer.echo("--format takes json or csv.", err=True)
        raise typer.Exit(2)
    settings = _settings()
    db = _database(settings)
    team_id = _team(db, team)
    with progress_bar("Exporting", len(EXPORT_STAGES) if format == "json" else 1) as step, db.session_scope() as session:
        text = export_json(session, team_id, on_stage=step) if format == "json" else export_csv(session, team_id, fiscal_start=settings.fiscal_start_month)
        if format == "csv":
            step("rows")
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {output}")
    else:
        sys.stdout.write(text)


@review_app.command("run")
def review_run(
    team: Annotated[str | None, typer.Option(help="Workspace id (default: the only one, or T0).")] = None,
) -> None:
    """Run the current review cycle now: owners not yet nudged in it get their DM."""
    from slack_sdk import WebClient

    from okrbot.progress import progress_bar
    from okrbot.runtime.reviews_job import run_review_now
    from okrbot.adapters.slack.bot import SlackBot
    from okrbot.adapters.slack.listeners.reviews import attach
    from okrbot.adapters.slack.views.reviews import run_reply
    from okrbot.adapters.slack.text_render import blocks_to_text

    settings = _settings()
    db = _database(settings)
    team_id = _team(db, team)
    bot = SlackBot(settings, db, WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=settings.slack_timeout_seconds))
    attach(bot)
    run = run_review_now(bot, team_id)
    typer.echo(blocks_to_text(run_reply(run).block_dicts()))
    if not run.queued:
        return
    try:
        settings.require_slack_credentials()
    except MissingCredentials:
        typer.echo(f"{len(run.queued)} DMs are queued; a running `okrbot serve` sends them (SLACK_BOT_TOKEN is not set here).")
        return
    sent = 0
    with progress_bar("Sending review DMs", len(run.queued)) as step:
        for start in range(0, len(run.queued), DELIVERY_CHUNK):
            chunk = run.queued[start : start + DELIVERY_CHUNK]
            sent += bot.deliverer.deliver(chunk, limit=len(chunk))
            step(advance=len(chunk))
    left = len(run.queued) - sent
    typer.echo(f"Sent {sent} DMs." + (f" {left} are queued for retry; a running `okrbot serve` sends them." if left else ""))


@review_app.command("status")
def review_status(
    team: Annotated[str | None, typer.Option(help="Workspace id (default: the only one, or T0).")] = None,
) -> None:
    """When reviews run, and how the latest one is going."""
    from okrbot.services.reviews import ReviewPolicy
    from okrbot.services.reviews import review_status as status_of
    from okrbot.adapters.slack.text_render import blocks_to_text
    from okrbot.adapters.slack.views.reviews import status_reply
    from okrbot.store.types import utcnow

    settings = _settings()
    db = _database(settings)
    team_id = _team(db, team)
    with db.session_scope() as session:
        status = status_of(session, team_id, utcnow(), ReviewPolicy.from_settings(settings))
    typer.echo(blocks_to_text(status_reply(status).block_dicts()))


@eval_app.command("serves")
def eval_serves(
    data_dir: Annotated[Path, typer.Argument(help="krs.json and requests.jsonl.", file_okay=False)] = Path("eval/serves"),
    scale: Annotated[int | None, typer.Option(help="Also time an index of N KRs (e.g. 5000).", min=1)] = None,
) -> None:
    """Evaluate "does this serve a KR?" (from a checkout): hit@1, hit@3, tiers and "no KR" share, against plain BM25."""
    runner = Path("eval") / "serves_eval.py"
    if not runner.is_file():
        typer.echo("The evaluation is a development tool: run this from an okrbot checkout (it reads eval/serves_eval.py).", err=True)
        raise typer.Exit(2)
    if not (data_dir / "krs.json").is_file() or not (data_dir / "requests.jsonl").is_file():
        typer.echo(f"{data_dir} needs krs.json and requests.jsonl (see eval/serves/README.md).", err=True)
        raise typer.Exit(2)
    sys.path.insert(0, str(Path.cwd()))  # the checkout's eval/ package, never installed
    serves_eval = importlib.import_module("eval.serves_eval")
    from okrbot.progress import progress_bar

    with progress_bar("Evaluating", len(serves_eval.MATCHERS) + (1 if scale else 0)) as step:
        serves_eval.main([str(data_dir)] + (["--scale", str(scale)] if scale else []), on_step=step)


@app.command()
def doctor() -> None:
    """Check the configuration end to end: Slack token and scopes, secrets, database, time zones, schedules."""
    from okrbot.doctor import run_checks

    try:
        settings = Settings()
    except ValueError as error:
        typer.echo(f"FIX  Configuration: {error}")
        raise typer.Exit(1) from error
    findings = run_checks(settings)
    for finding in findings:
        typer.echo(finding.line())
    failing = sum(not finding.ok for finding in findings)
    typer.echo(f"{failing} to fix." if failing else "All good.")
    raise typer.Exit(1 if failing else 0)


@app.command()
def backup(file: Annotated[Path, typer.Argument(help="The backup file to write (SQLite; it must not exist yet).", dir_okay=False)]) -> None:
    """Back up the database, consistently, even while `okrbot serve` runs (PostgreSQL: prints the pg_dump command)."""
    from okrbot import backup as backups

    _backup_step(backups.backup, file, "Not backed up")


@app.command()
def restore(file: Annotated[Path, typer.Argument(help="A file `okrbot backup` wrote.", dir_okay=False)]) -> None:
    """Restore a backup onto an empty database (DATABASE_URL); a database with data is refused."""
    from sqlalchemy.engine import make_url

    from okrbot import backup as backups
    from okrbot.services.serves import index_snapshots

    _backup_step(backups.restore, file, "Not restored")
    settings = _settings()
    snapshots = index_snapshots(settings)
    if snapshots is not None:
        snapshots.forget(make_url(settings.database_url))  # indexes of the history before the backup


def _backup_step(step, file: Path, refused: str) -> None:
    from okrbot.backup import BackupError

    try:
        typer.echo(step(_settings().database_url, file))
    except BackupError as error:
        typer.echo(f"{refused}: {error}", err=True)
        raise typer.Exit(1) from error


workspace_app = typer.Typer(help="Workspaces in this database.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")


@workspace_app.command("delete")
def workspace_delete(
    team_id: Annotated[str, typer.Argument(help="The workspace's id, T… (`okrbot export --team T…` first keeps a copy).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before deleting.")] = False,
) -> None:
    """Delete every row of one workspace (its OKRs, history, messages, settings and OAuth tokens),
    and nothing of any other workspace, in one transaction."""
    from okrbot.store.workspace_delete import count_rows, delete_workspace

    db = _database(_settings())
    with db.session_scope(read_only=True) as session:
        held = {table: n for table, n in count_rows(session, team_id).items() if n}
    if not held:
        typer.echo(f"Nothing to delete: no workspace {team_id} in this database. `okrbot export` lists nothing for it either; check the id (T…).", err=True)
        raise typer.Exit(1)
    summary = ", ".join(f"{table} {n}" for table, n in sorted(held.items()))
    if not yes and not typer.confirm(f"Delete every row of {team_id} ({summary})? This cannot be undone"):
        typer.echo("Nothing deleted.")
        raise typer.Exit(1)
    with db.session_scope() as session:
        deleted = delete_workspace(session, team_id)
    typer.echo(f"Deleted workspace {team_id}: {sum(deleted.values())} rows ({', '.join(f'{t} {n}' for t, n in sorted(deleted.items()))}).")


checkin_app = typer.Typer(help="Check-ins in bulk.", no_args_is_help=True)
app.add_typer(checkin_app, name="checkin")


@checkin_app.command("import")
def checkin_import(
    file: Annotated[Path, typer.Argument(help="CSV with the columns kr,value,at[,source].", exists=True, dir_okay=False)],
    team: Annotated[str | None, typer.Option(help="Workspace id (default: the only one, or T0).")] = None,
) -> None:
    """Record each row as a check-in by its source, dated `at`; all rows or none. A value older
    than the KR's newest check-in goes into its history only. Importing twice changes nothing."""
    from okrbot.services.context import Actor
    from okrbot.services.readings import ImportRefused, import_readings
    from okrbot.store.types import utcnow

    settings = _settings()
    db = _database(settings)
    team_id = _team(db, team)
    actor = Actor(team_id=team_id, user_id="import", source="import", tz=settings.tz, now=utcnow(), system=True)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        typer.echo(f"Not imported: {file} is not UTF-8 text; save it as CSV UTF-8.", err=True)
        raise typer.Exit(1) from None
    try:
        with db.session_scope() as session:
            report = import_readings(session, actor, text)
    except ImportRefused as refused:
        typer.echo("Not imported (nothing was written):\n" + "\n".join(refused.problems), err=True)
        raise typer.Exit(1) from refused
    typer.echo(report.summary())


def main() -> None:  # pragma: no cover - console entry point
    app()
