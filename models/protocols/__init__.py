"""Decision protocols as constraints: which function may act on which signal, up to what spend,
and which decisions must be escalated, to whom, and how long that takes.

A `ProtocolSet` (`spec`) holds authority rules (function, action kind, spend limit, hard cap,
approver, escalation delay, governance cost) and signal rules that activate them; `validation`
checks it. `resolve_authority` (`activation`) turns the rules active under a set of signals into
`AuthorityGroup`s; `action_columns` and `assign_columns` (`columns`) find the model columns each
group governs; `define_authority` (`constraints`) adds them to the allocation model;
`extract_decisions` (`decisions`) reads every action of a solved plan as a `Decision`.
"""

from models.protocols.activation import AuthorityGroup, matches, resolve_authority
from models.protocols.columns import (
    ActionColumns,
    GroupColumns,
    action_columns,
    assign_columns,
    block_columns,
    covered_entities,
)
from models.protocols.constraints import FINANCE, GOVERNANCE, define_authority, define_capital_release
from models.protocols.decisions import AuthoritySpend, AuthorityStatus, Decision, extract_decisions
from models.protocols.spec import (
    OWNER,
    ActionKind,
    Approver,
    AuthorityRule,
    Function,
    OnExpiry,
    OnReject,
    Predicate,
    ProtocolSet,
    Role,
    SignalRule,
)
from models.protocols.validation import validate_against_network, validate_protocols

__all__ = [
    "FINANCE",
    "GOVERNANCE",
    "OWNER",
    "ActionColumns",
    "ActionKind",
    "Approver",
    "AuthorityGroup",
    "AuthorityRule",
    "AuthoritySpend",
    "AuthorityStatus",
    "Decision",
    "Function",
    "GroupColumns",
    "OnExpiry",
    "OnReject",
    "Predicate",
    "ProtocolSet",
    "Role",
    "SignalRule",
    "action_columns",
    "assign_columns",
    "block_columns",
    "covered_entities",
    "define_authority",
    "define_capital_release",
    "extract_decisions",
    "matches",
    "resolve_authority",
    "validate_against_network",
    "validate_protocols",
]
