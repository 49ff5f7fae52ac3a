"""Plans: concerto.v1.PlanResult <-> `models.plan.Plan`, its tables by `models.plan.PLAN_TABLES`,
its decisions, authority spend, metrics and solve statistics.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from google.protobuf.message import Message

from models.kpi import Kpis
from models.plan import PLAN_TABLES, Plan, PlanTable, SolveStats, Table
from models.protocols import (
    AuthoritySpend,
    Decision,
)
from models.solution import SolveStatus
from solver._proto.concerto.v1 import plan_pb2
from solver.convert._common import (
    _ACTION_CHOICES,
    _ACTION_FROM_PROTO,
    _ACTION_TO_PROTO,
    _AUTHORITY_STATUS_CHOICES,
    _AUTHORITY_STATUS_FROM_PROTO,
    _AUTHORITY_STATUS_TO_PROTO,
    _FUNCTION_CHOICES,
    _FUNCTION_FROM_PROTO,
    _FUNCTION_TO_PROTO,
    _SOLVE_STATUS_CHOICES,
    _SOLVE_STATUS_FROM_PROTO,
    _SOLVE_STATUS_TO_PROTO,
    _components,
    _enum_to_domain,
    _enum_to_proto,
)
from solver.convert.wire import encode_rows


def plan_to_proto(plan: Plan) -> plan_pb2.PlanResult:
    """The `PlanResult` message of a plan; `plan_from_proto` gives the same plan back, but for
    `values` (the dense solution stays on the server). Kpis travel without their cost by component,
    which is the plan's. Every table of `PLAN_TABLES` goes to the message field of its name."""
    where = {"entity": "plan", "ident": plan.network}
    msg = plan_pb2.PlanResult(
        network=plan.network,
        horizon=plan.horizon,
        period_hours=plan.period_hours,
        status=_enum_to_proto(_SOLVE_STATUS_TO_PROTO, plan.status, field="status", kind="SolveStatus", **where),
        objective=plan.objective,
        bound=plan.bound,
        gap=plan.gap,
        cost_by_component=plan.cost_by_component,
        decisions=[_decision_to_proto(d, k, plan.network) for k, d in enumerate(plan.decisions)],
        authority=[_authority_spend_to_proto(a, k, plan.network) for k, a in enumerate(plan.authority)],
        kpis=_kpis_to_proto(plan.kpis) if plan.kpis is not None else None,
        stats=_stats_to_proto(plan.stats),
        message=plan.message,
    )
    fields = plan_pb2.PlanResult.DESCRIPTOR.fields_by_name
    encoded: list[bytes] = []
    for layout in PLAN_TABLES:
        table = layout.of(plan)
        rows = encode_rows(fields[layout.name], table.columns, len(table))
        if rows is None:
            _table_to_proto(table, layout, getattr(msg, layout.name))
        else:
            encoded.append(rows)
    msg.MergeFromString(b"".join(encoded))  # the tables' rows, parsed by protobuf (`solver.convert.wire`)
    return msg


def plan_from_proto(msg: plan_pb2.PlanResult) -> Plan:
    """The plan a `PlanResult` message describes, its tables laid out as `extract_plan` lays them out
    (an empty table keeps its named columns), `values` empty. Raises `ValidationError` on entity
    "plan" (id: the network) for an unset or unknown status, function or action kind, naming the
    field, e.g. "decisions[3].status"."""
    where = {"entity": "plan", "ident": msg.network}
    status = solve_status_from_proto(msg.status, **where)
    cost_by_component = _components(msg.cost_by_component)
    tables: dict[str, Any] = {table.name: _table_to_domain(getattr(msg, table.name), table) for table in PLAN_TABLES}
    return Plan(
        network=msg.network,
        horizon=int(msg.horizon),
        period_hours=msg.period_hours,
        status=status,
        objective=msg.objective,
        bound=msg.bound,
        gap=msg.gap,
        cost_by_component=cost_by_component,
        **tables,
        kpis=_kpis_to_domain(msg.kpis, cost_by_component) if msg.HasField("kpis") else None,
        stats=_stats_to_domain(msg.stats),
        message=msg.message,
        decisions=tuple(_decision_to_domain(m, k, msg.network) for k, m in enumerate(msg.decisions)),
        authority=tuple(_authority_spend_to_domain(m, k, msg.network) for k, m in enumerate(msg.authority)),
    )


