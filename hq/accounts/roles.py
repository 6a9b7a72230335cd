"""HQ roles and what each may do: a plain table, checked by the API and the pages.

A role says *what* a user may do; the user's :class:`~hq.storage.scope.Scope` says
*where* (the whole organisation, one branch or one hall), and the query layer applies it.

- ``admin``: everything, over the whole organisation (accounts, audit log, organisation,
  recordings; every recording view and download is audited like anyone's).
- ``branch_manager``: figures and recordings of one branch; authors its organisation
  (staff, schedules) and acknowledges alerts.
- ``hall_supervisor``: figures and recordings of one hall; acknowledges alerts.
- ``auditor``: recordings in scope and the audit log (checking who opened which
  recording means opening it); figures too.
- ``viewer``: figures only, never a recording.

Accounts made before roles had scopes had the role ``supervisor`` and saw every
branch; they are migrated to ``hall_supervisor`` with scope ``all`` (what they saw
before, so nobody loses or gains access) and a warning asks the admin to narrow them.
"""

from __future__ import annotations

from hq.storage.scope import Scope

SEARCH = "search"
VIEW = "view"
PLAY = "play"
DOWNLOAD = "download"
READ_AUDIT = "read_audit"
MANAGE_USERS = "manage_users"
FIGURES = "figures"  # dashboards, usage, event counts, reports, unit status
MANAGE_ORG = "manage_org"  # branches/halls/windows, staff, schedules, rules
ACK_ALERTS = "ack_alerts"

RECORDINGS = frozenset({SEARCH, VIEW, PLAY, DOWNLOAD})

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({*RECORDINGS, READ_AUDIT, MANAGE_USERS, FIGURES, MANAGE_ORG,
                        ACK_ALERTS}),
    "branch_manager": frozenset({*RECORDINGS, FIGURES, MANAGE_ORG, ACK_ALERTS}),
    "hall_supervisor": frozenset({*RECORDINGS, FIGURES, ACK_ALERTS}),
    "auditor": frozenset({*RECORDINGS, READ_AUDIT, FIGURES}),
    "viewer": frozenset({FIGURES}),
}
ROLES = frozenset(PERMISSIONS)
LEGACY_ROLES = {"supervisor": "hall_supervisor"}


def allowed(role: str, action: str) -> bool:
    """Whether ``role`` may perform ``action`` (unknown roles may do nothing)."""
    return action in PERMISSIONS.get(role, frozenset())


def scope_rule(role: str, scope: Scope | None) -> str | None:
    """Why ``scope`` does not suit ``role``, or None when it does.

    An admin manages the whole organisation, so its scope is ``all``; every other
    role must be given its scope explicitly (no account silently sees everything).
    """
    if scope is None:
        return (f"role {role} needs a scope: 'all', 'branch:ID' or 'hall:ID'"
                if role != "admin" else None)
    if role == "admin" and scope.level != "all":
        return f"role admin always has scope 'all', not {scope.text()!r}"
    return None


def covers(scope: Scope, branch_id: str | None, hall_id: str | None) -> bool:
    """Whether ``scope`` includes the node (``hall_id`` of ``branch_id``, or the branch)."""
    if scope.level == "all":
        return True
    if scope.level == "branch":
        return branch_id is not None and scope.node_id == branch_id
    return hall_id is not None and scope.node_id == hall_id
