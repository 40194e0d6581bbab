"""Interchange (SPEC §9): the JSON document people import and export, and a CSV view.

Import checks the whole file before it writes anything, keeps ids (O-12 stays
O-12), updates rows that exist and never deletes, so importing a file twice
changes nothing. Both directions load each table once and group in Python, so
the number of queries does not grow with the size of the workspace.

Extensions to the SPEC §9 shape (it says: extend, never break): `status` on
objectives and KRs, `keep` ("above" / "below") on maintain KRs. Version 2 adds
`commitment`, `grade`, `grade_note`, `grade_source` and `carried_from` on KRs, and
`grade` (computed, ignored on import) and `carried_from` on objectives; version 1
files still import (they have none of these).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
)
from sqlalchemy import Row, RowMapping, bindparam, insert, select, update
from sqlmodel import Session

from okrbot.domain.commands import Commitment, Direction, Keep, Kind, Metric
from okrbot.domain.grading import objective_grade
from okrbot.domain.ids import format_ref, initiative_id, kr_id, objective_id, parse_ref
from okrbot.domain.periods import parse_period, period_name
from okrbot.domain.progress import LinkedWork, health, kr_progress, percent
from okrbot.domain.text import clean_text
from okrbot.domain.urls import is_url, url_key
from okrbot.services.checkins import NOTE_LIMIT
from okrbot.services.okrs import TITLE_LIMIT
from okrbot.services.summaries import kr_state, link_done
from okrbot.services.work import DONE, MAX_WEIGHT
from okrbot.store import revisions
from okrbot.store.models import CheckIn, Initiative, KeyResult, KrLink, Objective, Workspace
from okrbot.store.types import utcnow
from okrbot.store.workspaces import ensure_workspace, reserve_numbers

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
IMPORT_SOURCE = "import"
DESCRIPTION_LIMIT = 3000
URL_LIMIT = 2000
PROBLEMS_SHOWN = 10

Path = tuple[str | int, ...]


# --- errors -------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (line, field path) and what."""

    path: Path
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column is not None else ""))
        if self.path:
            parts.append(format_path(self.path))
        return ": ".join([*parts, self.message])


class InterchangeError(Exception):
    """A file okrbot can't import. The message names the line and the field at fault,
    one problem per line, e.g. `line 14: objectives[2].key_results[0].metric: "numbr"
    is not one of numeric, percentage, boolean, milestone`."""

    def __init__(self, problems: Sequence[Problem], *, more: int = 0):
        self.problems = list(problems)
        lines = [str(problem) for problem in self.problems]
        if more:
            lines.append(f"… and {more} more {'problem' if more == 1 else 'problems'}")
        super().__init__("\n".join(lines))


