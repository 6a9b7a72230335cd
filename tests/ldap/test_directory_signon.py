"""Sign-on against a real OpenLDAP slapd (tests/servers/slapd.py), through HQ's login page.

The directory: alice in branch-b1-managers; carol in hall-h1-supervisors and hq-viewers
(mapped in that order); dave in an unmapped group; erin in branch-b1-managers for the
throttle. HQ (embedded, real HTTPS) has the scope tree of tests/helpers/hq/scope.py and
one local admin, ``root``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from hq.accounts.directory import ACCEPTED, UNAVAILABLE, UNKNOWN, Directory, user_filter
from hq.accounts.directory_config import DirectoryConfig
from hq.api.deps import HQDeps
from hq.clock import utc_now
from hq.config import HQConfigError, load_hq_config
from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.scope import Scope
from tests.helpers.hq.scope import seed_transactions, seed_tree
from tests.helpers.hq.web import browser, login_response, page_session
from tests.servers.postgres_fixtures import Backend
from tests.servers.slapd import (
    GROUPS,
    PEOPLE,
    SERVICE_DN,
    SERVICE_PW,
    SlapdServer,
    group,
    person,
    running_slapd,
    tls_files,
)

ROOT_PW = "a long enough password"
LDIF = "\n".join([
    person("alice", "alice pw"), person("carol", "carol pw"), person("dave", "dave pw"),
    person("erin", "erin pw"), person("frank", "frank pw"),
    group("branch-b1-managers", ["alice", "erin", "frank"]),
    group("hall-h1-supervisors", ["carol"]),
    group("hq-viewers", ["carol"]), group("canteen", ["dave"]),
])


def _toml(slapd: SlapdServer, password_file: Path, extra: str = "") -> str:
    return f"""
