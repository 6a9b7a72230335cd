"""Scoring of decided intervals against truth, and the truth file format (docs/eval.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vision.evalsuite.score import Score, score
from vision.evalsuite.truth import Truth, TruthError, load_truth, parse_truth, save_truth

# (truth, got) -> (exact, late, fragmented, merged, spurious, missed), worked by hand
# with the 2 s tolerance.
Ivs = list[tuple[float, float]]
CASES: dict[str, tuple[Ivs, Ivs, tuple[int, int, int, int, int, int]]] = {
    "exact within 2 s": ([(4, 16)], [(5.9, 14.1)], (1, 0, 0, 0, 0, 0)),
    "end 2.5 s late": ([(4, 16)], [(4.2, 18.5)], (0, 1, 0, 0, 0, 0)),
    "one visit cut in three": ([(4, 30)], [(4, 10), (12, 20), (22, 30)], (0, 0, 1, 0, 0, 0)),
    "two customers merged": ([(4, 16), (19, 31)], [(4, 31)], (0, 0, 0, 1, 0, 0)),
    "a spurious visit and a missed one": ([(20, 30)], [(2, 5)], (0, 0, 0, 0, 1, 1)),
    "both customers exact": ([(4, 16), (19, 31)], [(4.2, 15.8), (19.2, 30.8)],
                             (2, 0, 0, 0, 0, 0)),
    "nothing true, nothing decided": ([], [], (0, 0, 0, 0, 0, 0)),
    "a merge that also covers a third": ([(1, 2), (3, 4), (10, 12)], [(1, 4), (10, 12)],
                                          (1, 0, 0, 1, 0, 0)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_score_table(name: str) -> None:
    truth, got, want = CASES[name]
    s = score(truth, got)
    assert (s.exact, s.late, s.fragmented, s.merged, s.spurious, s.missed) == want
    assert s.ok == (want[0] == len(truth) and len(got) == len(truth))


def test_score_text() -> None:
    assert Score(2, 1, merged=1).text() == "0/2 exact, 1 merged"
    assert Score(1, 1, exact=1).text() == "1/1 exact"


GOOD = {"suite": "presence", "case": "c1", "video": "c1.mp4", "duration_s": 40,
        "transactions": [[4, 16], [19.5, 31]], "absences": [[10, 40]]}


def test_truth_round_trip(tmp_path: Path) -> None:
    t = parse_truth(GOOD, "c1.json")
    assert t.transactions == ((4.0, 16.0), (19.5, 31.0)) and t.absences == ((10.0, 40.0),)
    path = tmp_path / "c1.json"
    save_truth(t, path)
    assert load_truth(path) == t
    assert json.loads(path.read_text())["case"] == "c1"


BAD = {
    "missing video": ({k: v for k, v in GOOD.items() if k != "video"}, "video is required"),
    "unknown key": ({**GOOD, "extra": 1}, "unknown key"),
    "bad suite": ({**GOOD, "suite": "hall"}, "suite must be"),
    "end before start": ({**GOOD, "transactions": [[16, 4]]}, r"transactions\[0\] needs"),
    "beyond the video": ({**GOOD, "absences": [[10, 41]]}, r"absences\[0\] needs"),
    "overlapping": ({**GOOD, "transactions": [[4, 16], [15, 20]]}, r"transactions\[1\] overlaps"),
    "not a pair": ({**GOOD, "transactions": [[4]]}, r"transactions\[0\] must be"),
    "bool time": ({**GOOD, "transactions": [[True, 4]]}, r"transactions\[0\] must be"),
    "zero duration": ({**GOOD, "duration_s": 0}, "duration_s must be"),
    "not an object": ([], "one JSON object"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_truth_errors_name_the_key(name: str) -> None:
    data, message = BAD[name]
    with pytest.raises(TruthError, match=message) as info:
        parse_truth(data, "case.json")
    assert str(info.value).startswith("case.json: ")


def test_truth_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{not json")
    with pytest.raises(TruthError, match="cannot read JSON"):
        load_truth(path)
    assert isinstance(parse_truth(GOOD, "x"), Truth)