def format_path(path: Path) -> str:
    """('objectives', 2, 'title') → `objectives[2].title`."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def _refuse(problems: Sequence[tuple[Path, str]], source: str | None) -> InterchangeError:
    # Finding a line re-scans the text, so only the problems shown are located.
    shown = problems[:PROBLEMS_SHOWN]
    located = [Problem(path, message, line=_line_of(source, path)) for path, message in shown]
    return InterchangeError(located, more=len(problems) - len(shown))


# --- where a value sits in the JSON text ----------------------------------------

_SCAN = json.JSONDecoder().scan_once  # parses one JSON value at an index, in C


def _line_of(source: str | None, path: Path) -> int | None:
    if source is None:
        return None
    index = _value_index(source, path)
    return source.count("\n", 0, index) + 1


def _value_index(text: str, path: Path) -> int:
    """Where the value at `path` starts in valid JSON text; for a path that does not
    exist (a missing field), where the nearest enclosing value starts."""
    index = _skip_space(text, 0)
    for step in path:
        found = _child_index(text, index, step)
        if found is None:
            break
        index = found
    return index


def _child_index(text: str, index: int, step: str | int) -> int | None:
    opener = text[index : index + 1]
    if opener == "{" and isinstance(step, str):
        # json.loads keeps the last of duplicate keys, so the last one is the one at fault.
        matches = [start for key, start in _members(text, index) if key == step]
        return matches[-1] if matches else None
    if opener == "[" and isinstance(step, int):
        for position, start in enumerate(_elements(text, index)):
            if position == step:
                return start
    return None


def _members(text: str, index: int) -> Iterator[tuple[str, int]]:
    """(key, value start) of each member of the object starting at `index`."""
    index = _skip_space(text, index + 1)
    while text[index] == '"':
        key, index = _SCAN(text, index)
        index = _skip_space(text, _skip_space(text, index) + 1)  # past the colon
        yield key, index
        index = _after_value(text, index)


def _elements(text: str, index: int) -> Iterator[int]:
    index = _skip_space(text, index + 1)
    while text[index] != "]":
        yield index
        index = _after_value(text, index)


def _after_value(text: str, index: int) -> int:
    """The index after the value at `index` and its trailing comma, if any."""
    _, index = _SCAN(text, index)
    index = _skip_space(text, index)
    return _skip_space(text, index + 1) if text[index] == "," else index


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


# --- the document ---------------------------------------------------------------


def _short_id(kind: Kind):
    example = format_ref(kind, 12)

    def parse(value: object) -> int:
        ref = parse_ref(value) if isinstance(value, str) else None
        if ref is None or ref.kind is not kind:
            raise ValueError(f"{_shown(value)} is not an id like {example}")
        return ref.number

    return BeforeValidator(parse)


def _displayable(*, lines: bool):
    """Imported text as it will display (domain/text.py), before any other check."""
    return BeforeValidator(lambda value: clean_text(value, lines=lines) if isinstance(value, str) else value)


def _clean_title(value: str) -> str:
    title = " ".join(value.split())
    if not title:
        raise ValueError("is empty")
    if len(title) > TITLE_LIMIT:
        raise ValueError(f"is {len(title)} characters long; keep it under {TITLE_LIMIT}")
    return title


def _canonical_period(value: str) -> str:
    name = period_name(value)
    if name is None:
        raise ValueError(f"{_shown(value)} is not a period like 2026-Q4, FY2027-Q1 or 2027")
    return name


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _checked_url(value: str | None) -> str | None:
    if value is not None and not is_url(value):
        raise ValueError(f"{_shown(value)} is not a link; links start with https://")
    return value


ObjectiveNumber = Annotated[int, _short_id(Kind.OBJECTIVE)]
KrNumber = Annotated[int, _short_id(Kind.KR)]
InitiativeNumber = Annotated[int, _short_id(Kind.INITIATIVE)]
SlackId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
OptionalSlackId = Annotated[SlackId | None, BeforeValidator(_blank_to_none)]
Title = Annotated[str, _displayable(lines=False), AfterValidator(_clean_title)]
PeriodText = Annotated[str, AfterValidator(_canonical_period)]
Unit = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None, BeforeValidator(_blank_to_none), _displayable(lines=False)
]
Url = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=URL_LIMIT)] | None,
    BeforeValidator(_blank_to_none),
    AfterValidator(_checked_url),
]
Confidence = Annotated[int, Field(ge=0, le=10)] | None
Weight = Annotated[float, Field(gt=0, le=MAX_WEIGHT)]
Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
Status = Literal["active", "archived"]
GradeValue = Annotated[float, Field(ge=0, le=1)] | None


class _Entry(BaseModel):
    # Unknown fields are refused so a typo ("titel") is reported, not silently dropped.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class CheckInEntry(_Entry):
    at: AwareDatetime
    value: float | None = None
    confidence: Confidence = None
    note: Annotated[str, StringConstraints(max_length=NOTE_LIMIT), _displayable(lines=True)] = ""
    by: SlackId
    source: Source = IMPORT_SOURCE


class KrEntry(_Entry):
    id: KrNumber
    title: Title
    owner: SlackId
    metric: Metric
    direction: Direction
    keep: Keep | None = None
    start: float | None = None
    target: float | None = None
    current: float | None = None
    unit: Unit = None
    weight: Weight = 1.0
    confidence: Confidence = None
    status: Status = "active"
    progress: float | None = None  # computed on export, ignored on import
    commitment: Commitment | None = None
    grade: GradeValue = None
    grade_note: Annotated[str, StringConstraints(max_length=NOTE_LIMIT)] = ""
    grade_source: Literal["owner", "suggested"] | None = None
    carried_from: KrNumber | None = None
    checkins: list[CheckInEntry] = []


class ObjectiveEntry(_Entry):
    id: ObjectiveNumber
    title: Title
    owner: SlackId
    team: OptionalSlackId = None
    period: PeriodText
    parent: ObjectiveNumber | None = None
    private: bool = False
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_LIMIT), _displayable(lines=True)] = ""
    status: Status = "active"
    grade: float | None = None  # computed on export, ignored on import
    carried_from: ObjectiveNumber | None = None
    key_results: list[KrEntry] = []


class LinkEntry(_Entry):
    kr: KrNumber
    weight: Weight = 1.0


class InitiativeEntry(_Entry):
    id: InitiativeNumber
    title: Title
    owner: OptionalSlackId = None
    status: Literal["todo", "in_progress", "done"] = "todo"
    url: Url = None
    links: list[LinkEntry] = []


class Document(_Entry):
    """A validated interchange file. Ids are plain numbers here: "KR-34" → 34."""

    version: int = FORMAT_VERSION
    objectives: list[ObjectiveEntry] = []
    initiatives: list[InitiativeEntry] = []
    _source: str | None = PrivateAttr(default=None)  # the JSON text, to name lines in later errors

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value not in READABLE_VERSIONS:
            readable = " and ".join(str(version) for version in READABLE_VERSIONS)
            raise ValueError(f"this file is format version {value}; this okrbot reads versions {readable}")
        return value

    def key_results(self) -> Iterator[tuple[ObjectiveEntry, KrEntry]]:
        for objective in self.objectives:
            for kr in objective.key_results:
                yield objective, kr


def parse_document(text: str) -> Document:
    """Read and check an interchange file; InterchangeError names each problem's line and field."""
    text = text.removeprefix("\ufeff")  # editors on Windows add a byte-order mark
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InterchangeError([Problem((), f"not valid JSON: {error.msg}", line=error.lineno, column=error.colno)]) from None
    try:
        document = Document.model_validate(data)
    except ValidationError as error:
        problems = [(tuple(detail["loc"]), _pydantic_message(detail)) for detail in error.errors(include_url=False)]
        raise _refuse(problems, text) from None
    document._source = text
    problems = _document_problems(document)
    if problems:
        raise _refuse(problems, text)
    return document


