"""docs/hq-deploy.md names only commands and hq.toml sections that exist (or says they are
landing with issue 17), and every metric HQ exports is in its monitoring table."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from hq.cli import build_parser
from hq.config import HQConfig

DOC = Path(__file__).resolve().parents[3] / "docs" / "hq-deploy.md"
LANDING: set[str] = set()  # commands the guide names before they land (none now)
LANDING_OPTIONS: set[str] = set()


def _subcommands() -> dict[str, set[str]]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: {o for a in p._actions for o in a.option_strings}
            for name, p in sub.choices.items()}


def test_every_hq_command_exists_or_is_marked_landing() -> None:
    text = DOC.read_text()
    commands = _subcommands()
    used = re.findall(r"counterunit hq ([a-z-]+)((?: --?[a-z-]+(?: [^ `\n-][^ `\n]*)?)*)", text)
    assert len(used) >= 8
    for name, rest in used:
        if name in LANDING:
            assert "landing" in text[:text.index(f"counterunit hq {name}")][-800:], name
            continue
        assert name in commands, f"counterunit hq {name} does not exist"
        for option in re.findall(r"(--[a-z-]+)", rest):
            if option in LANDING_OPTIONS:
                continue
            assert option in commands[name], f"counterunit hq {name} has no {option}"


def test_every_toml_section_is_a_config_section() -> None:
    sections = set(re.findall(r"^\[([a-z.]+)\]$", DOC.read_text(), re.M))
    assert {s.split(".")[0] for s in sections} <= set(HQConfig.model_fields)
    assert {"database", "clips", "proxy", "directory"} <= sections


def test_every_exported_metric_is_documented() -> None:
    source = (Path(__file__).resolve().parents[3] / "hq" / "metrics.py").read_text()
    exported = set(re.findall(r'"(counterunit_hq_[a-z_]+)"', source))
    assert len(exported) >= 7
    text = DOC.read_text()
    assert not [m for m in exported if f"`{m}" not in text]
