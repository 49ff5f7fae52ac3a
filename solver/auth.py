"""Who is calling and what they may do: principals with a tenant and grants, read from a principals
file (tokens kept only as SHA-256 hashes), and the one table of what each RPC needs.

The server's interceptor authenticates every call (a bearer token, else the mutual-TLS client
certificate) and authorizes it against `METHOD_NEEDS` before any use case runs; the use cases get
the `Principal` and keep it with every write. Nothing here imports gRPC.

A grant is a role on networks of the principal's tenant ("*": every network of it):

  viewer    read networks, plans, decisions and diffs; watch plans
  planner   a viewer who also puts networks, plans, replans, solves, validates and exports
  approver  a viewer who also approves or rejects decisions escalated to the protocol roles it
            lists (`roles`), or signs off a joint decision for the functions it lists (`functions`)
  partner   publishes signals about its own nodes and lanes only (a Replan whose every signal lands
            on them) and reads only the decisions that concern them
  admin     a planner who also reads the audit trail; approving still needs the approver grant
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from models.errors import ConcertoError, ValidationError, echo
from models.protocols.spec import Function
from solver.store import NetworkTaken

log = logging.getLogger("concerto.auth")

ANY_NETWORK = "*"
"""A grant's network list entry that covers every network of the principal's tenant."""
RELOAD_CHECK_SECONDS = 1.0
"""How often the registry looks at the principals file's modification time for a change."""