def _pydantic_message(detail: Any) -> str:
    kind, context, shown = detail["type"], detail.get("ctx", {}), _shown(detail.get("input"))
    match kind:
        case "missing":
            return "is missing"
        case "extra_forbidden":
            return "is not a field okrbot knows"
        case "enum" | "literal_error":
            options = context["expected"].replace("'", "").replace(" or ", ", ")
            return f"{shown} is not one of {options}"
        case "greater_than":
            return f"{shown} is not above {_shown(context['gt'])}"
        case "greater_than_equal":
            return f"{shown} is below {_shown(context['ge'])}"
        case "less_than_equal":
            return f"{shown} is above {_shown(context['le'])}"
        case "string_too_short":
            return "is empty"
        case "string_too_long":
            return f"is longer than {context['max_length']} characters"
        case "timezone_aware":
            return f"{shown} needs a time zone, e.g. 2026-10-01T10:00:00Z"
        case "model_type" | "dict_type":
            return f"{shown} should be a JSON object"
        case "list_type":
            return f"{shown} should be a list"
        case "value_error":
            return str(context["error"])
    message = detail["msg"]
    return f"{shown}: {message[:1].lower()}{message[1:]}"


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float):
        value = plain_number(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _document_problems(document: Document) -> list[tuple[Path, str]]:
    """What no single field can see: repeated ids, links and KR numbers that don't fit the metric."""
    problems: list[tuple[Path, str]] = []
    seen_objectives: dict[int, Path] = {}
    seen_krs: dict[int, Path] = {}
    for i, objective in enumerate(document.objectives):
        path: Path = ("objectives", i)
        problems += _repeated(seen_objectives, objective.id, (*path, "id"), objective_id)
        for j, kr in enumerate(objective.key_results):
            kr_path = (*path, "key_results", j)
            problems += _repeated(seen_krs, kr.id, (*kr_path, "id"), kr_id)
            problems += _kr_problems(kr, kr_path)
    seen_initiatives: dict[int, Path] = {}
    for i, initiative in enumerate(document.initiatives):
        path = ("initiatives", i)
        problems += _repeated(seen_initiatives, initiative.id, (*path, "id"), initiative_id)
        linked: dict[int, Path] = {}
        for j, link in enumerate(initiative.links):
            problems += _repeated(linked, link.kr, (*path, "links", j, "kr"), kr_id)
    return problems


def _repeated(seen: dict[int, Path], number: int, path: Path, shown) -> list[tuple[Path, str]]:
    if number in seen:
        return [(path, f'"{shown(number)}" appears twice (first at {format_path(seen[number])})')]
    seen[number] = path
    return []


def _kr_problems(kr: KrEntry, path: Path) -> list[tuple[Path, str]]:
    measured = kr.metric in (Metric.NUMERIC, Metric.PERCENTAGE)
    problems: list[tuple[Path, str]] = []
    if kr.direction is Direction.MAINTAIN and not measured:
        problems.append(((*path, "direction"), f"only numeric and percentage KRs can be maintained, not {kr.metric.value}"))
    if kr.keep is not None and kr.direction is not Direction.MAINTAIN:
        problems.append(((*path, "keep"), "only applies when direction is maintain"))
    if measured and kr.target is None:
        problems.append(((*path, "target"), f"a {kr.metric.value} KR needs a target"))
    if measured and kr.direction is not Direction.MAINTAIN and kr.start is None:
        problems.append(((*path, "start"), f"a {kr.metric.value} KR needs a start value"))
    return problems


# --- import -----------------------------------------------------------------------


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class ImportReport:
    objectives: Tally = field(default_factory=Tally)
    krs: Tally = field(default_factory=Tally)
    checkins: Tally = field(default_factory=Tally)
    initiatives: Tally = field(default_factory=Tally)
    links: Tally = field(default_factory=Tally)

    def _tallies(self) -> tuple[Tally, ...]:
        return (self.objectives, self.krs, self.checkins, self.initiatives, self.links)

    @property
    def created(self) -> int:
        return sum(tally.created for tally in self._tallies())

    @property
    def updated(self) -> int:
        return sum(tally.updated for tally in self._tallies())

    @property
    def unchanged(self) -> int:
        return sum(tally.unchanged for tally in self._tallies())

    def summary(self) -> str:
        nouns = ("objective", "KR", "check-in", "initiative", "link")
        counts = ", ".join(_count(tally.total, noun) for tally, noun in zip(self._tallies(), nouns, strict=True))
        return f"Imported {counts}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


@dataclass
class _Existing:
    """The workspace's rows before the import, by number."""

    objectives: dict[int, RowMapping]
    krs: dict[int, RowMapping]
    initiatives: dict[int, RowMapping]

    @classmethod
    def load(cls, session: Session, team_id: str) -> _Existing:
        return cls(
            objectives=_rows_by_number(session, Objective, team_id),
            krs=_rows_by_number(session, KeyResult, team_id),
            initiatives=_rows_by_number(session, Initiative, team_id),
        )


def _rows_by_number(session: Session, model, team_id: str) -> dict[int, RowMapping]:
    table = model.__table__
    rows = session.execute(select(table).where(table.c.team_id == team_id)).mappings()
    return {row["number"]: row for row in rows}


# What import_document's `on_stage` hears, in order (a progress bar's steps).
IMPORT_STAGES = ("checked", "objectives", "key results", "check-ins", "initiatives", "links")
EXPORT_STAGES = ("objectives and KRs", "check-ins", "document")


def _no_stage(_stage: str) -> None:
    return None


def import_document(session: Session, team_id: str, document: Document, *, on_stage: Callable[[str], None] = _no_stage) -> ImportReport:
    """Create or update everything in the document, in the caller's unit of work.

    Every check runs before the first write, and a failing write raises, so a
    bad file changes nothing. Rows the file does not mention are left alone.
    """
    existing = _Existing.load(session, team_id)
    problems = _document_problems(document) + _reference_problems(document, existing)
    if problems:
        raise _refuse(problems, document._source)
    on_stage("checked")
    ensure_workspace(session, team_id)
    run = _ImportRun(session, team_id, existing)
    objective_ids = run.objectives(document.objectives)
    on_stage("objectives")
    kr_ids = run.key_results(document, objective_ids)
    on_stage("key results")
    run.checkins(document, kr_ids)
    on_stage("check-ins")
    initiative_ids = run.initiatives(document.initiatives)
    on_stage("initiatives")
    run.links(document.initiatives, initiative_ids, kr_ids)
    run.lineage(document, objective_ids, kr_ids)
    on_stage("links")
    _reserve_imported_numbers(session, team_id, document)
    revisions.bump(session, [team_id])  # the bulk writes above bypass the ORM's flush hook
    return run.report


def _reference_problems(document: Document, existing: _Existing) -> list[tuple[Path, str]]:
    """Parents and linked KRs must exist in the file or the workspace; parents must not loop."""
    objectives = {objective.id for objective in document.objectives} | existing.objectives.keys()
    krs = {kr.id for _, kr in document.key_results()} | existing.krs.keys()
    problems: list[tuple[Path, str]] = []
    for i, objective in enumerate(document.objectives):
        if objective.parent is not None and objective.parent not in objectives:
            shown = objective_id(objective.parent)
            problems.append((("objectives", i, "parent"), f'"{shown}" is not an objective in this file or the workspace'))
    problems += _parent_loops(document, existing)
    problems += _lineage_problems(document, objectives, krs)
    for i, initiative in enumerate(document.initiatives):
        for j, link in enumerate(initiative.links):
            if link.kr not in krs:
                path: Path = ("initiatives", i, "links", j, "kr")
                problems.append((path, f'"{kr_id(link.kr)}" is not a KR in this file or the workspace'))
    return problems


def _lineage_problems(document: Document, objectives: set[int], krs: set[int]) -> list[tuple[Path, str]]:
    """`carried_from` names an objective (KR) that exists, and each is carried over once."""
    problems: list[tuple[Path, str]] = []
    seen: dict[tuple[str, int], Path] = {}
    entries = [(("objectives", i), objective, objectives, objective_id) for i, objective in enumerate(document.objectives)]
    entries += [
        (("objectives", i, "key_results", j), kr, krs, kr_id)
        for i, objective in enumerate(document.objectives)
        for j, kr in enumerate(objective.key_results)
    ]
    for path, entry, known, shown in entries:
        source = entry.carried_from
        if source is None:
            continue
        where = (*path, "carried_from")
        if source not in known or source == entry.id:
            problems.append((where, f'"{shown(source)}" is not another one in this file or the workspace'))
        elif (shown.__name__, source) in seen:
            problems.append((where, f'"{shown(source)}" is carried over twice (first at {format_path(seen[(shown.__name__, source)])})'))
        else:
            seen[(shown.__name__, source)] = where
    return problems


def _parent_loops(document: Document, existing: _Existing) -> list[tuple[Path, str]]:
    number_of = {row["id"]: number for number, row in existing.objectives.items()}
    parents = {number: number_of.get(row["parent_id"]) for number, row in existing.objectives.items()}
    parents.update({objective.id: objective.parent for objective in document.objectives})
    problems: list[tuple[Path, str]] = []
    for i, objective in enumerate(document.objectives):
        chain = [objective.id]
        step = parents.get(objective.id)
        while step is not None and step not in chain:
            chain.append(step)
            step = parents.get(step)
        if step == objective.id:
            loop = " → ".join(objective_id(number) for number in [*chain, step])
            problems.append((("objectives", i, "parent"), f"would make {objective_id(objective.id)} its own ancestor ({loop})"))
    return problems


def _reserve_imported_numbers(session: Session, team_id: str, document: Document) -> None:
    """New objects must never take a number the file brought in."""
    numbers = {
        Kind.OBJECTIVE: [objective.id for objective in document.objectives],
        Kind.KR: [kr.id for _, kr in document.key_results()],
        Kind.INITIATIVE: [initiative.id for initiative in document.initiatives],
    }
    for kind, found in numbers.items():
        if found:
            reserve_numbers(session, team_id, kind, max(found))


class _ImportRun:
    """One import's writes, table by table, each in a few bulk statements."""

    def __init__(self, session: Session, team_id: str, existing: _Existing):
        self.session = session
        self.team_id = team_id
        self.existing = existing
        self.now = utcnow()
        self.report = ImportReport()

    def objectives(self, entries: Sequence[ObjectiveEntry]) -> dict[int, int]:
        """Create and update objectives; returns every objective's row id by number."""
        known = self.existing.objectives
        new = [entry for entry in entries if entry.id not in known]
        # A new objective's parent may be new too, so parents are set once every row has an id.
        self._insert(Objective, [self._new_row(entry.id, _objective_fields(entry, None)) for entry in new])
        self.report.objectives.created += len(new)
        ids = self._ids(Objective)
        updates, new_parents = [], []
        for entry in entries:
            fields = _objective_fields(entry, ids.get(entry.parent))
            row = known.get(entry.id)
            if row is None:
                if fields["parent_id"] is not None:
                    new_parents.append({"row_id": ids[entry.id], "parent_id": fields["parent_id"]})
            else:
                self._compare(row, fields, updates, self.report.objectives)
        self._update(Objective, updates)
        self._update(Objective, new_parents)
        return ids

    def key_results(self, document: Document, objective_ids: dict[int, int]) -> dict[int, int]:
        """Create and update KRs; returns every KR's row id by number (file or not)."""
        with_done_work = {link.kr for item in document.initiatives if item.status == DONE for link in item.links}
        desired = {}
        for objective, kr in document.key_results():
            row = self.existing.krs.get(kr.id)
            last_progress_at = self._last_progress_at(kr, row, kr.id in with_done_work)
            desired[kr.id] = _kr_fields(kr, objective_ids[objective.id], last_progress_at)
        self._upsert(KeyResult, self.existing.krs, desired, self.report.krs)
        return self._ids(KeyResult)

    def _last_progress_at(self, kr: KrEntry, row: RowMapping | None, has_done_work: bool) -> datetime | None:
        """When the KR last moved: "no data" health and staleness read this."""
        dates = [row["last_progress_at"]] if row is not None and row["last_progress_at"] else []
        dates += [checkin.at.astimezone(UTC) for checkin in kr.checkins]
        if dates:
            return max(dates)
        # A value or done work with no dated check-in is still data, known since this import.
        return self.now if has_done_work or _has_value(kr) else None

    def checkins(self, document: Document, kr_ids: dict[int, int]) -> None:
        """Add the file's check-ins; one already there (same KR, time and author) is updated, not repeated."""
        earlier = self._earlier_checkins({kr_ids[kr.id] for _, kr in document.key_results() if kr.id in self.existing.krs})
        tally = self.report.checkins
        inserts, updates = [], []
        for _, kr in document.key_results():
            for entry in kr.checkins:
                at = entry.at.astimezone(UTC)
                fields = {"value": entry.value, "confidence": entry.confidence, "note": entry.note, "source": entry.source}
                same = earlier.get((kr_ids[kr.id], at, entry.by))
                if same:
                    self._compare(same.popleft(), fields, updates, tally, stamp=False)
                else:
                    inserts.append({"team_id": self.team_id, "kr_id": kr_ids[kr.id], "at": at, "author": entry.by, **fields})
        tally.created += len(inserts)
        self._insert(CheckIn, inserts)
        self._update(CheckIn, updates)

    def _earlier_checkins(self, kr_row_ids: set[int]) -> dict[tuple, deque[RowMapping]]:
        """Check-ins already on these KRs, oldest first, by (KR, time, author)."""
        found: dict[tuple, deque[RowMapping]] = defaultdict(deque)
        if not kr_row_ids:
            return found  # only new KRs: nothing to match, nothing to load
        table = CheckIn.__table__
        rows = self.session.execute(select(table).where(table.c.team_id == self.team_id).order_by(table.c.id)).mappings()
        for row in rows:
            if row["kr_id"] in kr_row_ids:
                found[(row["kr_id"], row["at"], row["author"])].append(row)
        return found

    def initiatives(self, entries: Sequence[InitiativeEntry]) -> dict[int, int]:
        desired = {entry.id: _initiative_fields(entry) for entry in entries}
        self._upsert(Initiative, self.existing.initiatives, desired, self.report.initiatives)
        return self._ids(Initiative)

    def links(self, entries: Sequence[InitiativeEntry], initiative_ids: dict[int, int], kr_ids: dict[int, int]) -> None:
        earlier = self._earlier_links() if any(entry.id in self.existing.initiatives for entry in entries) else {}
        tally = self.report.links
        inserts, updates = [], []
        for entry in entries:
            for link in entry.links:
                key = (initiative_ids[entry.id], kr_ids[link.kr])
                row = earlier.get(key)
                if row is None:
                    inserts.append(
                        {"team_id": self.team_id, "initiative_id": key[0], "kr_id": key[1], "weight": link.weight, "created_at": self.now}
                    )
                else:
                    self._compare(row, {"weight": link.weight}, updates, tally, stamp=False)
        tally.created += len(inserts)
        self._insert(KrLink, inserts)
        self._update(KrLink, updates)

    def _earlier_links(self) -> dict[tuple[int, int], RowMapping]:
        table = KrLink.__table__
        rows = self.session.execute(select(table).where(table.c.team_id == self.team_id)).mappings()
        return {(row["initiative_id"], row["kr_id"]): row for row in rows}

    def lineage(self, document: Document, objective_ids: dict[int, int], kr_ids: dict[int, int]) -> None:
        """`carried_from`, set once every row has an id (the source may be new too)."""
        for model, known, entries, ids in (
            (Objective, self.existing.objectives, document.objectives, objective_ids),
            (KeyResult, self.existing.krs, [kr for _, kr in document.key_results()], kr_ids),
        ):
            updates = []
            for entry in entries:
                wanted = ids[entry.carried_from] if entry.carried_from is not None else None
                row = known.get(entry.id)
                if wanted != (row["carried_from_id"] if row is not None else None):
                    updates.append({"row_id": ids[entry.id], "carried_from_id": wanted})
            self._update(model, updates)

    # --- bulk writing --------------------------------------------------------------

    def _upsert(self, model, known: dict[int, RowMapping], desired: dict[int, dict], tally: Tally) -> None:
        inserts = [self._new_row(number, fields) for number, fields in desired.items() if number not in known]
        updates: list[dict] = []
        for number, fields in desired.items():
            if number in known:
                self._compare(known[number], fields, updates, tally)
        tally.created += len(inserts)
        self._insert(model, inserts)
        self._update(model, updates)

    def _new_row(self, number: int, fields: dict) -> dict:
        return {"team_id": self.team_id, "number": number, **fields, "created_at": self.now, "updated_at": self.now}

    def _compare(self, row: RowMapping, fields: dict, updates: list[dict], tally: Tally, *, stamp: bool = True) -> None:
        """Queue an update only when a value differs, so a re-import touches nothing."""
        if all(row[name] == value for name, value in fields.items()):
            tally.unchanged += 1
            return
        updates.append({"row_id": row["id"], **fields, **({"updated_at": self.now} if stamp else {})})
        tally.updated += 1

    # Core statements with one list of parameters each: the driver's executemany does
    # the rest. (ORM bulk inserts split rows into small batches by which values are None.)

    def _insert(self, model, rows: list[dict]) -> None:
        if rows:
            self.session.execute(insert(model.__table__), rows)

    def _update(self, model, rows: list[dict]) -> None:
        """Rows are {"row_id": primary key, column: new value, …}, all with the same columns."""
        if rows:
            table = model.__table__
            self.session.execute(update(table).where(table.c.id == bindparam("row_id")), rows)

    def _ids(self, model) -> dict[int, int]:
        table = model.__table__
        return dict(self.session.execute(select(table.c.number, table.c.id).where(table.c.team_id == self.team_id)).all())


def _objective_fields(entry: ObjectiveEntry, parent_id: int | None) -> dict:
    return {
        "title": entry.title,
        "owner": entry.owner,
        "team_channel": entry.team,
        "period": entry.period,
        "parent_id": parent_id,
        "description": entry.description,
        "private": entry.private,
        "status": entry.status,
    }


def _kr_fields(entry: KrEntry, objective_row_id: int, last_progress_at: datetime | None) -> dict:
    start, target = entry.start, entry.target
    if entry.metric is Metric.BOOLEAN:
        # As /okr kr add does: yes/no KRs go from 0 to 1, or progress would stay at 0.
        start = 0.0 if start is None else start
        target = 1.0 if target is None else target
    return {
        "objective_id": objective_row_id,
        "title": entry.title,
        "owner": entry.owner,
        "metric": entry.metric.value,
        "direction": entry.direction.value,
        "keep": entry.keep.value if entry.keep else None,
        "start": start,
        "target": target,
        "current": entry.current,
        "unit": entry.unit,
        "weight": entry.weight,
        "confidence": entry.confidence,
        "status": entry.status,
        "last_progress_at": last_progress_at,
        "commitment": entry.commitment.value if entry.commitment else None,
        "grade": entry.grade,
        "grade_note": entry.grade_note,
        "grade_source": entry.grade_source if entry.grade is not None else None,
    }


def _has_value(kr: KrEntry) -> bool:
    """Whether the KR's value says something happened (a numeric KR still at its start does not)."""
    if kr.metric is Metric.MILESTONE or kr.current is None:
        return False
    if kr.metric is Metric.BOOLEAN or kr.direction is Direction.MAINTAIN:
        return True
    return kr.current != kr.start


def _initiative_fields(entry: InitiativeEntry) -> dict:
    return {
        "title": entry.title,
        "owner": entry.owner,
        "status": entry.status,
        "url": entry.url,
        "url_key": url_key(entry.url) if entry.url else None,
    }


# --- export -----------------------------------------------------------------------


def plain_number(value: float | None) -> float | int | None:
    """45.0 → 45, so a document reads the way people write it and stays stable."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


@dataclass
class _TeamRows:
    """A workspace's OKR rows, loaded one query per table and grouped in Python."""

    objectives: list[Row]
    krs_by_objective: dict[int, list[Row]]
    initiatives: list[Row]
    links_by_initiative: dict[int, list[Row]]
    links_by_kr: dict[int, list[Row]]
    objective_numbers: dict[int, int]
    kr_numbers: dict[int, int]
    initiatives_by_id: dict[int, Row]

    @classmethod
    def load(cls, session: Session, team_id: str) -> _TeamRows:
        objectives = _team_rows(session, Objective, team_id, order=("number",))
        krs = _team_rows(session, KeyResult, team_id, order=("number",))
        initiatives = _team_rows(session, Initiative, team_id, order=("number",))
        links = _team_rows(session, KrLink, team_id, order=("id",))
        kr_numbers = {kr.id: kr.number for kr in krs}
        links.sort(key=lambda link: kr_numbers[link.kr_id])
        return cls(
            objectives=objectives,
            krs_by_objective=_grouped(krs, "objective_id"),
            initiatives=initiatives,
            links_by_initiative=_grouped(links, "initiative_id"),
            links_by_kr=_grouped(links, "kr_id"),
            objective_numbers={objective.id: objective.number for objective in objectives},
            kr_numbers=kr_numbers,
            initiatives_by_id={initiative.id: initiative for initiative in initiatives},
        )

    def progress(self, kr: Row) -> float:
        work = [
            LinkedWork(weight=link.weight, done=link_done(self.initiatives_by_id[link.initiative_id].status, link.done_at_close))
            for link in self.links_by_kr.get(kr.id, ())
        ]
        return kr_progress(kr_state(kr, work))

    def linked_initiatives(self, kr: Row) -> list[str]:
        numbers = sorted(self.initiatives_by_id[link.initiative_id].number for link in self.links_by_kr.get(kr.id, ()))
        return [initiative_id(number) for number in numbers]


# The columns export reads: skipping the rest (created_at, …) skips converting ~80,000 datetimes at M.
_EXPORTED_COLUMNS = {
    Objective: ("id", "number", "title", "owner", "team_channel", "period", "parent_id", "private", "description", "status", "carried_from_id"),
    KeyResult: (
        *("id", "number", "objective_id", "title", "owner", "metric", "direction", "keep", "start", "target"),
        *("current", "unit", "weight", "confidence", "status", "last_progress_at"),
        *("commitment", "grade", "grade_note", "grade_source", "carried_from_id"),
    ),
    Initiative: ("id", "number", "title", "owner", "status", "url"),
    KrLink: ("initiative_id", "kr_id", "weight", "done_at_close"),
    CheckIn: ("kr_id", "at", "value", "confidence", "note", "author", "source"),
}


def _team_rows(session: Session, model, team_id: str, *, order: tuple[str, ...]) -> list[Row]:
    table = model.__table__
    columns = [table.c[name] for name in _EXPORTED_COLUMNS[model]]
    query = select(*columns).where(table.c.team_id == team_id).order_by(*(table.c[name] for name in order))
    return list(session.execute(query).all())


def _grouped(rows: Iterable[Row], key: str) -> dict[int, list[Row]]:
    groups: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    return groups


def export_document(session: Session, team_id: str, *, on_stage: Callable[[str], None] = _no_stage) -> dict:
    """Every objective with its KRs and check-ins, and every initiative with its links."""
    rows = _TeamRows.load(session, team_id)
    on_stage("objectives and KRs")
    checkins = _grouped(_team_rows(session, CheckIn, team_id, order=("at", "id")), "kr_id")
    on_stage("check-ins")
    document = {
        "version": FORMAT_VERSION,
        "objectives": [_objective_entry(rows, objective, checkins) for objective in rows.objectives],
        "initiatives": [_initiative_entry(rows, initiative) for initiative in rows.initiatives],
    }
    on_stage("document")
    return document


def export_json(session: Session, team_id: str, *, on_stage: Callable[[str], None] = _no_stage) -> str:
    return document_text(export_document(session, team_id, on_stage=on_stage))


def document_text(document: dict) -> str:
    """JSON indented by two spaces, except that flat records (check-ins, links) sit on
    one line each: a diff shows one line per check-in, and the C encoder, which
    `indent` would switch off, does most of the work (seconds saved at 100,000 check-ins)."""
    out: list[str] = []
    _write_json(document, "", out)
    out.append("\n")
    return "".join(out)


_FLAT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))
_json_string = json.encoder.encode_basestring  # in C; most values written are strings


