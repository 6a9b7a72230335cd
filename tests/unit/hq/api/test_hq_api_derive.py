"""HQ response models derived from the storage dataclasses (hq/api/derive.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from hq.accounts.users import Contact, IssuedToken, User
from hq.api.app import create_app
from hq.api.deps import HQDeps
from hq.api.derive import DerivationError, response_model, values_of
from hq.api.units.events import IngestResponse, RejectedEvent
from hq.api.users.accounts import USER_CONVERT, USER_FLATTEN, UserOut, user_model, user_out
from hq.api.users.audit_log import AuditOut
from hq.api.users.tokens import TokenOut
from hq.api.users.transactions import CLIP_DETAILS, TransactionDetail, TransactionOut
from hq.storage.models import AuditRecord, IngestResult, Rejection, Transaction
from hq.storage.scope import Scope


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


# --- accounts, tokens, the ingest answer (hq/api/users/accounts.py, routes.py, units/events.py)

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)


def test_user_out_is_the_account_with_its_contact_inline() -> None:
    at = names(User).index("contact")
    flat = names(User)[:at] + names(Contact) + names(User)[at + 1:]
    assert list(UserOut.model_fields) == flat
    assert all(f.is_required() for f in UserOut.model_fields.values())  # always all there


@pytest.mark.parametrize(("user", "body"), [
    (User("ann", "admin", True, T0),
     '{"username":"ann","role":"admin","enabled":true,"created_utc":'
     '"2026-01-02T03:04:05.678000Z","scope":"all","language":"zh-CN","email":null,'
     '"phone":null,"im":null}'),
    (User("bo", "supervisor", False, T0, Scope.parse("branch:B1"), "en",
          Contact("b@x.cn", None, "im:bo")),
     '{"username":"bo","role":"supervisor","enabled":false,"created_utc":'
     '"2026-01-02T03:04:05.678000Z","scope":"branch:B1","language":"en",'
     '"email":"b@x.cn","phone":null,"im":"im:bo"}'),
])
def test_user_out_json_is_unchanged(user: User, body: str) -> None:
    assert user_out(user).model_dump_json() == body


@dataclasses.dataclass(frozen=True)
class NicknamedUser(User):
    nickname: str = "annie"


@dataclasses.dataclass(frozen=True)
class StoredUser(User):
    password_hash: str = "scrypt$16384$8$1$salt$digest"


def test_a_field_added_to_the_account_shows_in_the_api() -> None:
    model = user_model(NicknamedUser)
    assert list(model.model_fields)[-1] == "nickname"
    shown = model(**values_of(NicknamedUser("ann", "admin", True, T0), model,
                              flatten=USER_FLATTEN, convert=USER_CONVERT))
    assert shown.model_dump()["nickname"] == "annie"


def test_a_secret_is_refused_unless_hidden_and_hidden_never_shows() -> None:
    with pytest.raises(DerivationError, match=r"StoredUser\.password_hash looks like a secret"):
        user_model(StoredUser)
    model = user_model(StoredUser, hidden=("password_hash",))
    assert "password_hash" not in model.model_fields
    record = StoredUser("ann", "admin", True, T0)
    body = model(**values_of(record, model, flatten=USER_FLATTEN,
                             convert=USER_CONVERT)).model_dump_json()
    assert "password" not in body and "scrypt" not in body


def test_token_out_is_the_issued_token_less_its_owner() -> None:
    assert list(TokenOut.model_fields) == [n for n in names(IssuedToken) if n != "username"]
    issued = IssuedToken("tok", "ann", T0)
    assert (TokenOut(**values_of(issued, TokenOut)).model_dump_json()
            == '{"token":"tok","expires":"2026-01-02T03:04:05.678000Z"}')


def test_ingest_answer_follows_the_store_result() -> None:
    assert list(IngestResponse.model_fields) == names(IngestResult)
    assert list(RejectedEvent.model_fields) == names(Rejection)
    assert RejectedEvent.model_fields["field"].description  # documented for the unit's side
    assert IngestResponse(accepted=0, duplicates=0).model_dump_json() == (
        '{"accepted":0,"duplicates":0,"rejected":[]}')
    body = IngestResponse(accepted=3, duplicates=1, rejected=[
        values_of(Rejection(None, "mono", "must grow"), RejectedEvent)]).model_dump_json()
    assert body == ('{"accepted":3,"duplicates":1,"rejected":'
                    '[{"uuid":null,"field":"mono","reason":"must grow"}]}')


def test_a_field_added_to_the_ingest_result_shows() -> None:
    @dataclasses.dataclass(frozen=True)
    class Result(IngestResult):
        deferred: int = 0

    model = response_model("R", Result, types={"rejected": IngestResponse.model_fields[
        "rejected"].annotation})
    assert list(model.model_fields) == ["accepted", "duplicates", "rejected", "deferred"]
    assert model(**values_of(Result(1, 0, (), 2), model, convert={"rejected": list})
                 ).model_dump()["deferred"] == 2


def test_no_response_model_is_declared_twice(tmp_path: Path) -> None:
    # Two models of one name get module-path names (hq__api__x__Name) that a move renames.
    schemas = create_app(HQDeps.open(tmp_path / "data")).openapi()["components"]["schemas"]
    assert [n for n in schemas if n.startswith("hq__")] == []
    assert schemas["ErrorBody"]["required"] == ["error", "detail"]
