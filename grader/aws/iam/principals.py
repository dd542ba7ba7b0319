"""Principals: who makes a request, and whether a policy's Principal element names them.

A request's principal is an ARN (or a service name, or nothing for an anonymous request).
:func:`parse_principal` turns it into a typed :class:`Principal`; :func:`compile_principal`
turns a statement's ``Principal`` / ``NotPrincipal`` element into a :class:`PrincipalMatcher`
built once per statement.

Matching follows the IAM "Principal" and "NotPrincipal" reference pages:

* ``"*"`` and ``{"AWS": "*"}`` name everyone, anonymous callers included.
* An account (``"111122223333"`` or ``arn:aws:iam::111122223333:root``) names the account:
  any principal of it matches, but the account then decides through its own identity
  policies (a *delegating* grant, :data:`ACCOUNT`).
* A role ARN names the role's sessions (:data:`ROLE`: the session is still capped by its
  boundary and session policy); a session ARN names that session only (:data:`DIRECT`).
  Roles are matched by account and name: a role ARN in a policy may carry a path that a
  session ARN never shows.
* A user ARN names the user (:data:`DIRECT`) and the federated-user sessions the user
  created, when the caller says which user that was (:data:`ROLE`-like: capped).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import GraderError

# Principal kinds.
USER = "user"
ROLE_SESSION = "role-session"  # an assumed-role session (session name may be unknown)
FEDERATED_USER = "federated-user"  # a GetFederationToken session
ROOT = "root"
SERVICE = "service"
ANONYMOUS = "anonymous"
PROVIDER = "provider"  # a SAML/OIDC identity provider (web identity / SAML callers)
CANONICAL_USER = "canonical-user"  # an S3 canonical user ID (e.g. a CloudFront OAI)

# How a Principal element reached the caller, strongest first. The same-account rules
# of the evaluation logic depend on it (see authorize.py).
DIRECT = "direct"  # names this very principal (user, session, service, "*")
ROLE = "role"  # names the role (or federating user) behind a session: still capped
ACCOUNT = "account"  # names the account: delegates to its identity policies

# Web identity providers written as host names in "Federated" (IAM Principal page).
_WEB_IDENTITY_HOSTS = frozenset(
    (
        "accounts.google.com",
        "cognito-identity.amazonaws.com",
        "graph.facebook.com",
        "www.amazon.com",
    )
)
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_CANONICAL_ID = re.compile(r"^[0-9a-f]{64}$")
_SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$")
_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<rest>.+)$"
)


@dataclass(frozen=True)
class Principal:
    """The caller of one request. Build it with :func:`parse_principal`, or directly when
    you know more than an ARN shows (a role's path, a unique ID, the user who federated)."""

    kind: str
    arn: str | None = None  # as the request names it; None for services and anonymous
    account: str | None = None
    name: str | None = None  # user, role, federated-user or service name
    session: str | None = None  # role session name (None: a session of unknown name)
    partition: str = "aws"
    role_path: str = "/"  # a session ARN drops the role's path; give it to get it back
    unique_id: str | None = None  # AIDA... / AROA...: what aws:userid is built from
    source_user: str | None = None  # federated user: ARN of the IAM user who federated

    @property
    def role_arn(self) -> str | None:
        """For a role session: the role's ARN (what aws:PrincipalArn holds)."""
        if self.kind != ROLE_SESSION:
            return None
        return f"arn:{self.partition}:iam::{self.account}:role{self.role_path}{self.name}"

    @property
    def is_session(self) -> bool:
        """Role sessions and federated users: the principals session policies apply to."""
        return self.kind in (ROLE_SESSION, FEDERATED_USER)

    @property
    def is_service_linked(self) -> bool:
        """A session of a service-linked role: its path is /aws-service-role/<service>/.
        A session ARN does not show the path; build the Principal with ``role_path``."""
        return self.kind == ROLE_SESSION and self.role_path.startswith("/aws-service-role/")

    @property
    def is_iam(self) -> bool:
        """A principal that lives in an account and has identity policies (or is root)."""
        return self.kind in (USER, ROLE_SESSION, FEDERATED_USER, ROOT)

    def describe(self) -> str:
        """How an explanation names the caller."""
        if self.kind == ANONYMOUS:
            return "an anonymous caller"
        if self.kind == SERVICE:
            return f"the service {self.name}"
        if self.kind == ROLE_SESSION and self.session is None:
            return f"a session of role {self.role_arn}"
        return self.arn or str(self.name)


ANONYMOUS_PRINCIPAL = Principal(ANONYMOUS)


@lru_cache(maxsize=4096)
def parse_principal(value: str | None) -> Principal:
    """A typed principal for a request's principal string.

    Accepts user, role, assumed-role session, federated-user and root ARNs, a 12-digit
    account ID (its root user), a service principal (``cloudfront.amazonaws.com``), an
    identity provider, an S3 canonical user ID, or ``None``/``""``/``"anonymous"``.
    A role ARN stands for a session of that role whose name does not matter.
    Raises ``ValueError`` for anything else.
    """
    if value is None or value in ("", "anonymous"):
        return ANONYMOUS_PRINCIPAL
    if _ACCOUNT_ID.match(value):
        return Principal(ROOT, f"arn:aws:iam::{value}:root", value)
    if value in _WEB_IDENTITY_HOSTS:
        return Principal(PROVIDER, value, None, value)
    if _SERVICE_NAME.match(value):
        return Principal(SERVICE, None, None, value)
    if _CANONICAL_ID.match(value):
        return Principal(CANONICAL_USER, value, None, value)
    m = _ARN.match(value)
    if m is None:
        raise ValueError(f"{value!r} is not a principal: {_EXPECTED}")
    partition, service, account, rest = m.group("partition", "service", "account", "rest")
    kind, _, tail = rest.partition("/")
    if service == "iam":
        if rest == "root":
            return Principal(ROOT, value, account, partition=partition)
        if kind in ("user", "role") and tail:
            path, _, name = tail.rpartition("/")
            path = f"/{path}/" if path else "/"
            if kind == "user":
                return Principal(USER, value, account, name, partition=partition)
            return Principal(
                ROLE_SESSION, value, account, name, partition=partition, role_path=path
            )
        if kind in ("saml-provider", "oidc-provider") and tail:
            return Principal(PROVIDER, value, account, tail, partition=partition)
    elif kind == "assumed-role" and tail.count("/") == 1:
        role, session = tail.split("/")
        return Principal(ROLE_SESSION, value, account, role, session, partition=partition)
    elif kind == "federated-user" and tail:
        return Principal(FEDERATED_USER, value, account, tail, partition=partition)
    raise ValueError(f"{value!r} is not a principal: {_EXPECTED}")


_EXPECTED = (
    "expected an IAM user, role or root ARN, an sts assumed-role or federated-user ARN, "
    "a 12-digit account ID, or a service principal such as cloudfront.amazonaws.com"
)


# --- context keys -----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def principal_context(principal: Principal) -> Mapping[str, tuple[str, ...]]:
    """The global condition keys a request carries because of who made it.

    Keys are lower-cased, values tuples of strings (the shape ``Request.keys`` has). Only
    what the principal shows is derived: aws:userid needs ``unique_id`` for users and
    roles, and aws:PrincipalOrgID, tags and MFA must come from the caller's context.
    Values follow the IAM pages for aws:PrincipalArn and the "principal key values" table.
    """
    p = principal
    keys: dict[str, str] = {}
    if p.kind == ANONYMOUS:
        keys = {"aws:principalaccount": "anonymous", "aws:principaltype": "Anonymous"}
        keys["aws:userid"] = "anonymous"
    elif p.kind == SERVICE:
        keys = {"aws:principalisawsservice": "true", "aws:principalservicename": str(p.name)}
    elif p.is_iam:
        keys["aws:principalaccount"] = str(p.account)
        keys["aws:principalisawsservice"] = "false"
        if p.kind == ROOT:
            keys.update(
                {
                    "aws:principalarn": f"arn:{p.partition}:iam::{p.account}:root",
                    "aws:principaltype": "Account",
                    "aws:userid": str(p.account),
                }
            )
        elif p.kind == USER:
            keys["aws:principalarn"] = str(p.arn)
            keys["aws:principaltype"] = "User"
            keys["aws:username"] = str(p.name)
            if p.unique_id:
                keys["aws:userid"] = p.unique_id
        elif p.kind == ROLE_SESSION:
            keys["aws:principalarn"] = str(p.role_arn)
            keys["aws:principaltype"] = "AssumedRole"
            if p.unique_id and p.session:
                keys["aws:userid"] = f"{p.unique_id}:{p.session}"
        else:  # federated user
            keys["aws:principalarn"] = str(p.arn)
            keys["aws:principaltype"] = "FederatedUser"
            keys["aws:userid"] = f"{p.account}:{p.name}"
    return {key: (value,) for key, value in keys.items()}


# --- the Principal / NotPrincipal element ---------------------------------------------------


class InvalidPrincipalError(GraderError, ValueError):
    """A Principal element this engine cannot read (IAM would reject it too)."""


class PrincipalMatcher:
    """A statement's Principal or NotPrincipal element, compiled once.

    ``grant(p)`` says how the element names ``p`` (:data:`DIRECT`, :data:`ROLE`,
    :data:`ACCOUNT`, or ``None``); ``lists_all(p)`` is the NotPrincipal-with-Deny test.
    """

    __slots__ = (
        "everyone",
        "accounts",
        "users",
        "roles",
        "sessions",
        "federated",
        "services",
        "providers",
        "canonical",
        "ids",
    )

    def __init__(self, element: Any) -> None:
        self.everyone = False
        self.accounts: set[str] = set()
        self.users: set[tuple[str, str]] = set()  # (account, user name)
        self.roles: set[tuple[str, str]] = set()  # (account, role name)
        self.sessions: set[str] = set()  # assumed-role session ARNs
        self.federated: set[str] = set()  # federated-user ARNs
        self.services: set[str] = set()
        self.providers: set[str] = set()
        self.canonical: set[str] = set()
        self.ids: set[str] = set()  # unique IDs (AIDA..., AROA...) left by deleted entities
        if element == "*":
            self.everyone = True
            return
        if not isinstance(element, Mapping) or not element:
            raise InvalidPrincipalError(f"Invalid principal in policy: {element!r}")
        for key, values in element.items():
            listed = [values] if isinstance(values, str) else values
            if not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
                raise InvalidPrincipalError(f'Invalid principal in policy: "{key}":{values!r}')
            for value in listed:
                self._add(key, value)

    def _add(self, key: str, value: str) -> None:
        if key == "AWS":
            self._add_aws(value)
        elif key == "Service":
            self.services.add(value)
        elif key == "Federated":
            self.providers.add(value)
        elif key == "CanonicalUser":
            self.canonical.add(value)
        else:
            raise InvalidPrincipalError(f'Invalid principal in policy: "{key}":"{value}"')

    def _add_aws(self, value: str) -> None:
        if value == "*":
            self.everyone = True
            return
        if _ACCOUNT_ID.match(value):
            self.accounts.add(value)
            return
        try:
            p = parse_principal(value)
        except ValueError:
            if not value.startswith("arn:"):  # IAM stores a unique ID for a deleted entity
                self.ids.add(value)
                return
            raise InvalidPrincipalError(f'Invalid principal in policy: "AWS":"{value}"') from None
        if p.kind == ROOT:
            self.accounts.add(str(p.account))
        elif p.kind == USER:
            self.users.add((str(p.account), str(p.name)))
        elif p.kind == ROLE_SESSION and p.session is None:
            self.roles.add((str(p.account), str(p.name)))
        elif p.kind == ROLE_SESSION:
            self.sessions.add(str(p.arn))
        elif p.kind == FEDERATED_USER:
            self.federated.add(str(p.arn))
        else:
            raise InvalidPrincipalError(f'Invalid principal in policy: "AWS":"{value}"')

    def grant(self, p: Principal) -> str | None:
        """How this element names ``p``, strongest first; ``None`` if it does not."""
        if self.everyone:
            return DIRECT
        kind = p.kind
        if kind == SERVICE:
            return DIRECT if p.name in self.services else None
        if kind == PROVIDER:
            return DIRECT if p.name in self.providers or p.arn in self.providers else None
        if kind == CANONICAL_USER:
            return DIRECT if p.name in self.canonical else None
        if kind == ANONYMOUS:
            return None
        if p.unique_id and p.unique_id in self.ids:
            return DIRECT
        if kind == USER and (p.account, p.name) in self.users:
            return DIRECT
        if kind == ROLE_SESSION:
            if p.session is not None and p.arn in self.sessions:
                return DIRECT
            if (p.account, p.name) in self.roles:
                return ROLE
        if kind == FEDERATED_USER:
            if p.arn in self.federated:
                return DIRECT
            if p.source_user:
                parent = parse_principal(p.source_user)
                if (parent.account, parent.name) in self.users:
                    return ROLE
        if p.account in self.accounts:
            return ACCOUNT
        return None

    def lists_all(self, p: Principal) -> bool:
        """NotPrincipal with Deny: whether every identity AWS may check for ``p`` is listed.

        The NotPrincipal page warns that AWS may check the account first, then the role,
        then the session (or the account, then the user), and that a missing one gets
        denied. We take that reading: the principal escapes the Deny only if its account,
        its role or user, and its session are all named.
        """
        if self.everyone:
            return True
        kind = p.kind
        if kind == SERVICE:
            return p.name in self.services
        if kind == PROVIDER:
            return p.name in self.providers or p.arn in self.providers
        if kind == CANONICAL_USER:
            return p.name in self.canonical
        if kind == ANONYMOUS:
            return False
        if p.account not in self.accounts:
            return False
        if kind == USER:
            return (p.account, p.name) in self.users
        if kind == ROLE_SESSION:  # a session of unknown name: its role is all we can check
            named = p.session is None or p.arn in self.sessions
            return named and (p.account, p.name) in self.roles
        if kind == FEDERATED_USER:
            return p.arn in self.federated
        return True  # the root user: its account is listed


# A statement's compiled Principal or NotPrincipal element: (matcher, is NotPrincipal).
PrincipalElement = tuple[PrincipalMatcher, bool]


def compile_principal(element: Any) -> PrincipalMatcher:
    """Compile a Principal/NotPrincipal element; raises :class:`InvalidPrincipalError`."""
    return PrincipalMatcher(element)