_ID = re.compile(r"[A-Za-z0-9._@-]{1,128}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FUNCTIONS = {f.value: f for f in Function}


# ------------------------------------------------------------------------------------------ errors


class Unauthenticated(ConcertoError):
    """No credential, or one the principals file does not know (UNAUTHENTICATED)."""


class PermissionDenied(ConcertoError):
    """A known principal without the grant a call needs; the message names the grant (PERMISSION_DENIED)."""


# ----------------------------------------------------------------------------------------- records


class GrantRole(StrEnum):
    """What a grant lets a principal do on its networks (see the module docstring)."""

    VIEWER = "viewer"
    PLANNER = "planner"
    APPROVER = "approver"
    PARTNER = "partner"
    ADMIN = "admin"


IMPLIES: Mapping[GrantRole, frozenset[GrantRole]] = {
    GrantRole.VIEWER: frozenset({GrantRole.VIEWER}),
    GrantRole.PLANNER: frozenset({GrantRole.PLANNER, GrantRole.VIEWER}),
    GrantRole.APPROVER: frozenset({GrantRole.APPROVER, GrantRole.VIEWER}),
    GrantRole.PARTNER: frozenset({GrantRole.PARTNER}),
    GrantRole.ADMIN: frozenset({GrantRole.ADMIN, GrantRole.PLANNER, GrantRole.VIEWER}),
}
"""The roles a grant's role includes: a planner may read what a viewer may, an admin what a planner may."""


@dataclass(frozen=True)
class Grant:
    """One role on some networks of the principal's tenant."""

    role: GrantRole
    networks: tuple[str, ...] = (ANY_NETWORK,)
    roles: tuple[str, ...] = ()
    """Approver: the protocol roles (`Role.id`) whose escalations it may decide."""
    functions: tuple[Function, ...] = ()
    """Approver: the functions it signs off for in a joint decision."""
    nodes: tuple[str, ...] = ()
    """Partner: the nodes (a supplier, a plant, a DC) it speaks for."""
    lanes: tuple[str, ...] = ()
    """Partner: the lanes it speaks for (a carrier's)."""

    def covers(self, network_id: str) -> bool:
        return ANY_NETWORK in self.networks or network_id in self.networks


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an id, a tenant, grants, and the credential this request came with."""

    id: str
    tenant: str
    grants: tuple[Grant, ...]
    credential: str = ""
    """How this request authenticated: "token:<label>", "certificate:<name>", or "open"."""
    open: bool = False
    """The open server's caller (no principals file): every grant, the tenant "", and approvals
    recorded under the name the request gives, as before authentication existed."""

    def grants_on(self, network_id: str) -> list[Grant]:
        return [g for g in self.grants if g.covers(network_id)]

    def holds(self, role: GrantRole, network_id: str | None = None) -> bool:
        """Whether a grant includes `role` on `network_id` (None: on any network)."""
        grants = self.grants if network_id is None else self.grants_on(network_id)
        return any(role in IMPLIES[g.role] for g in grants)

    def may_approve_role(self, network_id: str, role: str) -> bool:
        return self.open or any(g.role == GrantRole.APPROVER and role in g.roles for g in self.grants_on(network_id))

    def approving_functions(self, network_id: str) -> frozenset[Function]:
        """The functions this principal signs off for in a joint decision on `network_id`."""
        if self.open:
            return frozenset(Function)
        return frozenset(f for g in self.grants_on(network_id) if g.role == GrantRole.APPROVER for f in g.functions)

    def partner_scope(self, network_id: str) -> tuple[frozenset[str], frozenset[str]] | None:
        """The nodes and lanes a partner-only principal speaks for on `network_id`; None when it
        holds a viewer's reading rights there (then nothing is filtered)."""
        if self.holds(GrantRole.VIEWER, network_id):
            return None
        grants = [g for g in self.grants_on(network_id) if g.role == GrantRole.PARTNER]
        return (
            frozenset(n for g in grants for n in g.nodes),
            frozenset(lane for g in grants for lane in g.lanes),
        )


OPEN = Principal(
    id="",
    tenant="",
    grants=(
        Grant(GrantRole.ADMIN),
        Grant(GrantRole.APPROVER, functions=tuple(Function)),
    ),
    credential="open",
    open=True,
)
"""The caller of a server without a principals file (loopback only)."""


@dataclass(frozen=True)
class Principals:
    """A principals file, read: principals by token hash and by certificate name."""

    by_token: Mapping[str, tuple[Principal, str]]
    """SHA-256 hex of a token -> its principal and the token's label."""
    by_certificate: Mapping[str, Principal]
    """A client certificate's common name or subject alternative name -> its principal."""

    @property
    def count(self) -> int:
        return len({p.id for p, _ in self.by_token.values()} | {p.id for p in self.by_certificate.values()})


def token_hash(token: str) -> str:
    """The SHA-256 hex digest a principals file keeps for a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------- the file


def parse_principals(doc: object, source: str = "principals file") -> Principals:
    """A principals file's JSON document, checked: every problem is a `ValidationError` naming the
    principal and the field, so a typo never grants or denies in silence.

    {"principals": [{"id": "ana", "tenant": "acme",
                     "tokens": [{"sha256": "<64 hex>", "label": "ana-laptop"}],
                     "certificates": ["ana.acme.example"],
                     "grants": [{"role": "approver", "networks": ["demo"],
                                 "roles": ["procurement-director"], "functions": ["procurement"]}]}]}
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("principals"), list):
        raise ValidationError("principals file", source, "principals", 'must be a list: {"principals": [...]}')
    by_token: dict[str, tuple[Principal, str]] = {}
    by_certificate: dict[str, Principal] = {}
    seen: set[str] = set()
    for k, entry in enumerate(doc["principals"]):
        where = f"principals[{k}]"
        if not isinstance(entry, dict):
            raise ValidationError("principals file", source, where, "must be an object")
        _only(entry, {"id", "tenant", "tokens", "certificates", "grants"}, "principal", str(entry.get("id", where)))
        pid = _ident(entry.get("id"), "principal", where, "id")
        if pid in seen:
            raise ValidationError("principal", pid, "id", "is used twice; give each principal its own id")
        seen.add(pid)
        tenant = _ident(entry.get("tenant"), "principal", pid, "tenant")
        grants = tuple(_grant(g, pid, j) for j, g in enumerate(_list(entry, "grants", pid)))
        principal = Principal(pid, tenant, grants)
        for j, tok in enumerate(_list(entry, "tokens", pid)):
            if not isinstance(tok, dict):
                raise ValidationError("principal", pid, f"tokens[{j}]", 'must be {"sha256": "<64 hex>", "label": ...}')
            _only(tok, {"sha256", "label"}, "principal", pid)
            digest = tok.get("sha256")
            if not isinstance(digest, str) or _SHA256.fullmatch(digest) is None:
                raise ValidationError(
                    "principal",
                    pid,
                    f"tokens[{j}].sha256",
                    "must be 64 lowercase hex digits, the SHA-256 of the token (`concerto token` makes both); "
                    "never write the token itself",
                )
            label = tok.get("label", f"{pid}#{j}")
            if not isinstance(label, str) or not label:
                raise ValidationError("principal", pid, f"tokens[{j}].label", "must be a non-empty string")
            if digest in by_token:
                raise ValidationError(
                    "principal", pid, f"tokens[{j}].sha256", f"is also principal {by_token[digest][0].id!r}'s token"
                )
            by_token[digest] = (principal, label)
        for j, name in enumerate(_list(entry, "certificates", pid)):
            if not isinstance(name, str) or not name:
                raise ValidationError("principal", pid, f"certificates[{j}]", "must be a certificate's common name")
            if name in by_certificate:
                raise ValidationError(
                    "principal", pid, f"certificates[{j}]", f"is also principal {by_certificate[name].id!r}'s"
                )
            by_certificate[name] = principal
    return Principals(by_token, by_certificate)


