"""A pytest plugin: every skipped test on its own line with its reason, and the count.

pytest's ``-ra`` summary folds skips sharing a file, line and reason into one line
(``SKIPPED [3] tests/x.py:12: reason``), so counting its lines undercounts. This lists
each skipped test id once, then a total that equals pytest's own ``N skipped``. Loaded
by ``make test`` (``-p tests.skip_report`` in the Makefile).
"""

from __future__ import annotations

import pytest


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason pytest recorded for a skip (the text after ``Skipped: ``)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Write ``skipped: <test id>: <reason>`` per skip, then ``N skipped in total``."""
    # Test reports and collection reports (a module skipped as a whole) alike.
    skipped = list(terminalreporter.stats.get("skipped", []))
    if not skipped:
        return
    terminalreporter.section(f"{len(skipped)} skipped, each with its reason")
    for report in sorted(skipped, key=lambda r: r.nodeid):
        terminalreporter.line(f"skipped: {report.nodeid}: {skip_reason(report)}")
    terminalreporter.line(f"{len(skipped)} skipped in total")
