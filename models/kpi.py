"""Network-level metrics of a plan: fill rate by priority tier, perfect order rate, order
fulfilment cycle time, inventory turnover, cash-to-cash cycle and cost by component.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.costs import NOT_BUSINESS_COST, CostComponent
from models.network import Network

HOURS_PER_YEAR = 8760.0
HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class Kpis:
    """The metrics of one plan, each defined in `compute_kpis`. The objective is
    `total_cost - revenue`; `total_cost` sums every cost component but revenue."""

    total_cost: float
    revenue: float
    cost_by_component: dict[str, float]
    demand: float
    delivered: float
    fill_rate: float
    fill_rate_by_priority: dict[int, float]
    perfect_order_rate: float
    order_fulfilment_cycle_time_hours: float
    inventory_turnover: float
    cash_to_cash_days: float
    days_inventory: float
    days_receivable: float
    days_payable: float

    def lines(self) -> list[str]:
        tiers = ", ".join(f"P{k} {v:.1%}" for k, v in sorted(self.fill_rate_by_priority.items()))
        return [
            f"fill rate {self.fill_rate:.1%} ({tiers}); perfect order rate {self.perfect_order_rate:.1%}",
            f"order fulfilment cycle time {self.order_fulfilment_cycle_time_hours:,.1f} h; "
            f"inventory turnover {self.inventory_turnover:,.2f}/year; cash-to-cash {self.cash_to_cash_days:,.1f} days",
        ]


def _ratio(num: float, den: float) -> float:
    return num / den if den > 1e-12 else 0.0


def compute_kpis(
    net: Network,
    values: dict[str, npt.NDArray[np.float64]],
    delivered: npt.NDArray[np.float64],
    cost_by_component: dict[str, float],
) -> Kpis:
    """Metrics of a plan, from the dense values of its blocks and the deliveries per stream.

    - fill rate: delivered / demand over the horizon, overall and per priority tier;
    - perfect order rate: share of demand lines (stream, period with demand > 0) delivered complete
      and on time, i.e. nothing of the stream is owed or given up at the end of that period (with
      first-in first-out service, anything still owed then includes that period's line);
    - order fulfilment cycle time: time from a line's period to its delivery, by Little's law the
      backlog held (unit-periods) per delivered unit, plus the flow-weighted lead time of the lanes
      that deliver to customers, in hours;
    - inventory turnover: value of delivered goods over average stock value, per year;
    - cash-to-cash: days of inventory + days receivable (revenue-weighted receivable days) - days
      payable (spend-weighted supplier payment days).
    """
    period_hours = net.period_hours
    horizon_days = net.horizon * period_hours / HOURS_PER_DAY
    demand = net.demand_qty
    backlog, lost = values["backlog"], values["lost"]
    total_demand = float(demand.sum())
    total_delivered = float(delivered.sum())

    tiers = np.unique(net.demand_priority)
    by_tier = {
        int(k): _ratio(float(delivered[net.demand_priority == k].sum()), float(demand[net.demand_priority == k].sum()))
        for k in tiers
    }
    lines = demand > 1e-9
    perfect = lines & (backlog <= 1e-6) & (lost <= 1e-6)

    ship = values["ship"]
    stream = net.demand_index(net.lane_destination[net.arc_lane], net.arc_item)
    transit = net.arc_arrival() - np.arange(net.horizon)[None, :]
    last_mile = float((ship[stream >= 0] * transit[stream >= 0]).sum())
    cycle_periods = _ratio(float(backlog.sum()) + float(last_mile), total_delivered)

    item_value = net.item_value
    cogs = float((delivered.sum(axis=1) * item_value[net.demand_item]).sum())
    stock_value = values["inv"].T @ item_value[net.position_item]
    avg_stock_value = float(stock_value.mean()) if stock_value.size else 0.0
    horizon_years = net.horizon * period_hours / HOURS_PER_YEAR
    turnover = _ratio(cogs, avg_stock_value) / horizon_years if avg_stock_value > 0 else 0.0

    revenue_by_stream = delivered.sum(axis=1) * net.demand_price
    spend_by_offer = values["buy"].sum(axis=1) * net.offer_cost
    days_inventory = _ratio(avg_stock_value, cogs / horizon_days) if cogs > 0 else 0.0
    days_receivable = _ratio(float(revenue_by_stream @ net.demand_receivable_days), float(revenue_by_stream.sum()))
    days_payable = _ratio(float(spend_by_offer @ net.offer_payment_days), float(spend_by_offer.sum()))

    return Kpis(
        total_cost=float(sum(v for k, v in cost_by_component.items() if k not in NOT_BUSINESS_COST)),
        revenue=-float(cost_by_component.get(CostComponent.REVENUE, 0.0)),
        cost_by_component=dict(cost_by_component),
        demand=total_demand,
        delivered=total_delivered,
        fill_rate=_ratio(total_delivered, total_demand) if total_demand > 0 else 1.0,
        fill_rate_by_priority=by_tier,
        perfect_order_rate=_ratio(float(perfect.sum()), float(lines.sum())) if lines.any() else 1.0,
        order_fulfilment_cycle_time_hours=cycle_periods * period_hours,
        inventory_turnover=turnover,
        cash_to_cash_days=days_inventory + days_receivable - days_payable,
        days_inventory=days_inventory,
        days_receivable=days_receivable,
        days_payable=days_payable,
    )