def _write_json(value: dict | list, indent: str, out: list[str]) -> None:
    if isinstance(value, dict) and not any(isinstance(item, dict | list) for item in value.values()):
        out.append(_FLAT_JSON.encode(value))
        return
    if not value:
        out.append("[]")
        return
    inner = indent + "  "
    is_object = isinstance(value, dict)
    out.append("{" if is_object else "[")
    separator = "\n" + inner
    for item in value.items() if is_object else value:
        out.append(separator)
        separator = ",\n" + inner
        if is_object:
            key, item = item
            out.append(_json_string(key) + ": ")
        if isinstance(item, dict | list):
            _write_json(item, inner, out)
        else:
            out.append(_json_string(item) if isinstance(item, str) else _FLAT_JSON.encode(item))
    out.append("\n" + indent + ("}" if is_object else "]"))


def _objective_entry(rows: _TeamRows, objective: Row, checkins: dict[int, list[Row]]) -> dict:
    parent = rows.objective_numbers.get(objective.parent_id)
    krs = rows.krs_by_objective.get(objective.id, ())
    grade = objective_grade([(kr.grade, kr.weight) for kr in krs if kr.grade is not None and kr.status == "active"])
    carried = rows.objective_numbers.get(objective.carried_from_id)
    return {
        "id": objective_id(objective.number),
        "title": objective.title,
        "owner": objective.owner,
        "team": objective.team_channel,
        "period": objective.period,
        "parent": objective_id(parent) if parent is not None else None,
        "private": objective.private,
        "description": objective.description,
        "status": objective.status,
        "grade": plain_number(round(grade, 4)) if grade is not None else None,
        "carried_from": objective_id(carried) if carried is not None else None,
        "key_results": [_kr_entry(rows, kr, checkins.get(kr.id, ())) for kr in krs],
    }