def solve_status_to_proto(status: SolveStatus | str) -> plan_pb2.SolveStatus:
    """A solve status (or a stored status string, a `SolveStatus` value) as the proto enum."""
    return _SOLVE_STATUS_TO_PROTO[SolveStatus(status)]


def solve_status_from_proto(
    value: plan_pb2.SolveStatus, *, entity: str = "plan", ident: str = "", field: str = "status"
) -> SolveStatus:
    """The solve status of a proto enum number; unset or unknown raises `ValidationError` naming
    `field` of `entity` `ident`. The inverse of `solve_status_to_proto`."""
    return _enum_to_domain(
        _SOLVE_STATUS_FROM_PROTO,
        value,
        _SOLVE_STATUS_CHOICES,
        entity=entity,
        ident=ident,
        field=field,
        kind="solve status",
    )


def decision_to_proto(decision: Decision, *, index: int = 0, network: str = "") -> plan_pb2.Decision:
    """The `Decision` message of one decision (`index` and `network` name it in errors);
    `decision_from_proto` gives it back."""
    return _decision_to_proto(decision, index, network)


def decision_from_proto(msg: plan_pb2.Decision, *, index: int = 0, network: str = "") -> Decision:
    """The decision a `Decision` message describes; unset or unknown enums raise `ValidationError`
    naming "decisions[index]"."""
    return _decision_to_domain(msg, index, network)


def _table_to_proto(table: Table, layout: PlanTable, rows: Any) -> None:
    """Add one row message per table row to `rows` (the message's repeated field); a table without
    rows (with or without columns) adds none. The path for what `encode_rows` does not cover."""
    if not len(table):
        return
    names = layout.column_names
    for values in zip(*(table.columns[name].tolist() for name in names)):
        rows.add(**dict(zip(names, values)))


def _table_to_domain(messages: Iterable[Message], layout: PlanTable) -> Table:
    """The table of row messages, every column present (zero-length when there are no rows)."""
    rows = list(messages)
    columns: dict[str, npt.NDArray[Any]] = {
        name: np.array([getattr(m, name) for m in rows], dtype=dtype) for name, dtype in layout.columns
    }
    return Table(columns)


def _decision_to_proto(decision: Decision, k: int, network: str) -> plan_pb2.Decision:
    where = {"entity": "plan", "ident": network}
    return plan_pb2.Decision(
        function=_enum_to_proto(
            _FUNCTION_TO_PROTO, decision.function, field=f"decisions[{k}].function", kind="Function", **where
        ),
        action=_enum_to_proto(
            _ACTION_TO_PROTO, decision.action, field=f"decisions[{k}].action", kind="ActionKind", **where
        ),
        resource=decision.resource,
        item=decision.item,
        period=decision.period,
        quantity=decision.quantity,
        unit=decision.unit,
        cost=decision.cost,
        status=_enum_to_proto(
            _AUTHORITY_STATUS_TO_PROTO, decision.status, field=f"decisions[{k}].status", kind="AuthorityStatus", **where
        ),
        approver=decision.approver,
        effective_hours=decision.effective_hours,
        rule=decision.rule,
        signals=list(decision.signals),
    )


def _decision_to_domain(msg: plan_pb2.Decision, k: int, network: str) -> Decision:
    where = {"entity": "plan", "ident": network}
    return Decision(
        function=_enum_to_domain(
            _FUNCTION_FROM_PROTO,
            msg.function,
            _FUNCTION_CHOICES,
            field=f"decisions[{k}].function",
            kind="function",
            **where,
        ),
        action=_enum_to_domain(
            _ACTION_FROM_PROTO, msg.action, _ACTION_CHOICES, field=f"decisions[{k}].action", kind="action kind", **where
        ),
        resource=msg.resource,
        item=msg.item,
        period=int(msg.period),
        quantity=msg.quantity,
        unit=msg.unit,
        cost=msg.cost,
        status=_enum_to_domain(
            _AUTHORITY_STATUS_FROM_PROTO,
            msg.status,
            _AUTHORITY_STATUS_CHOICES,
            field=f"decisions[{k}].status",
            kind="authority status",
            **where,
        ),
        approver=msg.approver,
        effective_hours=msg.effective_hours,
        rule=msg.rule,
        signals=tuple(msg.signals),
    )


