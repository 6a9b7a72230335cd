"""The ``[directory]`` section of ``hq.toml``: sign-on against the bank's LDAP/AD directory.

Example (docs/hq-deploy.md, "Directory sign-on")::

    [directory]
    uri = "ldaps://ldap.bank.example"
    ca_file = "/etc/counterunit-hq/directory-ca.pem"
    bind_dn = "cn=counterunit-hq,ou=services,dc=bank"
    bind_password_file = "/etc/counterunit-hq/directory-password"
    user_base = "ou=people,dc=bank"
    user_filter = "(&(objectClass=inetOrgPerson)(uid={username}))"
    group_base = "ou=groups,dc=bank"
    member_attribute = "member"

    [directory.groups]
    "cn=hq-admins,ou=groups,dc=bank" = {role = "admin", scope = "all"}
    "cn=branch-b1-managers,ou=groups,dc=bank" = {role = "branch_manager", scope = "branch:B1"}

A user in several mapped groups gets the first one in the file's order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hq.accounts.roles import ROLES, scope_rule
from hq.storage.scope import Scope

USERNAME_SLOT = "{username}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupRole(_Strict):
    """What membership of one directory group gives: a role and where it applies."""

    role: str = Field(min_length=1, max_length=32,
                      description=f"HQ role, one of {', '.join(sorted(ROLES))}.")
    scope: str = Field(min_length=3, max_length=80,
                       description="'all', 'branch:ID' or 'hall:ID' (admin: always 'all').")

    @model_validator(mode="after")
    def _role_and_scope(self) -> GroupRole:
        if self.role not in ROLES:
            raise ValueError(f"role {self.role!r} must be one of {sorted(ROLES)}")
        try:
            scope = Scope.parse(self.scope)
        except ValueError as exc:
            raise ValueError(f"scope {self.scope!r}: {exc}") from None
        problem = scope_rule(self.role, scope)
        if problem:
            raise ValueError(problem)
        return self

    def parsed_scope(self) -> Scope:
        """The scope as HQ's query layer takes it."""
        return Scope.parse(self.scope)


class DirectoryConfig(_Strict):
    """Where the directory is, how HQ finds a user and their groups, and what groups mean."""

    uri: str = Field(
        min_length=8, max_length=500, pattern=r"^ldaps?://[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?/?$",
        description="The directory server: ldap://host[:port] or ldaps://host[:port].")
    start_tls: bool = Field(
        False, description="On an ldap:// URI, upgrade the connection with StartTLS before "
        "any bind (refused if the server cannot).")
    ca_file: Path | None = Field(
        None, description="PEM file of the CA that signed the directory's certificate "
        "(ldaps:// or StartTLS); default: the system's trusted CAs.")
    bind_dn: str | None = Field(
        None, min_length=3, max_length=500,
        description="DN HQ binds as to search for users and groups; omit to search "
        "anonymously.")
    bind_password_file: Path | None = Field(
        None, description="File (0600) holding the bind DN's password; never the password "
        "itself here.")
    user_base: str = Field(min_length=3, max_length=500,
                           description="Base DN under which users are searched (subtree).")
    user_filter: str = Field(
        "(uid={username})", min_length=10, max_length=500,
        description="LDAP filter finding one user; {username} is replaced by the typed name, "
        "escaped (RFC 4515). Active Directory: '(sAMAccountName={username})'.")
    group_base: str = Field(min_length=3, max_length=500,
                            description="Base DN under which groups are searched (subtree).")
    member_attribute: str = Field(
        "member", min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9-]*$",
        description="Attribute of a group entry holding its members' DNs (groupOfNames: "
        "member; groupOfUniqueNames: uniqueMember; Active Directory: member).")
    groups: dict[str, GroupRole] = Field(
        default_factory=dict, max_length=1000,
        description="Group DN -> {role, scope}. A user in none of them is refused; in "
        "several, the first in this file's order wins.")
    order: Literal["local_first", "directory_first"] = Field(
        "local_first",
        description="local_first: a name that is a local account is checked against its "
        "local password only, any other name against the directory. directory_first: the "
        "directory is asked first; a name it does not know, or any name while it is "
        "unreachable, is checked against the local accounts.")
    connect_timeout_s: float = Field(
        5.0, ge=0.2, le=60.0, description="Seconds to wait for a connection to the directory.")
    receive_timeout_s: int = Field(
        10, ge=1, le=120, description="Whole seconds to wait for any one directory answer.")

    @field_validator("user_filter")
    @classmethod
    def _one_slot(cls, value: str) -> str:
        if value.count(USERNAME_SLOT) < 1 or not (value.startswith("(") and value.endswith(")")):
            raise ValueError("must be a parenthesised LDAP filter containing {username}")
        return value

    @field_validator("groups")
    @classmethod
    def _group_dns(cls, value: dict[str, GroupRole]) -> dict[str, GroupRole]:
        for dn in value:
            if "=" not in dn or len(dn) > 500:
                raise ValueError(f"group {dn!r} must be a DN such as 'cn=NAME,ou=groups,dc=X'")
        return value

    @model_validator(mode="after")
    def _bind_pair(self) -> DirectoryConfig:
        if (self.bind_dn is None) != (self.bind_password_file is None):
            raise ValueError("bind_dn and bind_password_file go together")
        if self.start_tls and self.uri.startswith("ldaps://"):
            raise ValueError("start_tls is for ldap:// URIs; ldaps:// is TLS from the start")
        return self
