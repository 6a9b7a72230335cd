"""Authoring cost at HQ: every change rebuilds the affected windows' config documents.

Builds an organisation of ``--branches`` x 2 halls x 10 windows, imports ``--staff`` staff
in one file, then times one staff change (new versions for one branch's windows) and a
change no document contains (a branch's name: no version). Prints seconds per operation.

    python -m bench.bench_org [--branches 10] [--staff 2000]

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hq.org.authoring.store import OrgStore
from hq.org.importing.files import import_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--branches", type=int, default=10)
    ap.add_argument("--staff", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = OrgStore(Path(tmp) / "events.db")
        with store.transaction() as c:
            for b in range(args.branches):
                c.execute("INSERT INTO org_branches VALUES (?, ?, ?)",
                          [f"B{b}", f"Branch {b}", "Asia/Shanghai"])
                for h in range(2):
                    c.execute("INSERT INTO org_halls VALUES (?, ?, ?)",
                              [f"H{b}.{h}", f"B{b}", "Hall"])
                    for w in range(10):
                        c.execute("INSERT INTO org_windows VALUES (?, ?, ?)",
                                  [f"W{b}.{h}.{w}", f"H{b}.{h}", "Window"])
        windows = args.branches * 20
        rows = "staff_no,name,badge_uid,home_branch_id\n" + "".join(
            f"{i},Name {i},{i:08X},B{i % args.branches}\n" for i in range(1, args.staff + 1))
        t = time.perf_counter()
        result = import_file(store, "staff", rows.encode(), "staff.csv")
        imported = time.perf_counter() - t
        t = time.perf_counter()
        _, made = store.author("staff", {"staff_no": "5", "name": "Renamed",
                                         "badge_uid": "00000005", "home_branch_id": "B5"})
        one = time.perf_counter() - t
        t = time.perf_counter()
        _, none = store.author("branch", {"branch_id": "B1", "name": "Renamed"})
        noop = time.perf_counter() - t
        store.close()
    print(f"{windows} windows, {args.staff} staff")
    print(f"import of {args.staff} staff: {imported:.2f} s ({len(result.versions)} versions)")
    print(f"one staff change: {one * 1000:.0f} ms ({len(made)} versions)")
    print(f"change in no document: {noop * 1000:.0f} ms ({len(none)} versions)")


if __name__ == "__main__":
    main()