def _grant(entry: object, pid: str, j: int) -> Grant:
    where = f"grants[{j}]"
    if not isinstance(entry, dict):
        raise ValidationError("principal", pid, where, 'must be an object like {"role": "viewer"}')
    _only(entry, {"role", "networks", "roles", "functions", "nodes", "lanes"}, "principal", pid)
    try:
        role = GrantRole(str(entry.get("role")))
    except ValueError:
        known = ", ".join(r.value for r in GrantRole)
        raise ValidationError(
            "principal", pid, f"{where}.role", f"is {entry.get('role')!r}; use one of {known}"
        ) from None
    networks = tuple(_strings(entry.get("networks", [ANY_NETWORK]), pid, f"{where}.networks"))
    roles = tuple(_strings(entry.get("roles", []), pid, f"{where}.roles"))
    functions = _strings(entry.get("functions", []), pid, f"{where}.functions")
    unknown = [n for n in functions if n not in _FUNCTIONS]
    if unknown:
        raise ValidationError(
            "principal", pid, f"{where}.functions", f"has {unknown[0]!r}; use one of {', '.join(_FUNCTIONS)}"
        )
    nodes = tuple(_strings(entry.get("nodes", []), pid, f"{where}.nodes"))
    lanes = tuple(_strings(entry.get("lanes", []), pid, f"{where}.lanes"))
    if role == GrantRole.APPROVER and not roles and not functions:
        raise ValidationError(
            "principal", pid, where, "is an approver grant without roles or functions; name what it approves"
        )
    if role == GrantRole.PARTNER and not nodes and not lanes:
        raise ValidationError("principal", pid, where, "is a partner grant without nodes or lanes; name its scope")
    if role != GrantRole.APPROVER and (roles or functions):
        raise ValidationError("principal", pid, where, "names roles or functions, which only an approver grant takes")
    if role != GrantRole.PARTNER and (nodes or lanes):
        raise ValidationError("principal", pid, where, "names nodes or lanes, which only a partner grant takes")
    return Grant(role, networks, roles, tuple(_FUNCTIONS[n] for n in functions), nodes, lanes)


def _only(entry: dict[str, Any], keys: set[str], entity: str, ident: str) -> None:
    extra = sorted(set(entry) - keys)
    if extra:
        raise ValidationError(entity, ident, extra[0], f"is not a field; use {', '.join(sorted(keys))}")


def _ident(value: object, entity: str, ident: str, name: str) -> str:
    if not isinstance(value, str) or _ID.fullmatch(value) is None:
        raise ValidationError(entity, ident, name, "must be 1 to 128 letters, digits, '.', '_', '@' or '-'")
    return value


