"""Scoring rules as data, the formula (docs/scoring.md's worked example), inputs import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from pydantic import ValidationError

from hq.reports.entries import inputs
from hq.reports.entries import rules as score_rules
from hq.reports.figures import scoring
from hq.reports.figures.metrics import figures_of
from hq.storage.events import SqliteEventStore
from hq.storage.sqlite import connect
from tests.helpers.hq import reports_fixture as fx
from tests.servers.postgres_fixtures import Backend

# The worked example of docs/scoring.md: 24 of 25 rated satisfied, 10 transactions
# averaging 330 s, 19 of 20 shifts attended, 12 unexcused off-seat minutes.
EXAMPLE = figures_of("S9", "example", "B", {
    "txn": 10, "dur_n": 10, "dur_sum": 3300, "rated": 25, "rated_ok": 25, "satisfied": 24,
    "shift_n": 20, "present_n": 19, "os_n": 3, "os_s": 720, "os_n_unexcused": 3,
    "os_s_unexcused": 720})


@pytest.fixture
def db(tmp_path: Path, backend: Backend) -> Path:
    path = backend.migrated(tmp_path / "hq") / "events.db"
    SqliteEventStore(path).close()
    fx.build_org(path)
    return path


@pytest.mark.parametrize(("given", "score", "grade", "missing", "parts"), [
    (scoring.Inputs(92, 95, 90), 93.6, "good", (),
     {"satisfaction": 94.5, "efficiency": 93.2, "knowledge": 92, "teamwork": 95}),
    (scoring.Inputs(None, 95, 90), 94.1, "good", ("knowledge",),
     {"satisfaction": 94.5, "efficiency": 93.2, "knowledge": None, "teamwork": 95}),
    (scoring.Inputs(100, 100, None), 96.3, "excellent", (),
     {"satisfaction": 96.0, "efficiency": 93.2, "knowledge": 100, "teamwork": 100}),
    (scoring.Inputs(), 94.8, "good", ("knowledge", "teamwork"),
     {"satisfaction": 96.0, "efficiency": 93.2, "knowledge": None, "teamwork": None}),
    (scoring.Inputs(50, 50, 0), 71.7, "fail", (),
     {"satisfaction": 72.0, "efficiency": 93.2, "knowledge": 50, "teamwork": 50}),
])
def test_worked_example(given: scoring.Inputs, score: float, grade: str,
                        missing: tuple[str, ...], parts: dict[str, float | None]) -> None:
    s = scoring.score(EXAMPLE, given, scoring.ScoringRules())
    assert (s.score, s.grade, s.missing, s.parts) == (score, grade, missing, parts)


@pytest.mark.parametrize(("value", "grade"), [
    (100, "excellent"), (95, "excellent"), (94.9, "good"), (90, "good"), (89.9, "pass"),
    (80, "pass"), (79.9, "fail"), (0, "fail")])
def test_default_bands(value: float, grade: str) -> None:
    f = figures_of("x", "x", "", {})
    s = scoring.score(f, scoring.Inputs(value, value, None), scoring.ScoringRules())
    assert (s.score, s.grade, s.missing) == (value, grade, ("satisfaction", "efficiency"))


def test_nothing_known_has_no_score() -> None:
    s = scoring.score(figures_of("x", "x", "", {}), scoring.Inputs(), scoring.ScoringRules())
    assert (s.score, s.grade) == (None, None)


@pytest.mark.parametrize(("rules", "message"), [
    ({"weights": {"satisfaction": 50}}, "add up to 100"),
    ({"bands": [{"grade": "a", "min_score": 50}]}, "start at 0"),
    ({"bands": [{"grade": "a", "min_score": 0}, {"grade": "b", "min_score": 50}]},
     "highest min_score first"),
    ({"efficiency": {"handling_weight": 0.9}}, "add up to 1"),
    ({"satisfaction": {"floor_pct": 90, "target_pct": 80}}, "above floor_pct"),
    ({"weights": {"speed": 1}}, "speed"),
])
def test_bad_rules_are_refused_naming_the_rule(db: Path, rules: dict[str, object],
                                               message: str) -> None:
    conn = connect(db)
    with pytest.raises(ValidationError, match=message):
        score_rules.save_rules(conn, rules, "admin")
    assert score_rules.current_rules(conn)[0] == 0


def test_rules_are_versioned(db: Path) -> None:
    conn = connect(db)
    assert score_rules.current_rules(conn) == (0, scoring.ScoringRules())
    v1 = score_rules.save_rules(conn, {"weights": {"satisfaction": 50, "efficiency": 20}}, "ann")
    v2 = score_rules.save_rules(conn, scoring.ScoringRules(bands=[
        scoring.Band(grade="ok", min_score=60), scoring.Band(grade="not ok", min_score=0)]),
        "bob")
    version, rules = score_rules.current_rules(conn)
    assert (v1, v2, version, rules.bands[0].grade) == (1, 2, 2, "ok")
    assert [(v, a) for v, a, _ in score_rules.rules_history(conn)] == [(2, "bob"), (1, "ann")]


def test_csv_import_with_a_bad_row_writes_nothing(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "in.csv"
    bad.write_text("staff_no,month,knowledge,teamwork,mystery_shopper\n"
                   "S1,2026-03,88,92,\nS9,2026-3,101,x,\n", encoding="utf-8")
    conn = connect(db)
    with pytest.raises(inputs.InputError) as err:
        inputs.import_file(conn, bad, "mgr")
    assert [str(e) for e in err.value.errors] == [
        "row 3, staff_no: 'S9' is not a staff member", "row 3, month: '2026-3' must be YYYY-MM",
        "row 3, knowledge: 101 must be within 0..100", "row 3, teamwork: 'x' is not a number"]
    assert inputs.inputs_for(conn, fx.D1, fx.D2) == {}


def test_xlsx_import_and_partial_updates(db: Path, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(inputs.COLUMNS))
    ws.append(["S1", dt.datetime(2026, 3, 1), 88, 92, None])
    ws.append(["S2", "2026-03", 70, None, 60])
    path = tmp_path / "in.xlsx"
    wb.save(path)
    conn = connect(db)
    assert inputs.import_file(conn, path, "mgr") == 2
    later = tmp_path / "later.csv"
    later.write_text("staff_no,month,mystery_shopper\nS1,2026-03,75\n", encoding="utf-8")
    inputs.import_file(conn, later, "mgr")
    assert inputs.inputs_for(conn, fx.D1, fx.D2) == {
        "S1": scoring.Inputs(88, 92, 75), "S2": scoring.Inputs(70, None, 60)}


def test_unknown_column_is_named(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("staff_no,month,speed\n", encoding="utf-8")
    with pytest.raises(inputs.InputError, match="row 1, speed: unknown column"):
        inputs.import_file(connect(db), path, "mgr")
