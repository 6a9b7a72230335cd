"""The daemon's queue linkage: readings -> alerts, tickets and feed events (pure parts
in alerts.py, tickets.py, watch.py). Logs the feed's loss once and its recovery once."""

from __future__ import annotations

import logging

from firmware.machine.model import Emit, OpenTransaction
from firmware.queue_link import alerts, tickets, watch
from hal.queue.base import QueueReading
from hal.queue.config import QueueAlertRule, QueueConfig

log = logging.getLogger(__name__)


def _rule(r: QueueAlertRule) -> alerts.AlertRule:
    return alerts.AlertRule(r.above, r.for_s, r.clear_at_or_below, r.clear_for_s)


class QueueLink:
    def __init__(self, cfg: QueueConfig, counter_id: str, id_prefix: str, now: float) -> None:
        self.cfg = cfg
        self.counter = cfg.counter or counter_id
        self._default = _rule(cfg.alert) if cfg.alert is not None else None
        self._rules = {k: _rule(v) for k, v in cfg.services.items()}
        self._trules = tickets.TicketRules(cfg.ticket_hold_s, cfg.attach_open_s)
        self.alerts = alerts.AlertState(id_prefix)
        self.book = tickets.TicketBook()
        self.watch = watch.FeedWatch(started_at=now)
        self.other_counters = 0

    def rule_for(self, service: str) -> alerts.AlertRule | None:
        return self._rules.get(service, self._default)

    def poll(self, readings: list[QueueReading], now: float, problem: str,
             open_txn: OpenTransaction | None) -> list[Emit]:
        out: list[Emit] = []
        for r in readings:
            self.watch, emits = watch.seen(self.watch, r.t)
            for e in emits:
                log.info("queue feed recovered after %.0f s", e.data["lost_s"])
            out += emits
            if r.kind == "waiting":
                rule = self.rule_for(r.service)
                if rule is not None:
                    self.alerts, emits = alerts.observe(self.alerts, r.service, r.waiting,
                                                        r.t, rule)
                    out += emits
            elif r.kind == "called":
                if r.counter != self.counter:
                    self.other_counters += 1
                    continue
                txn = (tickets.OpenTxn(open_txn.txn_id, open_txn.started_at)
                       if open_txn is not None else None)
                self.book, ev = tickets.called(self.book, r.ticket, r.counter, r.t, txn,
                                               self._trules)
                out.append(ev)
        self.watch, lost = watch.check(self.watch, now, self.cfg.stale_after_s, problem)
        if lost:
            log.warning("queue feed lost: nothing valid for %g s (%s)", self.cfg.stale_after_s,
                        problem or "silent")
            self.alerts = alerts.feed_lost(self.alerts)
        out += lost
        rules = {s: rule for s, _ in self.alerts.services
                 if (rule := self.rule_for(s)) is not None}
        self.alerts, emits = alerts.tick(self.alerts, now, rules)
        for e in emits:
            log.info("%s %s", e.type, e.data)
        return out + emits

    def decorate(self, emit: Emit) -> Emit:
        self.book, emit = tickets.on_emit(self.book, emit, self._trules)
        return emit