def _list(entry: dict[str, Any], name: str, pid: str) -> list[Any]:
    value = entry.get(name, [])
    if not isinstance(value, list):
        raise ValidationError("principal", pid, name, "must be a list")
    return value


def _strings(value: object, pid: str, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError("principal", pid, name, "must be a list of non-empty strings")
    return list(value)


def load_principals(path: str | Path) -> Principals:
    """Read and check a principals file; a `ValidationError` names the file, principal and field."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ValidationError("server config", str(path), "principals", f"cannot be read: {err.strerror}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValidationError("principals file", str(path), f"line {err.lineno}", f"is not JSON: {err.msg}") from None
    return parse_principals(doc, str(path))


class PrincipalRegistry:
    """The principals file as the server sees it now: read at start (a bad file stops the start),
    read again when its modification time or size changes (checked at most every
    `RELOAD_CHECK_SECONDS`) or on `reload()` (SIGHUP). A file that turns bad keeps the last good
    principals in force and logs why."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._principals = load_principals(self.path)
        self._checked = time.monotonic()

    def _stat(self) -> tuple[int, int]:
        try:
            st = os.stat(self.path)
        except OSError:
            return (-1, -1)
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> Principals:
        now = time.monotonic()
        if now - self._checked >= RELOAD_CHECK_SECONDS:
            with self._lock:
                if now - self._checked >= RELOAD_CHECK_SECONDS:
                    self._checked = now
                    if self._stat() != self._stamp:
                        self._load()
        return self._principals

    def reload(self) -> None:
        """Read the file now (SIGHUP)."""
        with self._lock:
            self._checked = time.monotonic()
            self._load()

    def _load(self) -> None:
        stamp = self._stat()
        try:
            self._principals = load_principals(self.path)
        except ValidationError as err:
            log.error("principals file %s not reloaded, the previous principals stay in force: %s", self.path, err)
        else:
            log.info("principals file %s reloaded: %d principals", self.path, self._principals.count)
        self._stamp = stamp


# ----------------------------------------------------------------------------------- authenticate


BEARER = "bearer "


def authenticate(
    principals: Principals | None,
    metadata: Iterable[tuple[str, str | bytes]],
    certificate_names: Iterable[str] = (),
) -> Principal:
    """The principal of a call: `OPEN` without a principals file; else the bearer token's (a token
    decides when present, even beside a certificate), else the first client-certificate name the
    file knows. No credential, or an unknown one, is `Unauthenticated`."""
    if principals is None:
        return OPEN
    header = next((v for k, v in metadata if k == "authorization"), None)
    if header is not None:
        text = header.decode("utf-8", "replace") if isinstance(header, bytes) else header
        if not text.lower().startswith(BEARER) or not text[len(BEARER) :].strip():
            raise Unauthenticated("the authorization metadata must be 'Bearer <token>'")
        found = principals.by_token.get(token_hash(text[len(BEARER) :].strip()))
        if found is None:
            raise Unauthenticated("the bearer token is not known to this server; ask its operator for a token")
        principal, label = found
        return _with_credential(principal, f"token:{label}")
    for name in certificate_names:
        known = principals.by_certificate.get(name)
        if known is not None:
            return _with_credential(known, f"certificate:{name}")
    if certificate_names:
        raise Unauthenticated(
            "the client certificate's names are not in this server's principals file; send a bearer token "
            "or a certificate the operator registered"
        )
    raise Unauthenticated(
        "this server needs a credential: metadata 'authorization: Bearer <token>' or a client certificate"
    )


def _with_credential(principal: Principal, credential: str) -> Principal:
    return Principal(principal.id, principal.tenant, principal.grants, credential)


# ------------------------------------------------------------------------------------- authorize


class Scope(StrEnum):
    """Where a method's grant must hold."""

    NETWORK = "network"
    """On the network the request names (`network_id`)."""
    ANYWHERE = "anywhere"
    """On some network of the tenant (stateless work: Solve, ValidateNetwork, inline exports)."""
    SIGNED_IN = "signed in"
    """Any principal (each answer is filtered to what it may see)."""


@dataclass(frozen=True)
class Need:
    """What a method needs: a role (None: none beyond signing in), and where."""

    role: GrantRole | None
    scope: Scope
    partner: bool = False
    """A partner grant on the network may call it too, within its scope (checked by the use case)."""


METHOD_NEEDS: Mapping[str, Need] = {
    "PutNetwork": Need(GrantRole.PLANNER, Scope.NETWORK),
    "GetNetwork": Need(GrantRole.VIEWER, Scope.NETWORK),
    "ValidateNetwork": Need(GrantRole.PLANNER, Scope.ANYWHERE),
    "ListNetworks": Need(None, Scope.SIGNED_IN),
    "Solve": Need(GrantRole.PLANNER, Scope.ANYWHERE),
    "SolveStream": Need(GrantRole.PLANNER, Scope.ANYWHERE),
    "Plan": Need(GrantRole.PLANNER, Scope.NETWORK),
    "Replan": Need(GrantRole.PLANNER, Scope.NETWORK, partner=True),
    "ReplanStream": Need(GrantRole.PLANNER, Scope.NETWORK, partner=True),
    "GetPlan": Need(GrantRole.VIEWER, Scope.NETWORK),
    "ListPlans": Need(GrantRole.VIEWER, Scope.NETWORK),
    "DiffPlans": Need(GrantRole.VIEWER, Scope.NETWORK),
    "WatchPlans": Need(GrantRole.VIEWER, Scope.NETWORK),
    "ListDecisions": Need(GrantRole.VIEWER, Scope.NETWORK, partner=True),
    "ApproveDecision": Need(GrantRole.APPROVER, Scope.NETWORK),
    "RejectDecision": Need(GrantRole.APPROVER, Scope.NETWORK),
    "ExportModel": Need(GrantRole.PLANNER, Scope.NETWORK),
    "ListBackends": Need(None, Scope.SIGNED_IN),
    "ListAudit": Need(GrantRole.ADMIN, Scope.NETWORK),
}
"""What every Concerto RPC needs; a test fails when an RPC of the service is missing here.
ExportModel of an inline request needs the planner grant anywhere (there is no network)."""


def authorize(principal: Principal, method: str, network_id: str, owner: str | None) -> None:
    """Allow the call, or raise. `owner` is the tenant of the network the request names (None: no
    such network). Under authentication a network of another tenant is `NetworkHidden`, answered
    exactly as a network that does not exist (which is checked here too, so every method answers a
    missing and a hidden network alike and ids do not leak); PutNetwork onto another tenant's id is
    `NetworkTaken`. A principal without the grant is `PermissionDenied` naming the grant."""
    need = METHOD_NEEDS.get(method)
    if need is None:
        raise PermissionDenied(f"{method} is not a Concerto method this server authorizes")
    if principal.open or need.role is None:
        return
    if need.scope == Scope.NETWORK and network_id:
        if method == "PutNetwork":
            if owner is not None and owner != principal.tenant:
                raise NetworkTaken(network_id)
        elif owner is None or owner != principal.tenant:
            raise NetworkHidden(network_id)
        if principal.holds(need.role, network_id):
            return
        if need.partner and principal.holds(GrantRole.PARTNER, network_id):
            return
        raise PermissionDenied(
            f"principal {echo(principal.id)} has no {need.role.value} grant on network {echo(network_id)}; "
            f"{method} needs one" + (" (or a partner grant, for its own nodes and lanes)" if need.partner else "")
        )
    if principal.holds(need.role):
        return
    raise PermissionDenied(
        f"principal {echo(principal.id)} has no {need.role.value} grant on any network; {method} needs one"
    )


class NetworkHidden(ConcertoError):
    """A network of another tenant, or none at all: NOT_FOUND with one message for both."""

    def __init__(self, network_id: str) -> None:
        self.network_id = network_id
        super().__init__(f"network {echo(network_id)} not found: store it first, under your tenant")
