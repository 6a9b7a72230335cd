"""``counterunit eval presence`` end to end on a few of its hardest cases.

Real composition, the real unit replayed with the real models, the real
scoring; the whole suite (26 cases, about 20 minutes of video) is run by the
command itself (docs/eval.md) and takes about two minutes on an idle machine.
These are the cases the identity tracker exists for: the next customer 3 s
after the first left, the same customer out of view for 6 s, and a companion
beside the customer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware.cli.app import main

CASES = ["back_to_back_3s", "ducks_6s", "companion"]


def test_eval_presence_cases_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["eval", "presence", "--dir", str(tmp_path)]
    for name in CASES:
        argv += ["--case", name]
    code = main(argv)
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"eval presence: {len(CASES)}/{len(CASES)} cases pass", "\n".join(out)
    assert code == 0
    rows = [line for line in out if line.startswith(("ok ", "FAIL"))]
    assert [r.split()[1] for r in rows] == sorted(CASES)
    truth = json.loads((tmp_path / "back_to_back_3s.json").read_text())
    assert truth["transactions"] == [[4, 16], [19, 31]]  # the truth files stay for re-scoring


def test_eval_presence_rescores_and_fails_on_wrong_truth(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A truth saying one visit where the video has two: the case fails, exit 1."""
    assert main(["eval", "presence", "--dir", str(tmp_path), "--case", "back_to_back_3s"]) == 0
    capsys.readouterr()
    path = tmp_path / "back_to_back_3s.json"
    truth = json.loads(path.read_text())
    truth["transactions"] = [[4, 31]]
    path.write_text(json.dumps(truth))
    assert main(["eval", "presence", "--dir", str(tmp_path), "--no-compose"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "eval presence: 0/1 cases pass"
    assert any("FAIL back_to_back_3s" in line and "fragmented" in line for line in out)


def test_eval_presence_bad_truth_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.json").write_text('{"case": "x", "video": "x.mp4", "duration_s": -1}')
    assert main(["eval", "presence", "--dir", str(tmp_path), "--no-compose"]) == 2
    assert "duration_s must be a positive number" in capsys.readouterr().err
    assert main(["eval", "presence", "--dir", str(tmp_path), "--case", "nope"]) == 2
    assert "unknown case(s): nope" in capsys.readouterr().err
