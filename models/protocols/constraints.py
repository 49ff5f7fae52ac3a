"""The authority constraint families: limits, escalations, spend before an escalation takes effect,
and the bound on actions no active rule authorizes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from models.builder import Axis, ModelBuilder
from models.costs import CostComponent
from models.network import Network
from models.protocols.activation import AuthorityGroup
from models.protocols.columns import GroupColumns, assign_columns
from models.protocols.spec import ActionKind, ProtocolSet

GOVERNANCE = CostComponent.GOVERNANCE
FINANCE = CostComponent.FINANCE


# The constraint families


def define_capital_release(b: ModelBuilder, net: Network) -> None:
    """Working capital released beyond the cap, when a protocol governs it.

        sum_p unit_value[item(p)] inv[p,t] - release[t] <= working_capital_cap   (working_capital)
        release[t] >= 0,  cost capital_cost_rate * release[t]                        (finance)

    Adds `release` to the existing working-capital rows through the builder's term list.
    """
    H = net.horizon
    n = 1 if b.constraints["working_capital"].size > 0 else 0
    release = b.add_variables("capital_release", (n, H), axes=(Axis.labelled("network", ["all"][:n]), Axis.periods(H)))
    if not n:
        return
    b.add_cost(FINANCE, release, net.capital_cost_rate)
    b.add_terms("working_capital", np.arange(H), release[0], -1.0)


def define_authority(
    b: ModelBuilder, net: Network, protocols: ProtocolSet, groups: Sequence[AuthorityGroup]
) -> list[GroupColumns]:
    """Authority limits, escalations and unauthorized actions, for every active group g with
    action spend k_g . x_g and escalation binary e_j(g) (shared by rules with one joint approver):

        sum_i k_gi x_gi - (U_g - L_g) e_j(g) <= L_g                             (authority_limit)
        sum_{i: 0 <= t_i < d_g} k_gi x_gi + sum_b activation_b early_gb <= L_g   groups with d_g > 0
                                                                   (authority_before_escalation)
        buy[b,t] - cap[b,t] early_gb <= 0   backup offers b of g, t < d_g     (early_activation_link)
        x_i = 0 for every column of a governed action kind no active group covers

    d_g is the first period an escalation may take effect (detection + delay). The governance cost
    of escalation j is charged once: governance_j e_j (governance). A backup activated before d_g
    must fit within the limit with the purchases made before d_g, so it gets an `early` binary.
    """
    H = net.horizon
    if ActionKind.WORKING_CAPITAL_RELEASE in protocols.governed():
        define_capital_release(b, net)
    assigned, unauthorized = assign_columns(groups, b.variables, net, protocols.governed())
    b.restrict_upper(unauthorized, 0.0)

    n_escalations = 1 + max((g.escalation for g in groups), default=-1)
    governance = np.zeros(n_escalations)
    approvers = [""] * n_escalations
    for g in groups:
        governance[g.escalation] = max(governance[g.escalation], g.rule.governance_cost)
        approvers[g.escalation] = g.rule.approver.label
    escalate = b.add_variables(
        "escalate", (n_escalations,), upper=1.0, integer=True, axes=(Axis.labelled("approval", approvers),)
    )
    b.add_cost(GOVERNANCE, escalate, governance)

    limits = np.array([gc.group.rule.spend_limit for gc in assigned])
    caps = np.array([gc.group.rule.hard_cap for gc in assigned])
    rules = [gc.group.rule.id for gc in assigned]
    b.add_constraints(
        "authority_limit",
        (len(assigned),),
        [(np.full(len(gc.columns.columns), k), gc.columns.columns, gc.columns.spend) for k, gc in enumerate(assigned)]
        + [
            (np.arange(len(assigned)), escalate[[gc.group.escalation for gc in assigned]], -(caps - limits)),
        ],
        upper=limits,
        axes=(Axis.labelled("rule", rules),),
    )

    # Groups whose escalation cannot take effect at once also limit what is spent before it does.
    delayed = [k for k, gc in enumerate(assigned) if gc.group.effective_period > 0]
    early_of: list[tuple[int, int]] = []  # (row among the delayed groups, backup offer index)
    before_terms: list[tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]] = []
    for row, k in enumerate(delayed):
        cols, d = assigned[k].columns, assigned[k].group.effective_period
        before = (cols.period >= 0) & (cols.period < d)
        before_terms.append((np.full(int(before.sum()), row), cols.columns[before], cols.spend[before]))
        if assigned[k].group.rule.action == ActionKind.BACKUP_ACTIVATION:
            early_of.extend((row, int(o)) for o in cols.entity[cols.period < 0])
    early_row = np.array([e[0] for e in early_of], dtype=np.int64)
    early_offer = np.array([e[1] for e in early_of], dtype=np.int64)
    early = b.add_variables(
        "early_activation",
        (len(early_of),),
        upper=1.0,
        integer=True,
        axes=(
            Axis.labelled(
                "rule_offer", [f"{rules[delayed[r]]}:{net.offer_ids[o]}" for r, o in zip(early_row, early_offer)]
            ),
        ),
    )
    before_terms.append((early_row, early, net.offer_activation_cost[early_offer]))
    b.add_constraints(
        "authority_before_escalation",
        (len(delayed),),
        before_terms,
        upper=limits[delayed],
        axes=(Axis.labelled("rule", [rules[k] for k in delayed]),),
    )

    until = np.array([assigned[delayed[r]].group.effective_period for r in early_row], dtype=np.int64)
    cell_early, cell_t = np.nonzero(np.arange(H)[None, :] < until[:, None])
    b.add_constraints(
        "early_activation_link",
        (len(cell_early),),
        [
            (np.arange(len(cell_early)), b.columns("buy")[early_offer[cell_early], cell_t], 1.0),
            (np.arange(len(cell_early)), early[cell_early], -net.offer_capacity[early_offer[cell_early], cell_t]),
        ],
        upper=0.0,
        axes=(
            Axis.labelled(
                "rule_offer_t",
                [
                    f"{rules[delayed[early_row[e]]]}:{net.offer_ids[early_offer[e]]}@{t}"
                    for e, t in zip(cell_early, cell_t)
                ],
            ),
        ),
    )
    return assigned
