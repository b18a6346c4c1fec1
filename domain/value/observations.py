"""A customer's observations, computed from its raw history: what the cells add up, and what verify checks."""

from __future__ import annotations

from datetime import date, timedelta

from domain.aggregates.periods import local_day, month_start, time_zone
from domain.customer_history import Changes, CustomerHistory, Part
from domain.value.models import NpsCategory, Observation, Outcome, ValueWindow


def observe(history: CustomerHistory, zone: str) -> list[Observation]:
    """One observation per month (of ``zone``) in which the customer gave an NPS: its first such response."""
    tz = time_zone(zone)
    firsts: dict[date, int] = {}
    for n, answer in enumerate(history.answers):  # oldest first
        if answer.nps is not None:
            firsts.setdefault(month_start(local_day(answer.at, tz)), n)
    customer = history.customer
    observations = []
    for month, n in sorted(firsts.items()):
        answer = history.answers[n]
        assert answer.nps is not None
        outcomes = {}
        for window in ValueWindow:
            span = timedelta(days=window.days)
            before: dict[str, int] = {}
            after: dict[str, int] = {}
            repeat = False
            for purchase in history.purchases:
                money = purchase.amount
                if answer.at - span <= purchase.at < answer.at:
                    before[money.currency] = before.get(money.currency, 0) + money.amount_minor
                elif answer.at <= purchase.at < answer.at + span:
                    after[money.currency] = after.get(money.currency, 0) + money.amount_minor
                    repeat = repeat or money.amount_minor > 0
            churned_at = customer.churned_at
            churned = churned_at is not None and answer.at <= churned_at < answer.at + span
            outcomes[window] = Outcome(before, after, repeat, churned)
        observations.append(
            Observation(
                customer_id=customer.id,
                zone=zone,
                month=month,
                feedback_at=answer.at,
                region=answer.region or customer.region,
                segment=answer.segment or customer.segment.value,
                touchpoint=answer.touchpoint.value,
                category=NpsCategory.of(answer.nps),
                outcomes=outcomes,
            )
        )
    return observations


def months_touched(changes: Changes, zone: str) -> set[date] | None:
    """The months whose observation ``changes`` can alter, made to a customer's kept records; None when any
    month's can (the profile, purchases or responses were written other than by inserting responses).

    An observation is its month's first NPS response with the purchases and the profile around it: a
    response inserted can only become the first of its own month, and alerts, cases, interactions and
    opportunities are in none."""
    if changes.profile or {Part.PURCHASES, Part.ANSWERS} & changes.reread:
        return None
    tz = time_zone(zone)
    return {month_start(local_day(a.at, tz)) for a in changes.answers.values() if a.nps is not None}
