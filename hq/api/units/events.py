"""``POST /v1/events``: a unit's events, stored exactly once per uuid, refused one by one.

The answer is the store's :class:`~hq.storage.models.IngestResult`, derived as
:data:`IngestResponse` (hq/api/derive.py), with the events refused before storing.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from hq.api.deps import HQDeps
from hq.api.derive import list_of, response_model, values_of
from hq.api.errors import UNIT_REFUSALS, ApiError, ErrorBody, storage_unavailable
from hq.api.units.auth import unit_dependency
from hq.conditions import DISK_FULL
from hq.metrics import count_ingest
from hq.storage.models import IngestResult, Rejection
from sync.schema import EventEnvelope

log = logging.getLogger(__name__)


class EventBatch(BaseModel):
    """Events the unit sends together, idempotent by uuid.

    Each event is validated on its own (the schema shown is the envelope's), so one bad
    event is refused alone and the good ones of its batch are stored.
    """

    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[dict[str, Any]], WithJsonSchema(
        {"type": "array", "items": EventEnvelope.model_json_schema()})] = Field(
        ..., description="Event envelopes, oldest first.")


# The ingest answer is the store's IngestResult (hq/storage/models.py) with its refusals.
RejectedEvent = response_model(
    "RejectedEvent", Rejection,
    doc="An event HQ refused: re-sending it will not help (the unit sets it aside).",
    describe={"uuid": "The event's uuid as sent (null if none).",
              "field": "The field at fault, e.g. `mono` or `data.rating`.",
              "reason": "The rule it breaks."})
IngestResponse = response_model(
    "IngestResponse", IngestResult,
    doc="How many events were new, how many HQ already had, and which it refused.",
    types={"rejected": (list_of(RejectedEvent), Field(default_factory=list))})


def validate_event(raw: dict[str, Any]) -> EventEnvelope | Rejection:
    """The envelope of one event as sent, or why HQ refuses it (field and rule)."""
    try:
        return EventEnvelope.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        ctx = first.get("ctx") or {}
        if first["type"] == "data_range" and "path" in ctx:
            field, reason = str(ctx["path"]), str(ctx["reason"])
        else:
            field = ".".join(str(p) for p in first["loc"]) or "event"
            reason = first["msg"]
        uuid = raw.get("uuid")
        return Rejection(uuid if isinstance(uuid, str) and len(uuid) <= 64 else None,
                         field, reason[:300])


def build_events_router(deps: HQDeps) -> APIRouter:
    """POST /v1/events for the unit of the client certificate."""
    router = APIRouter(prefix="/v1", tags=["units"], responses=UNIT_REFUSALS)
    unit = Depends(unit_dependency(deps.ca, deps.audit))

    @router.post("/events", response_model=IngestResponse,
                 responses={503: {"model": ErrorBody, "description": "Storage unavailable "
                                  "(disk full): retry after Retry-After seconds"}})
    def ingest(body: EventBatch, unit_id: str = unit) -> Any:
        """Store a batch of the calling unit's events exactly once per uuid.

        Events that break a rule are refused one by one (``rejected``: uuid, field, rule)
        and the rest are stored; re-sending a refused event gets the same answer.
        """
        limit = deps.limits.max_event_batch
        if len(body.events) > limit:
            raise ApiError(413, "batch_too_large",
                           f"{len(body.events)} events in one batch; at most {limit}")
        checked = [validate_event(raw) for raw in body.events]
        good = [c for c in checked if isinstance(c, EventEnvelope)]
        refused = [c for c in checked if isinstance(c, Rejection)]
        try:
            result = deps.events.ingest(unit_id, good)
        except sqlite3.OperationalError as exc:
            raise storage_unavailable(deps.conditions, "events.db", exc) from None
        deps.conditions.clear_hq_condition(DISK_FULL, "events are stored again")
        refused += result.rejected
        count_ingest(result.accepted, result.duplicates, len(refused))  # hq/metrics.py
        if refused:
            first = refused[0]
            log.warning("unit %s: %d of %d events refused (first %r, %s: %s)", unit_id,
                        len(refused), len(checked), first.uuid, first.field, first.reason)
        log.debug("unit %s: %d events accepted, %d duplicates", unit_id, result.accepted,
                  result.duplicates)
        answer = dataclasses.replace(result, rejected=tuple(refused))
        return IngestResponse(**values_of(answer, IngestResponse, convert={
            "rejected": lambda rs: [values_of(r, RejectedEvent) for r in rs]}))

    return router