def _kr_entry(rows: _TeamRows, kr: Row, checkins: Iterable[Row]) -> dict:
    return {
        "id": kr_id(kr.number),
        "title": kr.title,
        "owner": kr.owner,
        "metric": kr.metric,
        "direction": kr.direction,
        "keep": kr.keep,
        "start": plain_number(kr.start),
        "target": plain_number(kr.target),
        "current": plain_number(kr.current),
        "unit": kr.unit,
        "weight": plain_number(kr.weight),
        "confidence": kr.confidence,
        "status": kr.status,
        "progress": plain_number(round(rows.progress(kr), 4)),
        "commitment": kr.commitment,
        "grade": plain_number(kr.grade),
        "grade_note": kr.grade_note,
        "grade_source": kr.grade_source,
        "carried_from": kr_id(rows.kr_numbers[kr.carried_from_id]) if kr.carried_from_id in rows.kr_numbers else None,
        "checkins": [_checkin_entry(checkin) for checkin in checkins],
    }


def _checkin_entry(checkin: Row) -> dict:
    return {
        "at": format_time(checkin.at),
        "value": plain_number(checkin.value),
        "confidence": checkin.confidence,
        "note": checkin.note,
        "by": checkin.author,
        "source": checkin.source,
    }


def _initiative_entry(rows: _TeamRows, initiative: Row) -> dict:
    return {
        "id": initiative_id(initiative.number),
        "title": initiative.title,
        "owner": initiative.owner,
        "status": initiative.status,
        "url": initiative.url,
        "links": [
            {"kr": kr_id(rows.kr_numbers[link.kr_id]), "weight": plain_number(link.weight)}
            for link in rows.links_by_initiative.get(initiative.id, ())
        ],
    }


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z: 2026-10-01T10:00:00Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


