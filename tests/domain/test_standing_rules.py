"""The standing rules, one by one: each action is reached, each exclusion holds, and time changes a standing
only at the moment it says it will."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.crm.models import OpportunityStage
from domain.crm.repository import CaseSummary, Purchase
from domain.customer_history import CustomerHistory, Records
from domain.customers.models import Consent, CustomerStatus, Tier
from domain.feedback.models import Touchpoint
from domain.feedback.repository import Answer
from domain.money import Money
from domain.standing.models import NextBestAction as Action
from domain.standing.models import ReasonCode as Code
from domain.standing.models import Standing
from domain.standing.rules import assess
from tests import factories as f

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def answer(days_ago: float, nps: int | None = None, csat: int | None = None) -> Answer:
    return Answer(f.next_id(), NOW - days_ago * DAY, nps, csat, Touchpoint.DELIVERY, "north", "MASS")


def bought(days_ago: float, amount: int = 50_00) -> Purchase:
    return Purchase(NOW - days_ago * DAY, Money(amount, "EUR"))


def history(
    *,
    answers: tuple[Answer, ...] = (),
    purchases: tuple[Purchase, ...] = (),
    open_alerts: int = 0,
    open_complaints: int | None = None,
    contact_days_ago: float | None = None,
    opportunity: OpportunityStage | None = None,
    value: int = 500_00,
    **customer: Any,
) -> CustomerHistory:
    profile = f.customer(lifetime_value=Money(value, "EUR"), **customer)
    cases = CaseSummary(NOW - 200 * DAY, open_complaints) if open_complaints is not None else None
    opportunities = (f.opportunity(profile, stage=opportunity),) if opportunity else ()
    contact = NOW - contact_days_ago * DAY if contact_days_ago is not None else None
    records = Records(
        purchases=tuple(sorted(purchases, key=lambda p: p.at)),
        answers=tuple(sorted(answers, key=lambda a: a.at)),
        open_alert_ids=frozenset(f"alert{n}" for n in range(open_alerts)),
        cases=cases,
        last_interaction_at=contact,
        opportunities=opportunities,
    )
    return CustomerHistory(profile, records)


def codes(standing: Standing) -> list[Code]:
    return [r.code for r in standing.reasons]


def test_a_customer_with_no_history_has_nothing_to_do() -> None:
    standing = assess(history(), NOW)
    assert (standing.action, standing.priority) == (Action.NONE, 0)
    assert [(r.code, r.text) for r in standing.reasons] == [(Code.NO_HISTORY, "no history")]
    assert standing.recheck_at is None


class TestRecover:
    def test_an_open_alert(self) -> None:
        standing = assess(history(open_alerts=1, answers=(answer(100, nps=9),)), NOW)
        assert standing.action is Action.RECOVER
        assert standing.reasons[0].text == "1 open alert"

    def test_an_open_complaint(self) -> None:
        standing = assess(history(open_complaints=2), NOW)
        assert standing.action is Action.RECOVER
        assert codes(standing) == [Code.OPEN_COMPLAINT]

    def test_a_recent_detractor(self) -> None:
        standing = assess(history(answers=(answer(29, nps=3),)), NOW)
        assert standing.action is Action.RECOVER
        assert standing.reasons[0].code is Code.RECENT_BAD_SCORE
        assert standing.reasons[0].text.startswith("NPS 3 on ")
        assert standing.recheck_at == NOW + DAY  # the day the score stops being recent

    def test_a_recent_bad_csat_without_an_nps(self) -> None:
        assert assess(history(answers=(answer(2, csat=1),)), NOW).action is Action.RECOVER

    def test_not_once_the_bad_score_is_older_than_thirty_days(self) -> None:
        standing = assess(history(answers=(answer(31, nps=3),)), NOW)
        assert standing.action is Action.NONE
        assert codes(standing) == [Code.NOTHING_DUE]

    def test_weighs_every_open_alert_up_to_two_and_the_complaints(self) -> None:
        one = assess(history(open_alerts=1), NOW)
        three = assess(history(open_alerts=3, open_complaints=1, answers=(answer(1, nps=0),)), NOW)
        # 60 + 10; 60 + 20 + 10 + 5, less 10 as the response itself was a contact yesterday.
        assert (one.priority, three.priority) == (70, 85)

    def test_before_any_sale_even_to_a_promoter_with_consent_and_an_opportunity(self) -> None:
        promoter = history(
            answers=(answer(5, nps=10),),
            opportunity=OpportunityStage.PROPOSAL,
            consent=Consent(email=True, marketing=True),
            open_alerts=1,
        )
        assert assess(promoter, NOW).action is Action.RECOVER

    def test_even_a_churned_customer(self) -> None:
        churned = history(open_alerts=1, status=CustomerStatus.CHURNED, churned_at=NOW - 10 * DAY)
        assert assess(churned, NOW).action is Action.RECOVER


def test_a_churned_customer_otherwise_has_nothing_to_do() -> None:
    churned = history(answers=(answer(3, nps=8),), status=CustomerStatus.CHURNED, churned_at=NOW - 10 * DAY)
    standing = assess(churned, NOW)
    assert (standing.action, codes(standing)) == (Action.NONE, [Code.CHURNED])


class TestRetain:
    REGULAR = (bought(200), bought(150), bought(100), bought(70))

    def test_a_valuable_regular_buyer_who_stopped_buying(self) -> None:
        standing = assess(history(purchases=self.REGULAR, value=5000_00), NOW)
        assert standing.action is Action.RETAIN
        assert codes(standing)[:2] == [Code.HIGH_VALUE, Code.LAPSED_BUYER]
        assert standing.priority == 45 + 5 + 10

    def test_not_before_sixty_days_without_a_purchase(self) -> None:
        recent = (*self.REGULAR[:3], bought(59))
        standing = assess(history(purchases=recent, value=5000_00), NOW)
        assert standing.action is Action.NONE
        assert standing.recheck_at == NOW + DAY  # the day the lapse begins

    def test_not_a_customer_below_the_value_threshold(self) -> None:
        assert assess(history(purchases=self.REGULAR, value=999_99), NOW).action is Action.NONE

    def test_falling_spend(self) -> None:
        falling = (bought(150, 400_00), bought(120, 300_00), bought(30, 100_00))
        standing = assess(history(purchases=falling, value=5000_00), NOW)
        assert standing.action is Action.RETAIN
        assert Code.SPEND_DOWN in codes(standing)

    def test_a_falling_score(self) -> None:
        falling = (answer(200, nps=10), answer(100, nps=7))
        standing = assess(history(answers=falling, value=5000_00), NOW)
        assert standing.action is Action.RETAIN
        assert standing.reasons[1].text == "NPS fell from 10 to 7"


def test_a_passive_gets_a_follow_up() -> None:
    standing = assess(history(answers=(answer(40, nps=8),)), NOW)
    assert (standing.action, codes(standing), standing.priority) == (Action.FOLLOW_UP, [Code.PASSIVE], 25)


def test_a_promoter_who_may_be_contacted_is_asked_to_advocate() -> None:
    standing = assess(history(answers=(answer(40, nps=9),), consent=Consent(phone=True)), NOW)
    assert (standing.action, codes(standing)) == (Action.ADVOCATE, [Code.PROMOTER])


def test_a_promoter_with_an_open_opportunity_and_marketing_consent_is_a_cross_sell() -> None:
    promoter = history(
        answers=(answer(40, nps=10),),
        opportunity=OpportunityStage.NEGOTIATION,
        consent=Consent(email=True, marketing=True),
    )
    standing = assess(promoter, NOW)
    assert (standing.action, codes(standing)) == (Action.GROW, [Code.PROMOTER, Code.OPEN_OPPORTUNITY])
    assert standing.reasons[1].text == "open opportunity: Premium plan upgrade (NEGOTIATION)"


def test_no_cross_sell_without_marketing_consent() -> None:
    promoter = history(
        answers=(answer(40, nps=10),), opportunity=OpportunityStage.PROPOSAL, consent=Consent(email=True)
    )
    standing = assess(promoter, NOW)
    assert (standing.action, codes(standing)) == (Action.ADVOCATE, [Code.PROMOTER, Code.NO_MARKETING_CONSENT])


def test_no_cross_sell_of_an_opportunity_already_won_or_lost() -> None:
    promoter = history(
        answers=(answer(40, nps=10),), opportunity=OpportunityStage.WON, consent=Consent(marketing=True)
    )
    assert assess(promoter, NOW).action is not Action.GROW


def test_no_referral_request_without_consent_to_be_contacted() -> None:
    standing = assess(history(answers=(answer(40, nps=10),), consent=Consent()), NOW)
    assert (standing.action, codes(standing)) == (Action.NONE, [Code.PROMOTER, Code.NO_CONTACT_CONSENT])


def test_a_score_older_than_a_year_no_longer_makes_a_promoter() -> None:
    assert assess(history(answers=(answer(366, nps=10),)), NOW).action is Action.NONE


def test_value_weighs_more_and_a_recent_contact_less() -> None:
    passive = (answer(40, nps=7),)
    assert assess(history(answers=passive, value=1000_00), NOW).priority == 25 + 10
    assert assess(history(answers=passive, value=10_000_00), NOW).priority == 25 + 15
    touched = assess(history(answers=passive, contact_days_ago=2), NOW)
    assert touched.priority == 25 - 10
    assert touched.reasons[-1].text == "in touch on 2026-11-18"
    assert touched.recheck_at == NOW + 5 * DAY


def test_revenue_at_risk_reads_every_detractor_response_and_the_open_alerts() -> None:
    standing = assess(
        history(answers=(answer(300, nps=2), answer(10, nps=9), answer(5, nps=6)), open_alerts=2), NOW
    )
    assert standing.detractor_at == (NOW - 300 * DAY, NOW - 5 * DAY)
    assert standing.open_alerts == 2


# Random histories: time alone changes a standing only at the moment ``recheck_at`` named.
_answers = st.lists(
    st.tuples(st.floats(0, 500), st.none() | st.integers(0, 10), st.none() | st.integers(1, 5)), max_size=5
)
_purchases = st.lists(st.tuples(st.floats(0, 500), st.integers(-50_00, 900_00)), max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    answers=_answers,
    purchases=_purchases,
    alerts=st.integers(0, 2),
    complaints=st.none() | st.integers(0, 1),
    contact=st.none() | st.floats(0, 30),
    value=st.integers(0, 20_000_00),
    marketing=st.booleans(),
    opportunity=st.none() | st.sampled_from(list(OpportunityStage)),
    later=st.floats(0, 400),
)
def test_a_standing_holds_until_its_recheck_moment(
    answers: list[tuple[float, int | None, int | None]],
    purchases: list[tuple[float, int]],
    alerts: int,
    complaints: int | None,
    contact: float | None,
    value: int,
    marketing: bool,
    opportunity: OpportunityStage | None,
    later: float,
) -> None:
    customer = history(
        answers=tuple(answer(d, nps, csat) for d, nps, csat in answers),
        purchases=tuple(bought(d, a) for d, a in purchases),
        open_alerts=alerts,
        open_complaints=complaints,
        contact_days_ago=contact,
        value=value,
        opportunity=opportunity,
        consent=Consent(email=True, marketing=marketing),
        tier=Tier.GOLD,
    )
    now = assess(customer, NOW)
    moment = NOW + later * DAY
    then = assess(customer, moment)
    if now.recheck_at is None or moment < now.recheck_at:
        assert then.same_as(now)
    assert 0 <= now.priority <= 100
    assert (now.priority == 0) == (now.action is Action.NONE)
