"""Each channel kind through apprise to a real receiver on loopback, payload as documented.

DingTalk, WeCom, Feishu and Slack plugins of apprise have their service's host written
into the plugin; the test points that one attribute at the loopback receiver, so the
plugin's own request (path, query, JSON body) is what arrives. SMSEagle (an SMS gateway)
and Teams Workflows take a host in their URL and need no such change.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.feishu import NotifyFeishu
from apprise.plugins.slack import NotifySlack
from apprise.plugins.wecombot import NotifyWeComBot

from hq.alerts.delivery.channels import DELIVERY_HEADER, SIGNATURE_HEADER, send, signature
from tests.helpers.hq.alert_receivers import HttpReceiver, SmtpReceiver, self_signed

TITLE, BODY = "[L1] Staff off seat - Nanjing Road / Main hall / Window 1", "Staff: Li Wei"


@pytest.fixture
def rx() -> Iterator[HttpReceiver]:
    r = HttpReceiver()
    yield r
    r.close()


def _one(rx: HttpReceiver):
    rx.wait_for(lambda got: len(got) >= 1)
    assert len(rx.received) == 1
    return rx.received[0]


def test_email_over_smtp_to_aiosmtpd() -> None:
    smtp = SmtpReceiver()
    try:
        res = send(f"mailto://127.0.0.1:{smtp.port}?from=hq@bank.example&to=li@bank.example",
                   TITLE, BODY + "\nAcknowledge: https://hq/x", key="k-mail")
        assert res.ok, res.detail
        smtp.wait_for(1)
        [msg] = smtp.messages
        assert (msg["Subject"], msg["To"], msg["From"]) == (TITLE, "li@bank.example",
                                                          "hq@bank.example")
        assert msg[DELIVERY_HEADER] == "k-mail"
        part = msg.get_body(("plain",))
        assert part is not None
        text = part.get_content()
        assert "Staff: Li Wei" in text and "Acknowledge: https://hq/x" in text
    finally:
        smtp.close()


def test_sms_through_an_smseagle_gateway(rx) -> None:
    res = send(f"smseagle://tok123@127.0.0.1:{rx.port}/+8613800000001", TITLE, BODY)
    assert res.ok, res.detail
    r = _one(rx)
    doc = r.json()
    # SMSEagle JSON-RPC API: POST /jsonrpc/sms {"method": "sms.send_sms", "params": {...}}
    assert r.path == "/jsonrpc/sms" and doc["method"] == "sms.send_sms"
    assert doc["params"]["access_token"] == "tok123"
    assert doc["params"]["to"] == "+8613800000001"
    assert "Staff: Li Wei" in doc["params"]["message"]


def test_dingtalk_robot(rx, monkeypatch) -> None:
    monkeypatch.setattr(NotifyDingTalk, "notify_url",
                        f"http://127.0.0.1:{rx.port}/robot/send?access_token={{token}}")
    res = send("dingtalk://tokDING/", TITLE, BODY)
    assert res.ok, res.detail
    r = _one(rx)
    # DingTalk custom robot: POST /robot/send?access_token=T, {"msgtype": "text"|"markdown"}
    assert r.path == "/robot/send" and r.query["access_token"] == ["tokDING"]
    doc = r.json()
    assert doc["msgtype"] in ("text", "markdown")
    text = doc["text"]["content"] if doc["msgtype"] == "text" else doc["markdown"]["text"]
    assert TITLE in text and "Li Wei" in text


def test_wecom_group_bot(rx, monkeypatch) -> None:
    monkeypatch.setattr(NotifyWeComBot, "notify_url",
                        f"http://127.0.0.1:{rx.port}/cgi-bin/webhook/send?key={{key}}")
    res = send("wecombot://keyWECOM", TITLE, BODY)
    assert res.ok, res.detail
    r = _one(rx)
    # WeCom group robot: POST /cgi-bin/webhook/send?key=K, {"msgtype": "text", "text": {...}}
    assert r.path == "/cgi-bin/webhook/send" and r.query["key"] == ["keyWECOM"]
    doc = r.json()
    assert doc["msgtype"] == "text" and "Li Wei" in doc["text"]["content"]


def test_feishu_custom_bot(rx, monkeypatch) -> None:
    monkeypatch.setattr(NotifyFeishu, "notify_url",
                        f"http://127.0.0.1:{rx.port}/open-apis/bot/v2/hook/{{token}}/")
    res = send("feishu://tokFEISHU", TITLE, BODY)
    assert res.ok, res.detail
    r = _one(rx)
    # Feishu custom bot: POST /open-apis/bot/v2/hook/T, {"msg_type": "text", "content": {...}}
    assert r.path.rstrip("/") == "/open-apis/bot/v2/hook/tokFEISHU"
    doc = r.json()
    assert doc["msg_type"] in ("text", "interactive")
    assert "Li Wei" in json.dumps(doc, ensure_ascii=False)


def test_slack_incoming_webhook(rx, monkeypatch) -> None:
    monkeypatch.setattr(NotifySlack, "webhook_url", f"http://127.0.0.1:{rx.port}/services")
    res = send("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7", TITLE, BODY)
    assert res.ok, res.detail
    r = _one(rx)
    # Slack incoming webhook: POST /services/T/B/X with text/blocks/attachments; answers "ok"
    assert r.path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"
    doc = r.json()
    assert {"text", "attachments", "blocks"} & set(doc)
    assert "Li Wei" in json.dumps(doc)


def test_teams_workflow_over_https(tmp_path: Path) -> None:
    rx = HttpReceiver(tls=self_signed(tmp_path / "tls"))
    try:
        res = send(f"workflows://127.0.0.1:{rx.port}/wf123/sigABC/?verify=no", TITLE, BODY)
        assert res.ok, res.detail
        r = _one(rx)
        # Teams Workflows: .../workflows/W/triggers/manual/paths/invoke?sig=S, Adaptive Card
        assert r.path == "/workflows/wf123/triggers/manual/paths/invoke"
        assert r.query["sig"] == ["sigABC"]
        doc = r.json()
        [att] = doc["attachments"]
        assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert att["content"]["type"] == "AdaptiveCard"
        assert "Li Wei" in json.dumps(doc)
    finally:
        rx.close()


def test_json_webhook_carries_the_delivery_key(rx) -> None:
    res = send(f"json://127.0.0.1:{rx.port}/hook", TITLE, BODY, key="k-json")
    assert res.ok, res.detail
    r = _one(rx)
    assert r.headers[DELIVERY_HEADER.lower()] == "k-json"
    assert (r.json()["title"], r.json()["message"]) == (TITLE, BODY)


def test_hmac_webhook_signs_the_exact_body(rx) -> None:
    res = send(f"hmac://127.0.0.1:{rx.port}/hook?secret=s3cret", TITLE, BODY, key="k-hmac")
    assert res.ok, res.detail
    r = _one(rx)
    sent = r.headers[SIGNATURE_HEADER.lower()]
    assert hmac.compare_digest(sent, signature("s3cret", r.body))
    assert not hmac.compare_digest(sent, signature("other", r.body))
    assert r.json()["delivery"] == "k-hmac" and r.json()["message"] == BODY
    assert "s3cret" not in r.body.decode()


def test_failures_say_why(rx) -> None:
    rx.status = 503
    res = send(f"json://127.0.0.1:{rx.port}/hook", TITLE, BODY)
    assert not res.ok and "503" in res.detail
    res = send("hmac://127.0.0.1:1/hook", TITLE, BODY)
    assert not res.ok and "secret" in res.detail
    assert not send("nosuch://x", TITLE, BODY).ok


def test_notify_test_command(rx, tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[4]
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "hq.cli", "notify-test", "--data",
                         str(tmp_path), "--url", f"json://127.0.0.1:{rx.port}/hook"],
                        capture_output=True, text=True, timeout=60, env=env, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("delivered: json://127.0.0.1:")
    r = _one(rx)
    assert r.json()["title"].startswith("[L1] TEST alert")
    assert r.headers[DELIVERY_HEADER.lower()].startswith("test-")
    rx.status = 503
    bad = subprocess.run([sys.executable, "-m", "hq.cli", "notify-test", "--data",
                          str(tmp_path), "--url", f"json://127.0.0.1:{rx.port}/hook"],
                         capture_output=True, text=True, timeout=60, env=env, check=False)
    assert bad.returncode == 1 and bad.stdout.startswith("FAILED") and "503" in bad.stdout
