"""Interchange version 2: committed/aspirational KRs, grades, notes and lineage go out and
come back; version 1 files still import; lineage that points nowhere is refused."""

from __future__ import annotations

import copy
import csv
import io
import json

import pytest

from okrbot.services.interchange import InterchangeError, export_csv, export_document, parse_document
from okrbot.store.db import Database
from tests.services.test_interchange import SMALL, TEAM, export_text, import_text


def _v2() -> dict:
    document = copy.deepcopy(SMALL)
    document["version"] = 2
    first = document["objectives"][0]
    first["key_results"][0] |= {"commitment": "committed", "grade": 0.6, "grade_note": "worked: pairing; didn't: legal", "grade_source": "owner"}
    carried = copy.deepcopy(first) | {"id": "O-40", "period": "FY2027-Q1", "carried_from": "O-12"}
    carried["key_results"] = [
        {"id": "KR-90", "title": "Cut time to value", "owner": "U123", "metric": "numeric", "direction": "decrease",
         "start": 35, "target": 25, "current": 35, "unit": "days", "commitment": "aspirational", "carried_from": "KR-34"}
    ]  # fmt: skip
    document["objectives"].append(carried)
    return document


def test_a_version_1_file_still_imports(db: Database) -> None:
    report = import_text(db, json.dumps(SMALL))
    assert report.krs.created == len(SMALL["objectives"][0]["key_results"])
    with db.session_scope() as session:
        exported = export_document(session, TEAM)
    assert exported["version"] == 2
    kr = exported["objectives"][0]["key_results"][0]
    assert (kr["commitment"], kr["grade"], kr["carried_from"]) == (None, None, None)


def test_grades_commitment_and_lineage_round_trip(db: Database) -> None:
    import_text(db, json.dumps(_v2()))
    first = export_text(db)
    document = json.loads(first)
    o12, o40 = document["objectives"]
    assert o12["grade"] == 0.6  # the weighted mean of its one graded KR
    graded = o12["key_results"][0]
    assert (graded["commitment"], graded["grade"], graded["grade_source"]) == ("committed", 0.6, "owner")
    assert o12["key_results"][0]["grade_note"] == "worked: pairing; didn't: legal"
    assert (o40["period"], o40["carried_from"]) == ("FY2027-Q1", "O-12")
    assert (o40["key_results"][0]["carried_from"], o40["key_results"][0]["commitment"]) == ("KR-34", "aspirational")
    # Importing the export again changes nothing, and exports the same text.
    report = import_text(db, first)
    assert report.created == 0 and report.krs.updated == 0 and report.objectives.updated == 0
    assert export_text(db) == first


def test_csv_carries_grades_notes_commitment_and_lineage(db: Database) -> None:
    import_text(db, json.dumps(_v2()))
    with db.session_scope() as session:
        rows = list(csv.DictReader(io.StringIO(export_csv(session, TEAM))))
    by_kr = {row["kr"]: row for row in rows}
    assert (by_kr["KR-34"]["commitment"], by_kr["KR-34"]["grade"], by_kr["KR-34"]["grade_source"]) == ("committed", "0.6", "owner")
    assert by_kr["KR-34"]["grade_note"] == "worked: pairing; didn't: legal"
    assert by_kr["KR-90"]["carried_from"] == "KR-34"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["objectives"][1].update(carried_from="O-99"), '"O-99" is not another one'),
        (lambda d: d["objectives"][1]["key_results"][0].update(carried_from="KR-90"), '"KR-90" is not another one'),
        (lambda d: d["objectives"][0]["key_results"][0].update(grade=1.5), "1.5 is above 1"),
        (lambda d: d["objectives"][0]["key_results"][0].update(commitment="stretch"), '"stretch" is not one of committed, aspirational'),
        (lambda d: d.update(version=3), "reads versions 1 and 2"),
    ],
)
def test_bad_version_2_fields_are_refused_with_their_place(db: Database, change, message) -> None:
    document = _v2()
    change(document)
    with pytest.raises(InterchangeError) as raised:
        import_text(db, json.dumps(document, indent=2))
    assert message in str(raised.value)


def test_a_source_carried_over_twice_is_refused(db: Database) -> None:
    document = _v2()
    twin = copy.deepcopy(document["objectives"][1]) | {"id": "O-41", "key_results": []}
    document["objectives"].append(twin)
    with pytest.raises(InterchangeError) as raised:
        import_text(db, json.dumps(document))
    assert '"O-12" is carried over twice' in str(raised.value)


def test_fiscal_period_names_are_kept_as_written(db: Database) -> None:
    document = parse_document(json.dumps(_v2() | {}).replace('"FY2027-Q1"', '"q1 fy2027"'))
    assert document.objectives[1].period == "FY2027-Q1"
