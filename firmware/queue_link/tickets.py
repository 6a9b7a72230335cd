"""Which transaction a called ticket belongs to. Pure.

A ticket called to this unit's counter is *pending* for ``hold_s``: the next
``transaction_started`` takes it (its data gets ``ticket``). If a transaction is already
open, has no ticket and started at most ``attach_open_s`` before the call, the customer
was at the counter when the ticket was called: the open transaction takes it (its
``transaction_ended`` carries it, and the ``ticket_called`` event names its txn_id). A
call during an older transaction is the *next* customer's (staff press "next" while the
last one is still leaving), so it stays pending. A newer call replaces a pending one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from firmware.machine.model import Emit


@dataclass(frozen=True, slots=True)
class TicketRules:
    hold_s: float = 300.0
    attach_open_s: float = 20.0


@dataclass(frozen=True, slots=True)
class OpenTxn:
    txn_id: str
    started_at: float


@dataclass(frozen=True, slots=True)
class TicketBook:
    pending: str | None = None
    pending_since: float = 0.0
    txn_id: str | None = None  # the open transaction the unit knows of
    txn_ticket: str | None = None


def called(book: TicketBook, ticket: str, counter: str, now: float, open_txn: OpenTxn | None,
           rules: TicketRules) -> tuple[TicketBook, Emit]:
    """A ticket was called to this counter at ``now``."""
    if open_txn is not None and book.txn_id != open_txn.txn_id:
        book = replace(book, txn_id=open_txn.txn_id, txn_ticket=None)
    attach = (open_txn is not None and book.txn_ticket is None
              and now - open_txn.started_at <= rules.attach_open_s)
    if attach:
        assert open_txn is not None
        book = replace(book, txn_ticket=ticket)
        return book, Emit("ticket_called", now, {"ticket": ticket, "counter": counter,
                                                 "txn_id": open_txn.txn_id, "joined": "open"})
    replaced = book.pending if book.pending is not None and (
        now - book.pending_since <= rules.hold_s) else None
    book = replace(book, pending=ticket, pending_since=now)
    return book, Emit("ticket_called", now, {"ticket": ticket, "counter": counter,
                                             "txn_id": None, "joined": "next",
                                             "replaces": replaced})


def on_emit(book: TicketBook, emit: Emit, rules: TicketRules) -> tuple[TicketBook, Emit]:
    """Add ``ticket`` to transaction_started / transaction_ended; other events pass."""
    if emit.type == "transaction_started":
        fresh = book.pending is not None and emit.t - book.pending_since <= rules.hold_s
        ticket = book.pending if fresh else None
        book = TicketBook(txn_id=emit.data.get("txn_id"), txn_ticket=ticket)
        return book, replace(emit, data={**emit.data, "ticket": ticket})
    if emit.type == "transaction_ended":
        mine = emit.data.get("txn_id") == book.txn_id
        ticket = book.txn_ticket if mine else None
        if mine:
            book = replace(book, txn_id=None, txn_ticket=None)
        return book, replace(emit, data={**emit.data, "ticket": ticket})
    return book, emit