def _authority_spend_to_proto(spend: AuthoritySpend, k: int, network: str) -> plan_pb2.AuthoritySpend:
    where = {"entity": "plan", "ident": network}
    return plan_pb2.AuthoritySpend(
        rule=spend.rule,
        function=_enum_to_proto(
            _FUNCTION_TO_PROTO, spend.function, field=f"authority[{k}].function", kind="Function", **where
        ),
        action=_enum_to_proto(
            _ACTION_TO_PROTO, spend.action, field=f"authority[{k}].action", kind="ActionKind", **where
        ),
        spend=spend.spend,
        limit=spend.limit,
        cap=spend.cap,
        escalated=spend.escalated,
        approver=spend.approver,
        effective_hours=spend.effective_hours,
        signals=list(spend.signals),
    )


def _authority_spend_to_domain(msg: plan_pb2.AuthoritySpend, k: int, network: str) -> AuthoritySpend:
    where = {"entity": "plan", "ident": network}
    return AuthoritySpend(
        rule=msg.rule,
        function=_enum_to_domain(
            _FUNCTION_FROM_PROTO,
            msg.function,
            _FUNCTION_CHOICES,
            field=f"authority[{k}].function",
            kind="function",
            **where,
        ),
        action=_enum_to_domain(
            _ACTION_FROM_PROTO, msg.action, _ACTION_CHOICES, field=f"authority[{k}].action", kind="action kind", **where
        ),
        spend=msg.spend,
        limit=msg.limit,
        cap=msg.cap,
        escalated=msg.escalated,
        approver=msg.approver,
        effective_hours=msg.effective_hours,
        signals=tuple(msg.signals),
    )


def _kpis_to_proto(kpis: Kpis) -> plan_pb2.Kpis:
    return plan_pb2.Kpis(
        total_cost=kpis.total_cost,
        revenue=kpis.revenue,
        demand=kpis.demand,
        delivered=kpis.delivered,
        fill_rate=kpis.fill_rate,
        fill_rate_by_priority=kpis.fill_rate_by_priority,
        perfect_order_rate=kpis.perfect_order_rate,
        order_fulfilment_cycle_time_hours=kpis.order_fulfilment_cycle_time_hours,
        inventory_turnover=kpis.inventory_turnover,
        cash_to_cash_days=kpis.cash_to_cash_days,
        days_inventory=kpis.days_inventory,
        days_receivable=kpis.days_receivable,
        days_payable=kpis.days_payable,
    )


def _kpis_to_domain(msg: plan_pb2.Kpis, cost_by_component: dict[str, float]) -> Kpis:
    """The plan's metrics; their cost by component is the plan's (`compute_kpis` copies it)."""
    return Kpis(
        total_cost=msg.total_cost,
        revenue=msg.revenue,
        cost_by_component=dict(cost_by_component),
        demand=msg.demand,
        delivered=msg.delivered,
        fill_rate=msg.fill_rate,
        fill_rate_by_priority={int(k): msg.fill_rate_by_priority[k] for k in sorted(msg.fill_rate_by_priority)},
        perfect_order_rate=msg.perfect_order_rate,
        order_fulfilment_cycle_time_hours=msg.order_fulfilment_cycle_time_hours,
        inventory_turnover=msg.inventory_turnover,
        cash_to_cash_days=msg.cash_to_cash_days,
        days_inventory=msg.days_inventory,
        days_receivable=msg.days_receivable,
        days_payable=msg.days_payable,
    )


def _stats_to_proto(stats: SolveStats) -> plan_pb2.SolveStats:
    return plan_pb2.SolveStats(
        columns=stats.n_cols,
        rows=stats.n_rows,
        nonzeros=stats.nnz,
        integer_columns=stats.n_integer,
        build_seconds=stats.build_seconds,
        handoff_seconds=stats.handoff_seconds,
        solve_seconds=stats.solve_seconds,
        backend=stats.backend,
        backend_version=stats.backend_version,
        method=stats.method,
        method_stats=stats.method_stats,
    )


def _stats_to_domain(msg: plan_pb2.SolveStats) -> SolveStats:
    return SolveStats(
        n_cols=int(msg.columns),
        n_rows=int(msg.rows),
        nnz=int(msg.nonzeros),
        n_integer=int(msg.integer_columns),
        build_seconds=msg.build_seconds,
        handoff_seconds=msg.handoff_seconds,
        solve_seconds=msg.solve_seconds,
        backend=msg.backend,
        backend_version=msg.backend_version,
        method=msg.method or "milp",
        method_stats=dict(msg.method_stats),
    )
