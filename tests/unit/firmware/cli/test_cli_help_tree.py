"""Every ``counterunit`` subcommand, at every depth, answers ``-h`` and ``--help`` with 0."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from firmware.cli.app import build_parser, delegated_commands, main
from hq.cli import build_parser as hq_parser


def _paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    out = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                out += _paths(child, (*prefix, name))
    return out


def command_tree() -> list[tuple[str, ...]]:
    """Every command path: the top parser's tree, hq's own tree, the delegated simulators."""
    paths = _paths(build_parser(), ())
    paths += [("hq", *p) for p in _paths(hq_parser(), ())]
    return sorted(set(paths))


def _help(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue() + err.getvalue()


def test_the_tree_reaches_the_delegated_commands() -> None:
    paths = command_tree()
    assert len(paths) > 30
    delegated = delegated_commands(build_parser())
    assert {"hq", "keypad-sim", "badge-sim", "queue-sim"} <= set(delegated)
    for name in delegated:
        assert (name,) in paths
    assert ("hq", "serve") in paths and ("zones", "snapshot") in paths


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_every_command_answers_help(flag: str) -> None:
    failures = []
    for path in command_tree():
        code, text = _help([*path, flag])
        if code != 0 or "usage:" not in text:
            failures.append(f"counterunit {' '.join(path)} {flag}: exit {code}: {text[:120]!r}")
    assert not failures, "\n".join(failures)


def test_top_help_lists_every_hq_subcommand() -> None:
    _, text = _help(["--help"])
    hq_commands = [p[1] for p in command_tree() if len(p) == 2 and p[0] == "hq"]
    assert "serve" in hq_commands
    for name in hq_commands:
        assert f"\n  {name} " in text, name
