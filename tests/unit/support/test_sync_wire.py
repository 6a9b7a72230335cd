"""The wire tap's HTTP parser and the re-send audits, on hand-written exchanges."""

from __future__ import annotations

import json

import pytest

from tests.faultproxy import Exchange, Message, WireLog
from tests.helpers.unit.sync_wire import audit_clips, audit_events


def parse(*pieces: bytes, down: tuple[bytes, ...] = ()) -> list[Exchange]:
    log = WireLog()
    tap = log.link()
    for piece in pieces:
        tap.up(piece)
    for piece in down:
        tap.down(piece)
    assert not log.errors
    return log.exchanges()


def test_parser_splits_requests_and_pairs_answers_even_byte_by_byte() -> None:
    up = (b"POST /v1/events HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
          b"HEAD /v1/uploads/a HTTP/1.1\r\n\r\n"
          b"PATCH /v1/uploads/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
          b"Content-Type: application/offset+octet-stream\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    down = (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
            b"HTTP/1.1 200 OK\r\nUpload-Offset: 7\r\nContent-Length: 99\r\n\r\n"  # HEAD: no body
            b"HTTP/1.1 204 No Content\r\nUpload-Offset: 12\r\n\r\n")
    exchanges = parse(*[up[i:i + 1] for i in range(len(up))],
                      down=tuple(down[i:i + 1] for i in range(len(down))))
    got = [(e.request.method, e.request.body_bytes, bytes(e.request.body), e.request.complete,
            e.response.status if e.response else None, e.answered) for e in exchanges]
    assert got == [("POST", 5, b"hello", True, 200, True),
                   ("HEAD", 0, b"", True, 200, True),
                   ("PATCH", 5, b"", True, 204, True)]  # clip bytes counted, not kept


def test_a_cut_request_is_kept_with_the_bytes_that_got_through() -> None:
    [ex] = parse(b"PATCH /u HTTP/1.1\r\nContent-Length: 10\r\n\r\nabcd")
    assert (ex.request.body_bytes, ex.request.complete, ex.response) == (4, False, None)


def post(seq: int, uuids: list[str], status: int | None, duplicates: int = 0,
         complete: bool = True) -> Exchange:
    body = json.dumps({"events": [{"uuid": u, "type": "x"} for u in uuids]}).encode()
    if not complete:
        body = body[:len(body) // 2]
    req = Message("POST /v1/events HTTP/1.1", {"content-type": "application/json"},
                  bytearray(body), len(body), complete)
    resp = None
    if status is not None:
        answer = json.dumps({"accepted": len(uuids) - duplicates,
                             "duplicates": duplicates}).encode() if status == 200 else b"no"
        resp = Message(f"HTTP/1.1 {status} X", {}, bytearray(answer), len(answer), True)
    return Exchange(1, seq, req, resp)


@pytest.mark.parametrize("exchanges,resent_after_ack,lost,duplicates,unexplained", [
    # a 500, then the same batch again: nothing acknowledged went twice
    ([post(1, ["a", "b"], 500), post(2, ["a", "b"], 200)], (), [], 0, 0),
    # an answer lost: the batch again, HQ calls both duplicates, explained
    ([post(1, ["a", "b"], None), post(2, ["a", "b"], 200, 2)], (), [{"a", "b"}], 2, 0),
    # acknowledged, then sent again: caught, and its duplicate is unexplained
    ([post(1, ["a"], 200), post(2, ["a", "c"], 200, 1)], ("a",), [], 1, 1),
    # a request cut half-way never reached HQ: not a lost answer
    ([post(1, ["a", "b"], None, complete=False), post(2, ["a", "b"], 200)], (), [], 0, 0),
])
def test_event_audit(exchanges: list[Exchange], resent_after_ack: tuple[str, ...],
                     lost: list[set[str]], duplicates: int, unexplained: int) -> None:
    audit = audit_events(exchanges)
    assert audit.resent_after_ack == resent_after_ack
    assert [set(b) for b in audit.lost_acks] == lost
    assert (audit.duplicates, audit.unexplained_duplicates) == (duplicates, unexplained)


def patch(seq: int, offset: int, n: int, status: int | None, answer_offset: int | None = None,
          complete: bool = True) -> Exchange:
    req = Message("PATCH /v1/uploads/a HTTP/1.1", {"upload-offset": str(offset)},
                  bytearray(), n, complete)
    headers = {} if answer_offset is None else {"upload-offset": str(answer_offset)}
    resp = None if status is None else Message(f"HTTP/1.1 {status} X", headers, complete=True)
    return Exchange(1, seq, req, resp)


def create(seq: int, offset: int) -> Exchange:
    req = Message("POST /v1/uploads HTTP/1.1", {}, complete=True)
    resp = Message("HTTP/1.1 201 Created", {"location": "/v1/uploads/a",
                                             "upload-offset": str(offset)}, complete=True)
    return Exchange(1, seq, req, resp)


@pytest.mark.parametrize("exchanges,interrupted,resent,below_ack", [
    # two chunks of 10, the second cut after 4 bytes, resumed where HQ was
    ([create(1, 0), patch(2, 0, 10, 204, 10), patch(3, 10, 4, None, complete=False),
      create(4, 10), patch(5, 10, 10, 204, 20)], 1, 4, 0),
    # resumed a chunk early: bytes HQ had announced go again
    ([create(1, 0), patch(2, 0, 10, 204, 10), patch(3, 10, 4, None, complete=False),
      create(4, 10), patch(5, 0, 10, 409, 10), patch(6, 10, 10, 204, 20)], 2, 14, 10),
    # a whole chunk stored but its answer lost: the next attempt starts past it
    ([create(1, 0), patch(2, 0, 10, None), create(3, 10), patch(4, 10, 10, 204, 20)], 1, 0, 0),
])
def test_clip_audit(exchanges: list[Exchange], interrupted: int, resent: int,
                    below_ack: int) -> None:
    audit = audit_clips(exchanges)
    assert (audit.interrupted, audit.resent, audit.below_ack) == (interrupted, resent, below_ack)
    assert audit.unique_bytes == 20
