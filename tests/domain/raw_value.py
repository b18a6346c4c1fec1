"""Experience value computed straight from raw customers, responses and purchases, the plain way: what the
cells must add up to. No code is shared with ``domain/value`` or ``domain/aggregates/experience_value``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

from domain.aggregates.experience_value import Spend, ValueQuery, ValueRow, ValueRowFigures
from domain.aggregates.periods import Interval, Period
from domain.value.models import NpsCategory


@dataclass(frozen=True)
class RawResponse:
    customer: str
    at: datetime
    nps: int | None
    touchpoint: str
    region: str
    segment: str


@dataclass(frozen=True)
class RawPurchase:
    customer: str
    at: datetime
    amount: int  # minor units
    currency: str


def _category(nps: int) -> NpsCategory:
    return NpsCategory.PROMOTER if nps >= 9 else NpsCategory.PASSIVE if nps >= 7 else NpsCategory.DETRACTOR


def _bucket(month: date, period: Period, interval: Interval | None) -> date:
    if interval is Interval.MONTH:
        return month
    if interval is Interval.QUARTER:
        return date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
    return period.first


def _last_day(start: date, period: Period, interval: Interval | None) -> date:
    if interval is None:
        return period.last
    months = 1 if interval is Interval.MONTH else 3
    index = start.year * 12 + start.month - 1 + months
    return min(date(index // 12, index % 12 + 1, 1) - timedelta(days=1), period.last)


def _rate(part: int, whole: int) -> float | None:
    return float(round(Fraction(part, whole), 4)) if whole else None


def _cents(total: int, customers: int) -> Decimal:
    return Decimal(round(Fraction(total, customers))) / 100


@dataclass
class _Totals:
    customers: int = 0
    repeat: int = 0
    churned: int = 0
    spend: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def figures(self) -> ValueRowFigures:
        n = self.customers
        return ValueRowFigures(
            customers=n,
            repeat_purchasers=self.repeat,
            repeat_purchase_rate=_rate(self.repeat, n),
            churned=self.churned,
            churn_rate=_rate(self.churned, n),
            spend=tuple(
                Spend(c, Decimal(b) / 100, Decimal(a) / 100, _cents(b, n), _cents(a, n))
                for c, (b, a) in sorted(self.spend.items())
                if b or a
            ),
        )


def raw_value(
    responses: list[RawResponse],
    purchases: list[RawPurchase],
    churned: dict[str, datetime],
    query: ValueQuery,
    *,
    now: datetime,
    min_customers: int,
    regions: tuple[str, ...] | None = None,
) -> list[ValueRow]:
    """Exact experience value (UTC months) of the customers of ``regions`` (all when None)."""
    where, window = query.filter, timedelta(days=query.filter.window.days)
    period = where.period
    firsts: dict[tuple[str, date], RawResponse] = {}
    for response in sorted(responses, key=lambda r: r.at):
        if response.nps is not None:
            firsts.setdefault((response.customer, response.at.date().replace(day=1)), response)
    sums: dict[tuple[date, tuple[str, ...], NpsCategory], _Totals] = {}
    asked = {"region": where.regions, "segment": where.segments, "touchpoint": where.touchpoints}
    for (customer, month), r in firsts.items():
        values = {"region": r.region, "segment": r.segment, "touchpoint": r.touchpoint}
        if not period.first <= month <= period.last or (regions is not None and r.region not in regions):
            continue
        if any(wanted and values[k] not in wanted for k, wanted in asked.items()):
            continue
        assert r.nps is not None
        group = tuple(values[a.value] for a in query.group_by)
        totals = sums.setdefault((_bucket(month, period, query.interval), group, _category(r.nps)), _Totals())
        totals.customers += 1
        for p in purchases:
            if p.customer != customer:
                continue
            if r.at - window <= p.at < r.at:
                totals.spend[p.currency][0] += p.amount
            elif r.at <= p.at < r.at + window:
                totals.spend[p.currency][1] += p.amount
        totals.repeat += any(
            p.customer == customer and r.at <= p.at < r.at + window and p.amount > 0 for p in purchases
        )
        gone = churned.get(customer)
        totals.churned += gone is not None and r.at <= gone < r.at + window
    rows = []
    order = list(NpsCategory)
    for (start, group, category), totals in sorted(
        sums.items(), key=lambda kv: (kv[0][0], kv[0][1], order.index(kv[0][2]))
    ):
        last = _last_day(start, period, query.interval)
        ends = datetime.combine(last + timedelta(days=1), time(), UTC)
        rows.append(
            ValueRow(
                period=Period(max(start, period.first), last),
                values=dict(zip(query.group_by, group, strict=True)),
                category=category,
                complete=now >= ends + window,
                figures=totals.figures() if totals.customers >= min_customers else None,
            )
        )
    return rows
