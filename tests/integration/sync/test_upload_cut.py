"""A clip upload cut part-way costs at most the chunk in flight, counted on the wire.

The deterministic half of bench/bench_upload.py, small enough for ``make test``: the fault
proxy (terminating TLS) counts the clip bytes it forwarded to a real HQ.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hq.api.deps import HQLimits
from tests.helpers.hq.server import running_hq
from tests.helpers.unit.upload_cut import upload_cut

CHUNK = 64 * 1024


@pytest.mark.parametrize("cut_at", [CHUNK // 2, 3 * CHUNK + CHUNK // 3, 5 * CHUNK - 1000])
def test_a_cut_upload_resends_at_most_the_chunk_in_flight(tmp_path: Path, cut_at: int) -> None:
    with running_hq(tmp_path / "hq", HQLimits(max_chunk_bytes=CHUNK)) as hq:
        got = upload_cut(hq, tmp_path, size=8 * CHUNK, chunk=CHUNK, cut_at=cut_at)
    assert got.stored_sha_ok
    audit = got.audit
    assert (audit.uploads, audit.interrupted, audit.below_ack) == (1, 1, 0)
    assert audit.unique_bytes == 8 * CHUNK
    # Exactly the part of the cut chunk that got through goes again: the request headers
    # of every PATCH before the cut count towards ``cut_at`` too, so it is less than
    # ``cut_at % CHUNK``, and never more than one chunk.
    assert 0 < audit.resent <= min(CHUNK, cut_at % CHUNK)
    assert audit.patches == 8 + 1