[directory]
uri = "{slapd.uri}"
bind_dn = "{SERVICE_DN}"
bind_password_file = "{password_file}"
user_base = "{PEOPLE}"
user_filter = "(&(objectClass=inetOrgPerson)(uid={{username}}))"
group_base = "{GROUPS}"
connect_timeout_s = 1.0
receive_timeout_s = 2
{extra}
[directory.groups]
"CN=Branch-B1-Managers, OU=Groups, DC=Bank" = {{role = "branch_manager", scope = "branch:b1"}}
"cn=hall-h1-supervisors,{GROUPS}" = {{role = "hall_supervisor", scope = "hall:h1"}}
"cn=hq-viewers,{GROUPS}" = {{role = "viewer", scope = "all"}}
"""


@pytest.fixture(scope="module")
def slapd() -> Iterator[SlapdServer]:
    with running_slapd(LDIF) as server:
        yield server


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "directory-password"
    path.write_text(SERVICE_PW + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def hq(tmp_path: Path, slapd: SlapdServer, secret: Path) -> Iterator[EmbeddedHQ]:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "hq.toml").write_text(_toml(slapd, secret))
    with running_hq(tmp_path) as server:
        seed_tree(server.deps.config_dir.parent / "events.db")
        seed_transactions(server.deps.events)
        server.deps.user_store().create_user("root", ROOT_PW, "admin")
        yield server


def _english(hq: EmbeddedHQ) -> requests.Session:
    """A browser whose pages are in English (the login page's ?lang=en sets the cookie)."""
    s = browser(hq)
    assert s.get(f"{hq.url}/login", params={"lang": "en"}, timeout=10).status_code == 200
    return s


def _directory(slapd: SlapdServer, secret: Path, tmp: Path, extra: str = "") -> Directory:
    (tmp / "hq.toml").write_text(_toml(slapd, secret, extra))
    cfg = load_hq_config(tmp).directory
    assert cfg is not None
    return Directory.from_config(cfg)


def test_good_login_maps_role_and_scope_and_pages_show_that_branch_only(
        hq: EmbeddedHQ) -> None:
    s = page_session(hq, "alice", "alice pw")
    user = hq.deps.user_store().user("alice")
    assert (user.role, user.scope.text(), user.enabled) == ("branch_manager", "branch:b1", True)
    page = s.get(f"{hq.url}/transactions", timeout=10)
    assert page.status_code == 200
    assert 'data-txn="u1/t1"' in page.text and 'data-txn="u2/t2"' in page.text
    assert 'data-txn="u3/t3"' not in page.text  # branch b2
    assert s.get(f"{hq.url}/transactions/u3/t3", timeout=10).status_code == 404
    assert s.get(f"{hq.url}/users", timeout=10).status_code == 403
    rows = hq.deps.audit.query(action="login")
    assert any(r.actor == "alice" and "source=directory" in r.detail for r in rows)


def test_wrong_or_empty_password_is_refused_and_counted(hq: EmbeddedHQ) -> None:
    for password in ("not alice's", ""):
        r = login_response(_english(hq), hq, "alice", password)
        assert r.status_code == 401, r.text[:300]
        assert "Wrong username or password" in r.text
    assert hq.deps.user_store().guard.recent("alice", "127.0.0.1",
                                             utc_now()).user_failures == 2


def test_user_in_no_mapped_group_is_refused_with_a_clear_message(hq: EmbeddedHQ) -> None:
    r = login_response(_english(hq), hq, "dave", "dave pw")
    assert r.status_code == 403
    assert "in no group that may use HQ" in r.text
    assert "dave" not in {u.username for u in hq.deps.user_store().users()}


def test_membership_removed_next_login_loses_the_role(hq: EmbeddedHQ,
                                                      slapd: SlapdServer) -> None:
    users = hq.deps.user_store()
    first = page_session(hq, "carol", "carol pw")
    assert users.user("carol").role == "hall_supervisor"
    slapd.remove_member("hall-h1-supervisors", "carol")
    page_session(hq, "carol", "carol pw")  # still in hq-viewers, mapped after it
    assert (users.user("carol").role, users.user("carol").scope.text()) == ("viewer", "all")
    slapd.remove_member("hq-viewers", "carol")
    r = login_response(_english(hq), hq, "carol", "carol pw")
    assert r.status_code == 403 and "in no group" in r.text
    assert users.user("carol").enabled is False
    # The session from before is over too.
    assert first.get(f"{hq.url}/", allow_redirects=False, timeout=10).status_code == 303


def test_directory_down_local_admin_still_logs_in_failure_logged_once(
        hq: EmbeddedHQ, slapd: SlapdServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hq.accounts")
    slapd.stop()
    try:
        for _ in range(2):
            r = login_response(_english(hq), hq, "alice", "alice pw")
            assert r.status_code == 503 and "directory cannot be reached" in r.text
        page_session(hq, "root", ROOT_PW)
    finally:
        slapd.start()
    page_session(hq, "alice", "alice pw")
    text = [r.getMessage() for r in caplog.records]
    assert sum("unreachable (" in t for t in text) == 1, text
    assert sum("answers again;" in t for t in text) == 1, text


def test_ldap_injection_in_the_username_is_refused(hq: EmbeddedHQ, slapd: SlapdServer,
                                                   secret: Path, tmp_path: Path) -> None:
    for name in ("*)(uid=*", "*", "alice)(|(uid=*"):
        r = login_response(_english(hq), hq, name, "alice pw")
        assert r.status_code == 401, name
    assert {u.username for u in hq.deps.user_store().users()} == {"root"}
    # The filter escapes what the username rule would let through anyway: "al*" would
    # match alice unescaped, and her password would then sign "al*" on.
    assert user_filter("(uid={username})", "*)(uid=*") == r"(uid=\2a\29\28uid=\2a)"
    directory = _directory(slapd, secret, tmp_path)
    assert directory.sign_on("al*", "alice pw").status == UNKNOWN
    assert directory.sign_on("alice", "alice pw").status == ACCEPTED


def test_throttle_applies_to_directory_logins(hq: EmbeddedHQ) -> None:
    for _ in range(5):
        assert login_response(_english(hq), hq, "erin", "guess").status_code == 401
    r = login_response(_english(hq), hq, "erin", "erin pw")
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_shadow_accounts_on_both_backends(backend: Backend, slapd: SlapdServer,
                                          secret: Path, tmp_path: Path) -> None:
    data = backend.configure(tmp_path / "data")
    toml = data / "hq.toml"
    toml.write_text((toml.read_text() if toml.exists() else "") + _toml(slapd, secret))
    with running_hq(tmp_path) as hq:
        users = hq.deps.user_store()
        users.create_user("root", ROOT_PW, "admin")
        page_session(hq, "frank", "frank pw")
        assert (users.user("frank").role, users.user("frank").scope.text()) == (
            "branch_manager", "branch:b1")
        assert login_response(_english(hq), hq, "frank", "nope").status_code == 401
        slapd.remove_member("branch-b1-managers", "frank")
        try:
            assert login_response(_english(hq), hq, "frank", "frank pw").status_code == 403
            assert users.user("frank").enabled is False
        finally:
            slapd.add_member("branch-b1-managers", "frank")  # for the other back-end
        page_session(hq, "frank", "frank pw")  # back in the group: enabled again
        assert users.user("frank").enabled is True
        page_session(hq, "root", ROOT_PW)


@pytest.mark.parametrize("order", ["local_first", "directory_first"])
def test_order_and_a_name_that_is_both(order: str, slapd: SlapdServer, secret: Path,
                                       tmp_path: Path) -> None:
    """alice is also a local account (another password): local_first checks only that;
    directory_first asks the directory, which knows her: her local password is wrong
    there, her directory password is right but the name is a local account's (refused)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "hq.toml").write_text(_toml(slapd, secret, f'order = "{order}"\n'))
    with running_hq(tmp_path) as hq:
        users = hq.deps.user_store()
        users.create_user("alice", "alice's local password", "viewer",
                          scope=Scope.parse("branch:b2"))
        users.create_user("root", ROOT_PW, "admin")
        local = login_response(_english(hq), hq, "alice", "alice's local password")
        remote = login_response(_english(hq), hq, "alice", "alice pw")
        if order == "local_first":
            assert (local.status_code, remote.status_code) == (303, 401)
        else:
            assert (local.status_code, remote.status_code) == (401, 403)
            assert "both a directory user and a local account" in remote.text
        assert users.user("alice").role == "viewer"  # never turned into a shadow
        page_session(hq, "root", ROOT_PW)  # unknown to the directory: local either way


def test_start_tls_and_ldaps_with_the_directory_ca_refused_with_another(
        slapd: SlapdServer, secret: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    tls_files(other)  # a CA of its own, that never signed the directory's certificate
    for uri, extra in ((slapd.uri, "start_tls = true\n"), (slapd.ldaps_uri, "")):
        for ca, want in ((slapd.ca_pem, ACCEPTED), (other / "ca.pem", UNAVAILABLE)):
            text = _toml(slapd, secret, f'{extra}ca_file = "{ca}"\n').replace(
                f'uri = "{slapd.uri}"', f'uri = "{uri}"')
            (tmp_path / "hq.toml").write_text(text)
            cfg = load_hq_config(tmp_path).directory
            assert cfg is not None
            assert Directory.from_config(cfg).sign_on("alice", "alice pw").status == want, \
                (uri, ca)


def test_unreadable_ca_or_password_file_stops_hq_naming_it(
        slapd: SlapdServer, secret: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "hq.toml").write_text(_toml(
        slapd, secret, 'start_tls = true\nca_file = "/nonexistent/ca.pem"\n'))
    with pytest.raises(HQConfigError, match=r"directory\.ca_file /nonexistent/ca\.pem"):
        HQDeps.open(data)
    (data / "hq.toml").write_text(_toml(slapd, tmp_path / "missing"))
    with pytest.raises(HQConfigError, match=r"directory\.bind_password_file .*missing"):
        HQDeps.open(data)


@pytest.mark.parametrize(("change", "key"), [
    ('uri = "http://x"', "directory.uri"),
    ('user_filter = "(uid=alice)"', "directory.user_filter"),
    ('bogus = 1', "directory.bogus"),
    ('connect_timeout_s = 0', "directory.connect_timeout_s"),
])
def test_bad_directory_settings_name_the_key(change: str, key: str, tmp_path: Path) -> None:
    base = {"uri": '"ldap://127.0.0.1"', "user_base": '"ou=people,dc=bank"',
            "group_base": '"ou=groups,dc=bank"'}
    name = change.split(" = ")[0]
    base[name] = change.split(" = ", 1)[1]
    (tmp_path / "hq.toml").write_text("[directory]\n" + "".join(
        f"{k} = {v}\n" for k, v in base.items()))
    with pytest.raises(HQConfigError) as err:
        load_hq_config(tmp_path)
    assert key in str(err.value)


@pytest.mark.parametrize(("grant", "rule"), [
    ('{role = "admin", scope = "branch:b1"}', "role admin always has scope 'all'"),
    ('{role = "branch_manager", scope = "region:x"}', "must be 'all', 'branch:ID'"),
    ('{role = "janitor", scope = "all"}', "role 'janitor' must be one of"),
])
def test_bad_group_mapping_names_the_group_and_rule(grant: str, rule: str,
                                                    tmp_path: Path) -> None:
    (tmp_path / "hq.toml").write_text(
        '[directory]\nuri = "ldap://127.0.0.1"\nuser_base = "ou=p,dc=b"\n'
        f'group_base = "ou=g,dc=b"\n[directory.groups]\n"cn=x,ou=g,dc=b" = {grant}\n')
    with pytest.raises(HQConfigError) as err:
        load_hq_config(tmp_path)
    assert "directory.groups.cn=x,ou=g,dc=b" in str(err.value) and rule in str(err.value)


def test_bind_dn_needs_its_password_file() -> None:
    with pytest.raises(ValueError, match="go together"):
        DirectoryConfig.model_validate({"uri": "ldap://h", "user_base": "ou=p,dc=b",
                                        "group_base": "ou=g,dc=b", "bind_dn": "cn=s,dc=b"})
