"""HQ response models derived from the storage dataclasses (hq/api/derive.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from hq.api.derive import response_model
from hq.api.users import CLIP_DETAILS, AuditOut, TransactionDetail, TransactionOut
from hq.storage.models import AuditRecord, Transaction


def names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def test_fields_follow_the_storage_model_in_order() -> None:
    assert list(AuditOut.model_fields) == names(AuditRecord)
    shown = [n for n in names(Transaction) if n not in CLIP_DETAILS]
    assert list(TransactionOut.model_fields) == shown
    assert list(TransactionDetail.model_fields) == [*shown, "clip"]
    assert issubclass(TransactionDetail, TransactionOut)


def test_types_come_along() -> None:
    rec = AuditRecord(7, dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC), "ann", "admin",
                      "clip_play", "clip", "u1/c1", "127.0.0.1", "")
    out = AuditOut(**vars(rec))
    assert out.model_dump() == vars(rec)
    with pytest.raises(ValueError, match="seq"):
        AuditOut(**{**vars(rec), "seq": "seven"})


def test_excluding_a_field_the_model_lacks_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"Transaction has no field\(s\) \['clip_bytes'\]"):
        response_model("X", Transaction, exclude=("clip_bytes",))
