"""The rules that give a customer its standing: a priority from 0 to 100, a next best action, and why.

The actions are tried in this order and the first whose rule holds wins:

1. no record of any kind: NONE ("no history");
2. RECOVER: an open alert, an open complaint, or a bad latest score (NPS 0-6 or CSAT 1-2) in the last
   ``RECENT_SCORE_DAYS`` days; fix it first, never offer a sale;
3. a churned customer: NONE;
4. RETAIN: valuable (lifetime value of at least ``VALUABLE_MINOR``) and slipping: a regular buyer with no
   purchase for ``LAPSE_DAYS`` days, spend of the last ``SPEND_WINDOW_DAYS`` days under half that of the
   window before, or an NPS (or CSAT) at least ``SCORE_DROP_POINTS`` below the response before;
5. FOLLOW_UP: a passive (latest NPS 7 or 8 of the last ``SCORE_VALID_DAYS`` days);
6. a promoter (latest NPS 9 or 10 of those days): GROW with an open opportunity and marketing consent,
   else ADVOCATE with consent to be contacted (e-mail, text or phone), else NONE;
7. otherwise NONE ("nothing due").

The priority is the action's base (``BASE``) plus the weights of what made it (``WEIGHTS``) and of the
customer's value, less ``RECENT_CONTACT_WEIGHT`` when someone was in touch in the last
``RECENT_CONTACT_DAYS`` days, kept within 0-100; NONE is always 0. Every comparison with the time is "at
least so many days since", so a standing changes with time alone only at known moments: ``recheck_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.crm.models import OpportunityStage
from domain.customer_history import CustomerHistory
from domain.customers.models import CustomerStatus
from domain.feedback.repository import Answer
from domain.feedback.scores import DETRACTOR_AT_MOST, PROMOTER_AT_LEAST
from domain.money import Money
from domain.standing.models import NextBestAction, Reason, ReasonCode, Standing

RECENT_SCORE_DAYS = 30
SCORE_VALID_DAYS = 365
RECENT_CONTACT_DAYS = 7
LAPSE_DAYS = 60
REGULAR_PURCHASES = 3  # purchases in the year up to the latest one that make a regular buyer
SPEND_WINDOW_DAYS = 90
SCORE_DROP_POINTS = 2
LOW_CSAT_AT_MOST = 2
VALUABLE_MINOR = 100_000  # 1,000.00 in the customer's currency

BASE = {
    NextBestAction.RECOVER: 60,
    NextBestAction.RETAIN: 45,
    NextBestAction.GROW: 35,
    NextBestAction.FOLLOW_UP: 25,
    NextBestAction.ADVOCATE: 20,
    NextBestAction.NONE: 0,
}
WEIGHTS = {
    ReasonCode.OPEN_ALERT: 10,  # per open alert, two at most
    ReasonCode.OPEN_COMPLAINT: 10,
    ReasonCode.RECENT_BAD_SCORE: 5,
    ReasonCode.LAPSED_BUYER: 5,
    ReasonCode.SPEND_DOWN: 5,
    ReasonCode.SCORE_DROP: 5,
}
# Lifetime value (minor units, whatever the currency) from which a customer weighs more, and by how much.
VALUE_WEIGHTS = ((10 * VALUABLE_MINOR, 15), (VALUABLE_MINOR, 10))
RECENT_CONTACT_WEIGHT = 10
MAX_ALERTS_WEIGHED = 2

_YEAR = timedelta(days=365)
_CLOSED = (OpportunityStage.WON, OpportunityStage.LOST)


@dataclass(slots=True)
class _Clock:
    """``now`` and the moments after it at which some rule would change its answer."""

    now: datetime
    moments: list[datetime] = field(default_factory=list)

    def since(self, at: datetime, days: int) -> bool:
        """Whether at least ``days`` days have passed since ``at``; notes when that changes if not yet."""
        turns = at + timedelta(days=days)
        if turns > self.now:
            self.moments.append(turns)
            return False
        return True

    def next_change(self) -> datetime | None:
        return min(self.moments, default=None)


def assess(history: CustomerHistory, now: datetime) -> Standing:
    """The standing of a customer as of ``now``, from its raw history."""
    clock = _Clock(now)
    action, reasons, weight = _decide(history, clock)
    priority = 0
    if action is not NextBestAction.NONE:
        value = _value_weight(history.customer.lifetime_value)
        if value and ReasonCode.HIGH_VALUE not in {r.code for r in reasons}:
            reasons.append(_high_value(history.customer.lifetime_value))
        contact = _last_contact(history)
        if contact is not None and not clock.since(contact, RECENT_CONTACT_DAYS):
            reasons.append(Reason(ReasonCode.RECENT_CONTACT, f"in touch on {contact.date().isoformat()}"))
            weight -= RECENT_CONTACT_WEIGHT
        priority = max(0, min(100, BASE[action] + weight + value))
    customer = history.customer
    return Standing(
        customer_id=customer.id,
        region=customer.region,
        segment=customer.segment.value,
        owner_id=customer.owner_id,
        priority=priority,
        action=action,
        reasons=tuple(reasons),
        detractor_at=tuple(a.at for a in history.answers if a.nps is not None and a.nps <= DETRACTOR_AT_MOST),
        open_alerts=history.open_alerts,
        lifetime_value=customer.lifetime_value,
        computed_at=now,
        recheck_at=clock.next_change(),
    )


def _decide(history: CustomerHistory, clock: _Clock) -> tuple[NextBestAction, list[Reason], int]:
    """The action, the reasons that made it, and their weights (before value and contact)."""
    if not history.has_history:
        return NextBestAction.NONE, [Reason(ReasonCode.NO_HISTORY, "no history")], 0
    answers = [a for a in history.answers if a.at <= clock.now]
    recover = _recovery(history, answers, clock)
    if recover:
        return NextBestAction.RECOVER, recover, sum(_weight(r, history) for r in recover)
    customer = history.customer
    if customer.status is CustomerStatus.CHURNED:
        when = f" on {customer.churned_at.date().isoformat()}" if customer.churned_at else ""
        return NextBestAction.NONE, [Reason(ReasonCode.CHURNED, f"churned{when}")], 0
    slipping = _slipping(history, answers, clock)
    if slipping and customer.lifetime_value.amount_minor >= VALUABLE_MINOR:
        reasons = [_high_value(customer.lifetime_value), *slipping]
        return NextBestAction.RETAIN, reasons, sum(_weight(r, history) for r in slipping)
    latest = _latest_nps(answers, clock)
    if latest is not None and latest.nps is not None and latest.nps < PROMOTER_AT_LEAST:
        if latest.nps > DETRACTOR_AT_MOST:
            return NextBestAction.FOLLOW_UP, [Reason(ReasonCode.PASSIVE, _score_text(latest, "NPS"))], 0
        latest = None
    if latest is not None:
        return _promoter(history, Reason(ReasonCode.PROMOTER, _score_text(latest, "NPS")))
    return NextBestAction.NONE, [Reason(ReasonCode.NOTHING_DUE, "nothing due")], 0


def _recovery(history: CustomerHistory, answers: Sequence[Answer], clock: _Clock) -> list[Reason]:
    reasons = []
    if history.open_alerts:
        n = history.open_alerts
        reasons.append(Reason(ReasonCode.OPEN_ALERT, f"{n} open alert{'s' if n > 1 else ''}"))
    complaints = history.cases.open_complaints if history.cases else 0
    if complaints:
        reasons.append(
            Reason(ReasonCode.OPEN_COMPLAINT, f"{complaints} open complaint{'s' if complaints > 1 else ''}")
        )
    scored = [a for a in answers if a.nps is not None or a.csat is not None]
    if scored and _bad(scored[-1]) and not clock.since(scored[-1].at, RECENT_SCORE_DAYS):
        last = scored[-1]
        score = _score_text(last, "NPS") if last.nps is not None else _score_text(last, "CSAT")
        reasons.append(Reason(ReasonCode.RECENT_BAD_SCORE, score))
    return reasons


def _bad(answer: Answer) -> bool:
    nps_bad = answer.nps is not None and answer.nps <= DETRACTOR_AT_MOST
    return nps_bad or (answer.nps is None and answer.csat is not None and answer.csat <= LOW_CSAT_AT_MOST)


def _slipping(history: CustomerHistory, answers: Sequence[Answer], clock: _Clock) -> list[Reason]:
    """Signs that a customer is drifting away: lapsed buying, falling spend, a falling score."""
    reasons = []
    bought = [p for p in history.purchases if p.amount.amount_minor > 0 and p.at <= clock.now]
    if bought:
        last = bought[-1]
        regular = [p for p in bought if p.at > last.at - _YEAR]
        if len(regular) >= REGULAR_PURCHASES and clock.since(last.at, LAPSE_DAYS):
            text = f"no purchase since {last.at.date().isoformat()}, after {len(regular)} in a year"
            reasons.append(Reason(ReasonCode.LAPSED_BUYER, text))
    currency = history.customer.lifetime_value.currency
    recent = before = 0
    for purchase in history.purchases:
        if purchase.amount.currency != currency or purchase.at > clock.now:
            continue
        if not clock.since(purchase.at, SPEND_WINDOW_DAYS):
            recent += purchase.amount.amount_minor
        elif not clock.since(purchase.at, 2 * SPEND_WINDOW_DAYS):
            before += purchase.amount.amount_minor
    if before > 0 and 2 * recent < before:
        text = (
            f"spent {_money(Money(recent, currency))} in the last {SPEND_WINDOW_DAYS} days against "
            f"{_money(Money(before, currency))} in the {SPEND_WINDOW_DAYS} before"
        )
        reasons.append(Reason(ReasonCode.SPEND_DOWN, text))
    for scale in ("NPS", "CSAT"):
        given = [a for a in answers if _score(a, scale) is not None]
        if len(given) >= 2:
            previous, last_score = _score(given[-2], scale), _score(given[-1], scale)
            if previous is not None and last_score is not None and previous - last_score >= SCORE_DROP_POINTS:
                reasons.append(Reason(ReasonCode.SCORE_DROP, f"{scale} fell from {previous} to {last_score}"))
                break
    return reasons


def _promoter(history: CustomerHistory, promoter: Reason) -> tuple[NextBestAction, list[Reason], int]:
    customer = history.customer
    reasons = [promoter]
    fitting = next((o for o in history.opportunities if o.stage not in _CLOSED), None)
    if fitting is not None:
        if customer.consent.marketing:
            opportunity = f"open opportunity: {fitting.title} ({fitting.stage.value})"
            return NextBestAction.GROW, [*reasons, Reason(ReasonCode.OPEN_OPPORTUNITY, opportunity)], 0
        reasons.append(Reason(ReasonCode.NO_MARKETING_CONSENT, "no marketing consent: no cross-sell"))
    consent = customer.consent
    if consent.email or consent.sms or consent.phone:
        return NextBestAction.ADVOCATE, reasons, 0
    reasons.append(
        Reason(ReasonCode.NO_CONTACT_CONSENT, "no consent to be contacted by e-mail, text or phone")
    )
    return NextBestAction.NONE, reasons, 0


def _latest_nps(answers: Sequence[Answer], clock: _Clock) -> Answer | None:
    """The latest response with an NPS, unless it is over ``SCORE_VALID_DAYS`` days old."""
    latest = next((a for a in reversed(answers) if a.nps is not None), None)
    if latest is None or clock.since(latest.at, SCORE_VALID_DAYS):
        return None
    return latest


def _weight(reason: Reason, history: CustomerHistory) -> int:
    if reason.code is ReasonCode.OPEN_ALERT:
        return WEIGHTS[reason.code] * min(history.open_alerts, MAX_ALERTS_WEIGHED)
    return WEIGHTS.get(reason.code, 0)


def _value_weight(value: Money) -> int:
    return next((weight for least, weight in VALUE_WEIGHTS if value.amount_minor >= least), 0)


def _high_value(value: Money) -> Reason:
    return Reason(ReasonCode.HIGH_VALUE, f"lifetime value {_money(value)}")


def _last_contact(history: CustomerHistory) -> datetime | None:
    times = [
        history.last_interaction_at,
        history.cases.latest if history.cases else None,
        history.answers[-1].at if history.answers else None,
    ]
    return max((t for t in times if t is not None), default=None)


def _score(answer: Answer, scale: str) -> int | None:
    return answer.nps if scale == "NPS" else answer.csat


def _score_text(answer: Answer, scale: str) -> str:
    return f"{scale} {_score(answer, scale)} on {answer.at.date().isoformat()}"


def _money(money: Money) -> str:
    return f"{money.amount:,.2f} {money.currency}"
