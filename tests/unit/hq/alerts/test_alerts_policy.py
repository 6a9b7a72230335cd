"""Alert policies: validation, resolution by scope, quiet hours, backoff and fan-out."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from hq.alerts.delivery.plan import DASHBOARD, idem_key, plan
from hq.alerts.policy import PolicyDoc, Recipients, Retry, backoff, quiet_until, resolve
from hq.alerts.recipients import Grant, Person, StaticDirectory, people

DOC = PolicyDoc.model_validate({
    "channels": {"mail": {"url": "mailto://127.0.0.1:25?from=hq@b.example&to={email}"},
                 "sms": {"url": "smseagle://tok@127.0.0.1:8080/{phone}"},
                 "room": {"url": "json://127.0.0.1:9000/hook"}},
    "default": {"kinds": {
        "*": {"levels": {"1": {"channels": ["room"], "plan": "default plan"}}},
        "off_seat": {"levels": {"1": {"channels": ["room", "mail"],
                                      "recipients": {"roles": ["hall_supervisor"]}},
                                "2": {"channels": ["sms"], "escalate_after_min": 5}},
                     "quiet_hours": {"start": "22:00", "end": "07:00"}}}},
    "branches": {"B1": {"kinds": {"off_seat": {"levels": {"2": {"channels": ["mail"]}}}}}},
    "halls": {"H2": {"kinds": {"*": {"levels": {"1": {"channels": [], "plan": "VIP"}}}}}},
})


@pytest.mark.parametrize(("kind", "level", "branch", "hall", "source", "channels"), [
    ("off_seat", 1, "B9", "H9", "default.kinds.off_seat", ["room", "mail"]),
    ("off_seat", 2, "B9", "H9", "default.kinds.off_seat", ["sms"]),
    ("off_seat", 2, "B1", "H1", "branches.B1.kinds.off_seat", ["mail"]),
    ("off_seat", 1, "B1", "H1", "default.kinds.off_seat", ["room", "mail"]),
    ("off_seat", 1, "B1", "H2", "halls.H2.kinds.*", []),  # hall beats branch and kind
    ("disk", 1, None, None, "default.kinds.*", ["room"]),
    ("off_seat", 3, "B1", "H1", None, None),
])
def test_resolve_most_specific_scope_wins(kind, level, branch, hall, source, channels) -> None:
    r = resolve(DOC, kind, level, branch, hall)
    assert (r.source if r else None) == source
    assert (r.level.channels if r else None) == channels


@pytest.mark.parametrize(("doc", "message"), [
    ({"default": {"kinds": {"*": {"levels": {"1": {"channels": ["nope"]}}}}}},
     "default.kinds.*.levels.1.channels: no channel named 'nope'"),
    ({"default": {"kinds": {"*": {"levels": {"4": {}}}}}}, "level 4 must be 1..3"),
    ({"channels": {"x": {"url": "nourl"}}}, "apprise URL"),
    ({"channels": {"x": {"url": "json://h/{secret}"}}}, "placeholder {secret}"),
    ({"default": {"kinds": {"*": {"quiet_hours": {"start": "25:00", "end": "07:00"}}}}},
     "start"),
    ({"default": {"kinds": {"*": {"levels": {"1": {"escalate_after_min": 0}}}}}},
     "escalate_after_min"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_policies_name_the_field(doc, message) -> None:
    with pytest.raises(ValidationError, match=message.replace("*", r"\*").replace(
            "{", r"\{").replace("}", r"\}").replace(".", r"\.")):
        PolicyDoc.model_validate(doc)


QUIET = DOC.default.kinds["off_seat"].quiet_hours
SH = "Asia/Shanghai"  # UTC+8


@pytest.mark.parametrize(("utc", "until"), [
    ("2026-03-02T13:59:00", None),                   # 21:59 local
    ("2026-03-02T14:00:00", "2026-03-02T23:00:00"),  # 22:00 local -> 07:00 next day
    ("2026-03-02T18:30:00", "2026-03-02T23:00:00"),  # 02:30 local
    ("2026-03-02T23:00:00", None),                   # 07:00 local: over
])
def test_quiet_hours_across_midnight_in_branch_time(utc, until) -> None:
    now = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    got = quiet_until(now, SH, QUIET)
    assert got == (dt.datetime.fromisoformat(until).replace(tzinfo=dt.UTC) if until else None)


def test_quiet_hours_within_a_day() -> None:
    q = PolicyDoc.model_validate({"default": {"kinds": {"*": {"quiet_hours": {
        "start": "12:00", "end": "13:30"}}}}}).default.kinds["*"].quiet_hours
    at = dt.datetime(2026, 3, 2, 12, 15, tzinfo=dt.UTC)
    assert quiet_until(at, "UTC", q) == dt.datetime(2026, 3, 2, 13, 30, tzinfo=dt.UTC)
    assert quiet_until(at.replace(hour=14), "UTC", q) is None


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 5), (2, 10), (3, 20), (5, 80), (6, 120),
                                                   (30, 120)])
def test_backoff_doubles_up_to_the_cap(attempts, seconds) -> None:
    assert backoff(attempts, Retry.model_validate({})) == dt.timedelta(seconds=seconds)


LI = Person("user:li", "Li", email="li@b.example", phone="+8613800000001")
WANG = Person("user:wang", "Wang", email="wang@b.example")  # no phone
DIRECTORY = StaticDirectory([Grant(LI, "hall_supervisor", "hall:H1"),
                             Grant(WANG, "hall_supervisor", "branch:B1"),
                             Grant(Person("user:zhao", "Zhao", email="z@b.example"),
                                   "hall_supervisor", "hall:H2")])


def test_people_by_role_in_scope_named_and_addresses_once_each() -> None:
    who = Recipients.model_validate({
        "roles": ["hall_supervisor"], "users": ["li"],
        "addresses": [{"name": "duty", "phone": "+8613900000000"}]})
    got = people(DIRECTORY, who, "B1", "H1")
    assert [p.key for p in got] == ["user:li", "user:wang", "addr:+8613900000000"]


def test_plan_one_delivery_per_channel_and_recipient() -> None:
    r = resolve(DOC, "off_seat", 1, "B1", "H1")
    got = plan(7, 1, DOC, r, [LI, WANG])
    assert [(p.channel, p.recipient, p.url) for p in got] == [
        (DASHBOARD, DASHBOARD, ""),
        ("room", "group", "json://127.0.0.1:9000/hook"),
        ("mail", "user:li", "mailto://127.0.0.1:25?from=hq@b.example&to=li@b.example"),
        ("mail", "user:wang", "mailto://127.0.0.1:25?from=hq@b.example&to=wang@b.example")]
    assert got[2].idem_key == idem_key(7, 1, "mail", "user:li")
    assert len({p.idem_key for p in got}) == 4
    # The same level again gives the same keys: the outbox stores them once.
    assert [p.idem_key for p in plan(7, 1, DOC, r, [LI, WANG])] == [p.idem_key for p in got]
    # Someone without the channel's field is skipped on that channel only.
    sms = plan(7, 2, DOC, resolve(DOC, "off_seat", 2, "B9", "H9"), [LI, WANG])
    assert [(p.channel, p.recipient) for p in sms] == [(DASHBOARD, DASHBOARD),
                                                       ("sms", "user:li")]


def test_no_policy_means_dashboard_only() -> None:
    assert [p.channel for p in plan(1, 3, DOC, None, [LI])] == [DASHBOARD]


def test_messages_in_the_recipients_language() -> None:
    import dataclasses

    from hq.alerts.delivery.message import compose
    from hq.alerts.trial import sample_thread

    t = dataclasses.replace(sample_thread(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)),
                            kind="off_seat", title="Staff off seat", window_id="W1",
                            dashboard_link="/#window-W1")
    en = compose(t, 2, "Call the manager.", "https://hq", "https://hq/ack", "en")
    zh = compose(t, 2, "致电经理。", "https://hq", "https://hq/ack", "zh-CN")
    assert en[0] == "[L2] Staff off seat - Test branch / Test hall / Test window"
    assert zh[0] == "[L2] 员工离岗 - Test branch / Test hall / Test window"
    assert "Emergency plan: \nCall the manager." in en[1]
    assert "员工：Test staff (0000)" in zh[1] and "应急预案：\n致电经理。" in zh[1]
    assert "看板：https://hq/#window-W1" in zh[1] and "确认：https://hq/ack" in zh[1]
    # Recipients without a language of their own get the policy's.
    doc = DOC.model_copy(update={"language": "zh-CN"})
    planned = plan(1, 1, doc, resolve(doc, "off_seat", 1, "B1", "H1"),
                   [LI, dataclasses.replace(WANG, language="en")])
    assert [(p.recipient, p.language) for p in planned] == [
        ("dashboard", "zh-CN"), ("group", "zh-CN"), ("user:li", "zh-CN"), ("user:wang", "en")]
