"""Interchange (SPEC §9): round trips, idempotent re-import, refused files, kept ids, the CLI.

Runs on SQLite and, with OKRBOT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Callable

import pytest
from sqlalchemy import event
from sqlmodel import func, select
from typer.testing import CliRunner

from okrbot.cli import app
from okrbot.domain.commands import Kind
from bench.sample_org import generate_document
from okrbot.services.interchange import (
    ImportReport,
    InterchangeError,
    document_text,
    export_csv,
    export_document,
    export_json,
    import_document,
    parse_document,
)
from okrbot.store.db import Database
from okrbot.store.models import CheckIn, Initiative, KeyResult, KrLink, Objective, Workspace
from okrbot.store.workspaces import allocate_number
from tests.conftest import NOW

TEAM = "T1"
TABLES = (Workspace, Objective, KeyResult, CheckIn, Initiative, KrLink)


def import_text(db: Database, text: str, team: str = TEAM) -> ImportReport:
    with db.session_scope() as session:
        return import_document(session, team, parse_document(text))


def export_text(db: Database, team: str = TEAM) -> str:
    with db.session_scope() as session:
        return export_json(session, team)


def row_counts(db: Database) -> dict[str, int]:
    with db.session_scope() as session:
        return {table.__name__: session.exec(select(func.count()).select_from(table)).one() for table in TABLES}


def without_progress(document: dict) -> dict:
    stripped = copy.deepcopy(document)
    for objective in stripped["objectives"]:
        for kr in objective["key_results"]:
            kr.pop("progress", None)
    return stripped


def stored_state(db: Database) -> dict:
    """Every imported row with the columns a re-import could touch, updated_at included."""
    with db.session_scope() as session:
        return {
            model.__name__: sorted(tuple(row) for row in session.execute(select(model.__table__)).all())
            for model in (Objective, KeyResult, CheckIn, Initiative, KrLink)
        }


class QueryCounter:
    def __init__(self, db: Database):
        self.count = 0
        event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1


# A small hand-written file in the SPEC §9 shape, one field per line so lines are easy to name.
SMALL = {
    "version": 1,
    "objectives": [
        {
            "id": "O-12",
            "title": "Faster onboarding",
            "owner": "U123",
            "team": "C123",
            "period": "2026-Q4",
            "parent": None,
            "private": False,
            "description": "",
            "key_results": [
                {
                    "id": "KR-34",
                    "title": "Cut time to value",
                    "owner": "U123",
                    "metric": "numeric",
                    "direction": "decrease",
                    "start": 45,
                    "target": 25,
                    "current": 35,
                    "unit": "days",
                    "weight": 1,
                    "confidence": 7,
                    "progress": 0.1,
                    "checkins": [
                        {"at": "2026-10-01T10:00:00Z", "value": 40, "confidence": 6, "note": "", "by": "U123", "source": "command"}
                    ],
                },
                {
                    "id": "KR-35",
                    "title": "Keep signup conversion up",
                    "owner": "U123",
                    "metric": "percentage",
                    "direction": "maintain",
                    "keep": "above",
                    "target": 9.5,
                    "current": 9.9,
                    "unit": "%",
                },
            ],
        }
    ],
    "initiatives": [
        {
            "id": "I-7",
            "title": "Onboarding checklist",
            "owner": "U456",
            "status": "done",
            "url": "https://github.com/acme/app/issues/12",
            "links": [{"kr": "KR-34", "weight": 2}],
        }
    ],
}


def small_text() -> str:
    return json.dumps(SMALL, indent=2)


# --- round trips -------------------------------------------------------------------


def test_export_of_an_imported_organisation_is_the_generated_document(db: Database) -> None:
    generated = generate_document(200, seed=3)

    report = import_text(db, document_text(generated))

    with db.session_scope() as session:
        exported = export_document(session, TEAM)
    assert without_progress(exported) == generated
    assert report.created == report.objectives.total + report.krs.total + report.checkins.total + report.initiatives.total + report.links.total
    assert (report.objectives.total, report.krs.total, report.checkins.total, report.initiatives.total) == (200, 1000, 20000, 4000)


def test_export_import_export_gives_the_same_text_in_an_empty_workspace(db: Database) -> None:
    import_text(db, document_text(generate_document(40, seed=5)))
    first = export_text(db)

    import_text(db, first, team="T2")

    assert export_text(db, team="T2") == first
    assert export_text(db) == first  # the first workspace is untouched by the second


def test_export_keeps_ids_extensions_and_computes_progress(db: Database) -> None:
    import_text(db, small_text())

    exported = json.loads(export_text(db))

    objective = exported["objectives"][0]
    decrease, maintain = objective["key_results"]
    assert (objective["id"], objective["status"], decrease["id"], exported["initiatives"][0]["id"]) == ("O-12", "active", "KR-34", "I-7")
    assert decrease["progress"] == 0.5  # (35 − 45) / (25 − 45), whatever the file said
    assert (decrease["start"], decrease["target"], decrease["current"]) == (45, 25, 35)  # ints stay ints
    assert (maintain["keep"], maintain["progress"], maintain["target"]) == ("above", 1, 9.5)
    assert decrease["checkins"] == SMALL["objectives"][0]["key_results"][0]["checkins"]


def test_export_and_import_use_a_fixed_number_of_queries(db: Database) -> None:
    def queries(objectives: int, team: str) -> tuple[int, int]:
        counter = QueryCounter(db)
        import_text(db, document_text(generate_document(objectives, seed=1, checkins_per_kr=3)), team=team)
        imported = counter.count
        export_text(db, team=team)
        return imported, counter.count - imported

    assert queries(5, "T5") == queries(60, "T60")


# --- re-import ------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(db: Database) -> None:
    text = document_text(generate_document(50, seed=2))
    import_text(db, text)
    counts, state = row_counts(db), stored_state(db)

    report = import_text(db, text)

    assert (report.created, report.updated) == (0, 0)
    assert report.unchanged == counts["Objective"] + counts["KeyResult"] + counts["CheckIn"] + counts["Initiative"] + counts["KrLink"]
    assert "0 created, 0 updated" in report.summary()
    assert row_counts(db) == counts
    assert stored_state(db) == state  # no row rewritten, no updated_at moved


def test_reimport_updates_what_changed_and_only_that(db: Database) -> None:
    import_text(db, small_text())
    before = stored_state(db)
    changed = copy.deepcopy(SMALL)
    krs = changed["objectives"][0]["key_results"]
    krs[0]["title"] = "Cut time to first value"
    krs[0]["checkins"][0]["note"] = "first week"
    krs[0]["checkins"].append({"at": "2026-10-15T10:00:00Z", "value": 33, "by": "U123"})
    changed["initiatives"][0]["links"][0]["weight"] = 3

    report = import_text(db, json.dumps(changed))

    assert (report.krs.updated, report.krs.unchanged) == (1, 1)
    assert (report.checkins.updated, report.checkins.created) == (1, 1)
    assert (report.links.updated, report.objectives.unchanged, report.initiatives.unchanged) == (1, 1, 1)
    after = stored_state(db)
    assert after["Objective"] == before["Objective"] and after["Initiative"] == before["Initiative"]
    exported = json.loads(export_text(db))
    assert exported["objectives"][0]["key_results"][0]["title"] == "Cut time to first value"
    assert [c["source"] for c in exported["objectives"][0]["key_results"][0]["checkins"]] == ["command", "import"]


def test_a_file_may_refer_to_rows_already_in_the_workspace(db: Database) -> None:
    import_text(db, small_text())
    follow_up = {
        "version": 1,
        "objectives": [{"id": "O-13", "title": "Child", "owner": "U1", "period": "2026-Q4", "parent": "O-12"}],
        "initiatives": [{"id": "I-8", "title": "More work", "links": [{"kr": "KR-35"}]}],
    }

    import_text(db, json.dumps(follow_up))

    exported = json.loads(export_text(db))
    assert [o["parent"] for o in exported["objectives"]] == [None, "O-12"]
    assert exported["initiatives"][1]["links"] == [{"kr": "KR-35", "weight": 1}]


# --- kept ids -----------------------------------------------------------------------


def test_ids_are_kept_and_new_ones_come_after_them(db: Database) -> None:
    import_text(db, small_text())

    with db.session_scope() as session:
        numbers = [allocate_number(session, TEAM, kind) for kind in (Kind.OBJECTIVE, Kind.KR, Kind.INITIATIVE)]
        stored = (
            session.exec(select(Objective.number)).all(),
            session.exec(select(KeyResult.number).order_by(KeyResult.number)).all(),
            session.exec(select(Initiative.number)).all(),
        )

    assert stored == ([12], [34, 35], [7])
    assert numbers == [13, 36, 8]


# --- refused files --------------------------------------------------------------------


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


MALFORMED = {
    "bad JSON": (_replace('"owner": "U456",', '"owner": "U456"'), '"status": "done"', "not valid JSON"),
    "wrong metric": (
        _replace('"metric": "numeric"', '"metric": "numbr"'),
        '"metric": "numbr"',
        'objectives[0].key_results[0].metric: "numbr" is not one of numeric, percentage, boolean, milestone',
    ),
    "unknown KR in a link": (
        _replace('"kr": "KR-34"', '"kr": "KR-99"'),
        '"kr": "KR-99"',
        'initiatives[0].links[0].kr: "KR-99" is not a KR in this file or the workspace',
    ),
    # A missing field is reported at the line where its object opens.
    "missing title": (_replace('"title": "Faster onboarding",\n', ""), '{\n      "id": "O-12"', "objectives[0].title: is missing"),
    "negative weight": (_replace('"weight": 2', '"weight": -2'), '"weight": -2', "initiatives[0].links[0].weight: -2 is not above 0"),
    "time without zone": (
        _replace('"2026-10-01T10:00:00Z"', '"2026-10-01T10:00:00"'),
        '"at": "2026-10-01T10:00:00"',
        "objectives[0].key_results[0].checkins[0].at:",
    ),
    "repeated id": (_replace('"id": "KR-35"', '"id": "KR-34"'), '"id": "KR-34",\n          "title": "Keep', 'appears twice'),
    "unknown parent": (_replace('"parent": null', '"parent": "O-99"'), '"parent": "O-99"', '"O-99" is not an objective'),
    "unknown field": (_replace('"private": false', '"privat": false'), '"privat"', "objectives[0].privat: is not a field"),
    "maintain KR without target": (
        _replace('"target": 9.5,', ""),
        '{\n          "id": "KR-35"',
        "key_results[1].target: a percentage KR needs a target",
    ),
}


def _line_of(text: str, snippet: str) -> int:
    return text[: text.index(snippet)].count("\n") + 1


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_file_is_refused_with_line_and_field_and_writes_nothing(db: Database, case: str) -> None:
    edit, where, expected = MALFORMED[case]
    text = edit(small_text())

    with pytest.raises(InterchangeError) as refused:
        import_text(db, text)

    message = str(refused.value)
    assert expected in message
    assert message.startswith(f"line {_line_of(text, where)}")
    assert set(row_counts(db).values()) == {0}


def test_a_malformed_file_changes_nothing_in_a_workspace_with_data(db: Database) -> None:
    import_text(db, small_text())
    state = stored_state(db)
    changed = copy.deepcopy(SMALL)
    changed["objectives"][0]["title"] = "Renamed"
    changed["initiatives"][0]["links"].append({"kr": "KR-404"})

    with pytest.raises(InterchangeError, match="KR-404"):
        import_text(db, json.dumps(changed))

    assert stored_state(db) == state


def test_a_parent_loop_is_refused(db: Database) -> None:
    looped = copy.deepcopy(SMALL)
    looped["objectives"][0]["parent"] = "O-13"
    looped["objectives"].append({"id": "O-13", "title": "Other", "owner": "U1", "period": "2026-Q4", "parent": "O-12"})

    with pytest.raises(InterchangeError, match=r"objectives\[0\]\.parent: would make O-12 its own ancestor"):
        import_text(db, json.dumps(looped))


def test_many_problems_are_listed_then_counted() -> None:
    broken = {"version": 1, "objectives": [{"id": f"O-{n}", "owner": "U1", "period": "2026-Q4"} for n in range(1, 16)]}

    with pytest.raises(InterchangeError) as refused:
        parse_document(json.dumps(broken, indent=2))

    lines = str(refused.value).splitlines()
    assert len(lines) == 11 and lines[-1] == "… and 5 more problems"
    assert lines[1] == "line 9: objectives[1].title: is missing"  # where its object opens


# --- CSV ------------------------------------------------------------------------------


def test_csv_has_one_row_per_kr(db: Database) -> None:
    import_text(db, document_text(generate_document(12, seed=4)))

    with db.session_scope() as session:
        rows = list(csv.DictReader(io.StringIO(export_csv(session, TEAM, now=NOW))))

    assert [row["kr"] for row in rows] == [f"KR-{n}" for n in range(1, 61)]
    first = rows[0]
    assert first["objective"] == "O-1" and first["period"] == "2026-Q4"
    assert first["health"] in ("on track", "at risk", "off track", "no data")
    assert all(row["initiatives"].startswith("I-") for row in rows)
    assert all(row["progress_percent"].lstrip("-").isdigit() for row in rows)


# --- the okrbot command ------------------------------------------------------------------


def test_cli_import_export_and_refusal(database_url: str, tmp_path) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": database_url}
    source = tmp_path / "org.json"
    source.write_text(document_text(generate_document(10, seed=6)), encoding="utf-8")

    imported = runner.invoke(app, ["import", str(source), "--team", TEAM], env=env)
    again = runner.invoke(app, ["import", str(source), "--team", TEAM], env=env)
    exported = runner.invoke(app, ["export", "--team", TEAM], env=env)
    as_csv = runner.invoke(app, ["export", "--format", "csv", "-o", str(tmp_path / "okrs.csv")], env=env)

    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("Imported 10 objectives, 50 KRs, 1000 check-ins, 200 initiatives")
    assert ": 0 created, 0 updated" in again.stdout
    assert without_progress(json.loads(exported.stdout)) == json.loads(source.read_text(encoding="utf-8"))
    assert as_csv.exit_code == 0, as_csv.output
    with (tmp_path / "okrs.csv").open(encoding="utf-8", newline="") as written:
        assert len(list(csv.DictReader(written))) == 50  # one row per KR, in the only workspace

    broken = tmp_path / "broken.json"
    broken.write_text(small_text().replace('"metric": "numeric"', '"metric": "numbr"'), encoding="utf-8")
    refused = runner.invoke(app, ["import", str(broken), "--team", TEAM], env=env)
    assert refused.exit_code == 1
    assert f"line {_line_of(broken.read_text(), 'numbr')}: objectives[0].key_results[0].metric" in refused.stderr


def test_imported_text_is_stored_as_it_displays(db: Database) -> None:
    """Issue 17: bidirectional overrides and zero-width characters in an imported file are
    removed from titles, units, descriptions and notes, as they are from typed text."""
    document = copy.deepcopy(SMALL)
    objective = document["objectives"][0]
    objective["title"] = "Fix login \u202edesab-nekot\u202c"
    objective["description"] = "Why\u200b it\n matters\u2066"
    kr = objective["key_results"][0]
    kr["unit"] = "d\u200fays"
    kr["checkins"][0]["note"] = "blocked \u202eon legal"
    import_text(db, json.dumps(document))
    exported = export_text(db)
    for char in ("\u202e", "\u202c", "\u200b", "\u2066", "\u200f"):
        assert char not in exported
    with db.session_scope() as session:
        stored = session.exec(select(Objective).where(Objective.number == 12)).one()
        assert (stored.title, stored.description) == ("Fix login desab-nekot", "Why it\n matters")
        assert session.exec(select(KeyResult.unit).where(KeyResult.number == 34)).one() == "days"
        assert session.exec(select(CheckIn.note)).first() == "blocked on legal"
    import_text(db, json.dumps(document))  # the same file again: nothing more changes
    assert export_text(db) == exported