CSV_COLUMNS = (
    "objective",
    "objective_title",
    "period",
    "team",
    "kr",
    "title",
    "owner",
    "metric",
    "direction",
    "keep",
    "start",
    "target",
    "current",
    "unit",
    "weight",
    "confidence",
    "progress_percent",
    "health",
    "status",
    "initiatives",
    "commitment",
    "grade",
    "grade_note",
    "grade_source",
    "carried_from",
)


def export_csv(session: Session, team_id: str, *, now: datetime | None = None, fiscal_start: int = 1) -> str:
    """One row per KR with its objective, progress (integer percent) and health at `now`."""
    rows = _TeamRows.load(session, team_id)
    tz, start_month = _workspace_calendar(session, team_id, fiscal_start)
    now = now or utcnow()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for objective in rows.objectives:
        period = parse_period(objective.period, start_month)
        expected = period.elapsed_share(now, tz) if period else 0.0
        for kr in rows.krs_by_objective.get(objective.id, ()):
            progress = rows.progress(kr)
            writer.writerow(
                [
                    objective_id(objective.number),
                    _cell(objective.title),
                    objective.period,
                    objective.team_channel or "",
                    kr_id(kr.number),
                    _cell(kr.title),
                    kr.owner,
                    kr.metric,
                    kr.direction,
                    kr.keep or "",
                    _csv_number(kr.start),
                    _csv_number(kr.target),
                    _csv_number(kr.current),
                    _cell(kr.unit or ""),
                    _csv_number(kr.weight),
                    "" if kr.confidence is None else kr.confidence,
                    percent(progress),
                    health(progress, expected, kr.last_progress_at is not None).value,
                    kr.status,
                    " ".join(rows.linked_initiatives(kr)),
                    kr.commitment or "",
                    _csv_number(kr.grade),
                    _cell(kr.grade_note),
                    kr.grade_source or "",
                    kr_id(rows.kr_numbers[kr.carried_from_id]) if kr.carried_from_id in rows.kr_numbers else "",
                ]
            )
    return out.getvalue()


def _workspace_calendar(session: Session, team_id: str, default_month: int) -> tuple[ZoneInfo, int]:
    """The workspace's time zone and the month its fiscal year starts in."""
    found = session.execute(select(Workspace.timezone, Workspace.fiscal_year_start).where(Workspace.team_id == team_id)).first()
    name, month = found if found else (None, None)
    return ZoneInfo(name or "UTC"), month or default_month


def _csv_number(value: float | None) -> str | int | float:
    return "" if value is None else plain_number(value)


def _cell(text: str) -> str:
    # Titles come from Slack; a spreadsheet would run one starting with "=" as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
