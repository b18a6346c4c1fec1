"""Deterministic synthetic customers with their CRM records and feedback, generated in small batches.

Every draw comes from ``random.Random`` seeded from ``seed`` and every time from ``as_of``, so the same
arguments always give the same data. Each customer has its own generator, seeded in turn from the master
one, so customer ``n`` is the same whatever the total size.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import permutations
from statistics import NormalDist

from api.demo import vocabulary as vocab
from api.demo.loop import alerts_for, complaint_cause, slide
from domain.alerts.models import Alert
from domain.crm.models import (
    Case,
    CaseKind,
    CaseStatus,
    CustomerNotice,
    Direction,
    Interaction,
    LineItem,
    Opportunity,
    OpportunityStage,
    SalesChannel,
    StatusChange,
    Transaction,
)
from domain.customers.models import Address, Consent, Customer, CustomerStatus, ExternalId, Segment, Tier
from domain.employees.models import Employee, EmployeeRole
from domain.feedback.models import Feedback, ScoreItem, Touchpoint
from domain.money import Money

BATCH_SIZE = 500
CURRENCY = "EUR"
DAY = 86_400
WINDOW = 548 * DAY  # the ~18 months of history before ``as_of``
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
PRODUCTS = tuple(LineItem(sku, name, 1, Money(price, CURRENCY)) for sku, name, price in vocab.PRODUCTS)
TIER_ORDER = list(Tier)
BUSINESS = frozenset((Segment.SMALL_BUSINESS, Segment.CORPORATE))
# Per segment: mean transactions, interactions, cases and opportunities over the whole window.
VOLUMES = {
    Segment.MASS: (7.0, 3.0, 0.8, 0.4),
    Segment.AFFLUENT: (10.0, 4.0, 0.8, 0.8),
    Segment.SMALL_BUSINESS: (9.0, 5.0, 1.0, 1.4),
    Segment.CORPORATE: (12.0, 7.0, 1.2, 2.0),
}
# Quantiles of the standard normal, picked by 12 random bits: much cheaper than ``gauss`` in the hot loop.
NORMALS = tuple(NormalDist().inv_cdf((i + 0.5) / 4096) for i in range(4096))
DIMENSION_ORDERS = tuple(permutations(vocab.DIMENSIONS))
CSAT_TONE = (0, 0, 0, 7, 7, 10)  # a CSAT read on the NPS scale, for choosing a comment's tone
DEAL_SIZE = {Segment.MASS: 30_000, Segment.AFFLUENT: 150_000, Segment.SMALL_BUSINESS: 500_000}


@dataclass(frozen=True, slots=True)
class Batch:
    """About ``BATCH_SIZE`` customers with all their records; employees come with the first batch only."""

    employees: tuple[Employee, ...]
    customers: tuple[Customer, ...]
    transactions: tuple[Transaction, ...]
    interactions: tuple[Interaction, ...]
    cases: tuple[Case, ...]
    feedback: tuple[Feedback, ...]
    opportunities: tuple[Opportunity, ...]
    alerts: tuple[Alert, ...]


def generate(
    *, customers: int, seed: int = 1, as_of: datetime, batch_size: int = BATCH_SIZE
) -> Iterator[Batch]:
    """Batches of ``batch_size`` customers with everything that happened to them before ``as_of``.

    The batch size only groups the records: the data are the same whatever it is.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    if customers < 0:
        raise ValueError("customers must not be negative")
    end = int(as_of.timestamp())
    master = random.Random(seed)
    staff = Staff.hire(master, end)
    for start in range(0, max(customers, 1), batch_size):
        records = Records()
        for ordinal in range(start, min(start + batch_size, customers)):
            Life(random.Random(master.getrandbits(64)), ordinal, staff, end).write(records)
        yield records.batch(staff.employees if start == 0 else ())


def moment(seconds: int) -> datetime:
    """A UTC time of whole seconds: MongoDB keeps milliseconds, so finer times would not round-trip."""
    return datetime.fromtimestamp(seconds, UTC)


def seconds_of(at: datetime) -> int:
    return int(at.timestamp())


def day_of(seconds: int) -> date:
    return date.fromordinal(EPOCH_ORDINAL + seconds // DAY)


def record_id(rng: random.Random, seconds: int) -> str:
    """An id shaped like ``domain.ids.new_id``: the record's time, then 64 bits from ``rng``."""
    return f"{seconds:08x}{rng.getrandbits(64):016x}"


def fill(pattern: str, rng: random.Random) -> str:
    """``pattern`` with each '#' replaced by a digit and each '@' by a capital letter."""
    return "".join(
        str(rng.randrange(10)) if ch == "#" else chr(65 + rng.randrange(26)) if ch == "@" else ch
        for ch in pattern
    )


def clamp(value: float, low: int, high: int) -> int:
    return min(high, max(low, round(value)))


@dataclass(frozen=True, slots=True)
class Staff:
    """The employees and who works where."""

    employees: tuple[Employee, ...]
    frontline: dict[str, tuple[str, ...]]

    @classmethod
    def hire(cls, rng: random.Random, end: int) -> Staff:
        """Per region a manager and three to five frontline employees, reporting to one or two executives."""
        employees: list[Employee] = []

        def one(role: EmployeeRole, regions: tuple[str, ...], team: str, manager: str | None) -> str:
            locale = vocab.COUNTRIES.pick(rng)
            given, family = rng.choice(locale.given_names), rng.choice(locale.family_names)
            local = f"{vocab.mail_word(given)}.{vocab.mail_word(family)}.{len(employees) + 1}"
            hired = end - rng.randrange(2 * 365 * DAY, 12 * 365 * DAY)
            employee = Employee(
                record_id(rng, hired),
                f"{given} {family}",
                f"{local}@example.com",
                role,
                regions,
                team,
                manager,
            )
            employees.append(employee)
            return employee.id

        board = [one(EmployeeRole.EXECUTIVE, vocab.REGIONS, "Board", None) for _ in range(rng.randint(1, 2))]
        frontline: dict[str, tuple[str, ...]] = {}
        for region in vocab.REGIONS:
            team = f"{region.capitalize()} team"
            manager = one(EmployeeRole.MANAGER, (region,), team, rng.choice(board))
            size = rng.choice((3, 4, 4, 5))
            frontline[region] = tuple(
                one(EmployeeRole.FRONTLINE, (region,), team, manager) for _ in range(size)
            )
        return cls(tuple(employees), frontline)


@dataclass(slots=True)
class Records:
    """The records of one batch as they are made."""

    customers: list[Customer] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    opportunities: list[Opportunity] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    def batch(self, employees: tuple[Employee, ...]) -> Batch:
        return Batch(
            employees,
            tuple(self.customers),
            tuple(self.transactions),
            tuple(self.interactions),
            tuple(self.cases),
            tuple(self.feedback),
            tuple(self.opportunities),
            tuple(self.alerts),
        )


class Life:
    """One customer: who they are and what happened to them, drawn from their own generator."""

    def __init__(self, rng: random.Random, ordinal: int, staff: Staff, end: int) -> None:
        self.rng, self.ordinal, self.end = rng, ordinal, end
        self.segment = vocab.SEGMENTS.pick(rng)
        self.region = rng.choice(vocab.REGIONS)
        self.frontline = staff.frontline[self.region]
        self.owner = rng.choice(self.frontline) if rng.random() < 0.7 else None
        self.tier = vocab.TIERS.pick(rng)
        if self.segment in (Segment.AFFLUENT, Segment.CORPORATE) and rng.random() < 0.35:
            self.tier = TIER_ORDER[min(TIER_ORDER.index(self.tier) + 1, len(TIER_ORDER) - 1)]
        self.expects = 4.4 + 0.45 * TIER_ORDER.index(self.tier)
        self.mood = vocab.MOODS.pick(rng)
        self.created = end - 30 * DAY - min(int(rng.expovariate(1 / (4 * 365 * DAY))), 15 * 365 * DAY)
        self.churned = rng.random() < (0.3 if self.mood < 4 else 0.045)
        self.start = max(self.created, end - WINDOW)
        self.stop = self.start + int((end - self.start) * rng.uniform(0.4, 0.95)) if self.churned else end
        self.span = (self.stop - self.start) / WINDOW
        self.id = record_id(rng, self.created)

    def when(self) -> int:
        return self.rng.randint(self.start, self.stop)

    def count(self, mean: float, cap: int, *, shape: float = 1.0) -> int:
        """A skewed count: most customers have a few records, some many."""
        return min(cap, round(self.rng.gammavariate(shape, mean / shape)))

    def staffer(self) -> str:
        return self.owner if self.owner and self.rng.random() < 0.6 else self.rng.choice(self.frontline)

    def write(self, records: Records) -> None:
        purchases, contacts, cases, deals = VOLUMES[self.segment]
        unhappy = self.mood < 4
        transactions = [self.transaction() for _ in range(self.count(purchases * self.span, 30))]
        interactions = [self.interaction() for _ in range(self.count(contacts * self.span, 15))]
        problems = [self.case(unhappy) for _ in range(self.count(cases * (1 + unhappy), 4, shape=0.6))]
        opportunities = [self.opportunity() for _ in range(self.count(deals, 3, shape=0.6))]
        responses: list[Feedback] = []
        for _ in range(self.count(22 * (0.45 + 0.55 * self.span), 60, shape=1.6)):
            responses.append(self.response(transactions, problems, interactions))
            if self.rng.random() < 0.03:
                responses.append(self.response((), (), (), anonymous=True))
        records.customers.append(self.profile(sum(t.amount.amount_minor for t in transactions)))
        records.transactions.extend(transactions)
        records.interactions.extend(interactions)
        records.cases.extend(problems)
        records.opportunities.extend(opportunities)
        records.feedback.extend(responses)
        # Drawn last, from the customer's own generator, so the records above stay as they were.
        records.alerts.extend(
            alerts_for(self.rng, responses, owner=self.owner, frontline=self.frontline, end=moment(self.end))
        )

    def transaction(self) -> Transaction:
        rng, at = self.rng, self.when()
        channel = vocab.SALES_CHANNELS.pick(rng)
        bulk = 20 if self.segment in BUSINESS else 3
        if rng.random() < 0.03:  # a refund: one returned product
            lines = [self.line(-rng.randint(1, 2))]
        else:
            lines = [
                self.line(1 if rng.random() < 0.7 else rng.randint(2, bulk))
                for _ in range(vocab.LINE_COUNTS.pick(rng))
            ]
        amount = sum(line.quantity * line.unit_price.amount_minor for line in lines)
        if channel is SalesChannel.STORE:
            touchpoint = rng.choice(vocab.STORES[self.region])
        else:
            touchpoint = vocab.SALES_TOUCHPOINT_NAMES[channel]
        return Transaction(
            record_id(rng, at),
            self.id,
            self.region,
            Money(amount, CURRENCY),
            tuple(lines),
            channel,
            touchpoint,
            moment(at),
        )

    def line(self, quantity: int) -> LineItem:
        product = PRODUCTS[self.rng.randrange(len(PRODUCTS))]
        return LineItem(product.sku, product.name, quantity, product.unit_price)

    def interaction(self) -> Interaction:
        rng, at = self.rng, self.when()
        kind = vocab.INTERACTION_KINDS.pick(rng)
        direction = Direction.INBOUND if rng.random() < vocab.INBOUND_SHARE[kind] else Direction.OUTBOUND
        follow_up = rng.random() < 0.35
        return Interaction(
            id=record_id(rng, at),
            customer_id=self.id,
            region=self.region,
            kind=kind,
            direction=direction,
            channel=rng.choice(vocab.INTERACTION_CHANNELS[kind]),
            employee_id=self.staffer(),
            summary=rng.choice(vocab.SUMMARIES[kind]),
            occurred_at=moment(at),
            next_step=rng.choice(vocab.NEXT_STEPS) if follow_up else None,
            follow_up_on=day_of(at + rng.randint(1, 21) * DAY) if follow_up else None,
        )

    def case(self, unhappy: bool) -> Case:
        """A case whose history follows OPEN, IN_PROGRESS, RESOLVED, CLOSED as far as ``as_of`` allows."""
        rng, opened = self.rng, self.when()
        kind = CaseKind.COMPLAINT if unhappy and rng.random() < 0.5 else vocab.CASE_KINDS.pick(rng)
        category = rng.choice(tuple(vocab.CASE_SUBJECTS))
        severity = vocab.SEVERITIES.pick(rng)
        sla = vocab.SLA_HOURS[severity] * 3600
        assignee = self.staffer()
        started = opened + max(60, int(sla * rng.uniform(0.02, 0.3)))
        resolved = started + max(60, int(sla * rng.lognormvariate(-0.4, 0.8)))  # some breach the due time
        plan = [(CaseStatus.OPEN, opened), (CaseStatus.IN_PROGRESS, started), (CaseStatus.RESOLVED, resolved)]
        if rng.random() < 0.6:
            plan.append((CaseStatus.CLOSED, resolved + rng.randint(3600, 5 * DAY)))
        if rng.random() < 0.08:  # stuck cases stay open, often past their due time
            plan = plan[: rng.randint(1, 2)]
        history = tuple(
            StatusChange(
                status, moment(at), None if status is CaseStatus.OPEN else assignee, self.note(status)
            )
            for status, at in plan
            if at <= self.end
        )
        done = not history[-1].status.is_open
        notified = done and rng.random() < 0.9
        case_id = record_id(rng, opened)  # drawn first of the case's fields, as it always was
        return Case(
            id=case_id,
            customer_id=self.id,
            region=self.region,
            kind=kind,
            channel=vocab.CASE_CHANNELS.pick(rng),
            category=category,
            severity=severity,
            status=history[-1].status,
            subject=rng.choice(vocab.CASE_SUBJECTS[category]),
            assignee_id=assignee,
            opened_at=moment(opened),
            due_at=moment(opened + sla),
            history=history,
            resolution=rng.choice(vocab.RESOLUTIONS) if done else None,
            customer_notified=(
                CustomerNotice(
                    moment(min(self.end, resolved + rng.randint(600, DAY))), rng.choice(vocab.NOTICE_CHANNELS)
                )
                if notified
                else None
            ),
            version=len(history),
            root_cause=(
                complaint_cause(category, case_id, history[-1].at, assignee)
                if done and kind is CaseKind.COMPLAINT
                else None
            ),
        )

    def note(self, status: CaseStatus) -> str | None:
        if status is CaseStatus.IN_PROGRESS:
            return self.rng.choice(vocab.CASE_NOTES)
        return "Confirmed with the customer." if status is CaseStatus.CLOSED else None

    def opportunity(self) -> Opportunity:
        rng, opened = self.rng, self.when()
        stage = vocab.STAGES.pick(rng)
        low, high = vocab.PROBABILITIES[stage]
        closes = opened + rng.randint(20, 120) * DAY
        if stage in (OpportunityStage.WON, OpportunityStage.LOST):
            closes = min(closes, self.end)
        median = DEAL_SIZE.get(self.segment, 4_000_000)
        return Opportunity(
            id=record_id(rng, opened),
            customer_id=self.id,
            region=self.region,
            title=rng.choice(vocab.OPPORTUNITY_TITLES[self.segment]),
            stage=stage,
            amount=Money(int(median * rng.lognormvariate(0, 0.7)) // 100 * 100, CURRENCY),
            probability=rng.randrange(low, high + 1, 5),
            expected_close_on=day_of(closes),
            owner_id=self.owner or (rng.choice(self.frontline) if rng.random() < 0.8 else None),
            opened_at=moment(opened),
        )

    def response(
        self,
        transactions: Sequence[Transaction],
        cases: Sequence[Case],
        contacts: Sequence[Interaction],
        *,
        anonymous: bool = False,
    ) -> Feedback:
        """One survey response, about one of the customer's records when there is one to be about."""
        rng, roll, shift = self.rng, self.rng.random(), 0.0
        purchase = case = contact = None
        if roll < 0.3 and transactions:
            purchase = rng.choice(transactions)
            touchpoint = rng.choice(vocab.PURCHASE_TOUCHPOINTS[purchase.channel])
            late = rng.randint(1, 4) * DAY if touchpoint is Touchpoint.DELIVERY else 0
            at = min(self.end, seconds_of(purchase.occurred_at) + late)
        elif roll < 0.4 and cases:
            case = rng.choice(cases)
            touchpoint = Touchpoint.BILLING if case.category == "billing" else Touchpoint.SUPPORT_CALL
            at = seconds_of(case.history[-1].at)
            if case.kind is CaseKind.COMPLAINT:
                shift = -3.0 if case.status.is_open else -1.0
        elif roll < 0.5 and contacts:
            contact = rng.choice(contacts)
            touchpoint, at = vocab.CONTACT_TOUCHPOINTS[contact.kind], seconds_of(contact.occurred_at)
        else:
            touchpoint, at = vocab.TOUCHPOINTS.pick(rng), self.when()
        channel = rng.choice(vocab.FEEDBACK_CHANNELS[touchpoint])
        shift += slide(self.region, touchpoint, moment(at), moment(self.end))
        score = (7.8 if anonymous else self.mood) + shift + self.noise(1.5)
        nps, csat, effort = self.scores(score, quick=channel in vocab.QUICK_CHANNELS)
        low, high = vocab.DELAYS[channel]
        return Feedback(
            id=record_id(rng, at),
            customer_id=None if anonymous else self.id,
            channel=channel,
            touchpoint=touchpoint,
            occurred_at=moment(at),
            received_at=moment(min(self.end, at + rng.randint(low, high))),
            nps=nps,
            csat=csat,
            effort=effort,
            items=self.items(score, 2 if nps is None else rng.randint(2, 5)),
            comment=self.comment(nps, csat, touchpoint) if rng.random() < 0.4 else None,
            transaction_id=purchase.id if purchase else None,
            case_id=case.id if case else None,
            interaction_id=contact.id if contact else None,
            region=self.region,
            segment=None if anonymous else self.segment.value,
        )

    def noise(self, sd: float) -> float:
        return sd * NORMALS[self.rng.getrandbits(12)]

    def scores(self, score: float, *, quick: bool) -> tuple[int | None, int | None, int | None]:
        """NPS, CSAT and effort (high means hard) for a latent score on the NPS scale."""
        csat = clamp(0.6 + 0.45 * score + self.noise(0.55), 1, 5)
        if quick:
            return None, csat, None
        effort = clamp(6.2 - 0.5 * score + self.noise(0.8), 1, 7)
        roll = self.rng.random()
        return clamp(score, 0, 10), csat if roll < 0.85 else None, effort if roll < 0.6 else None

    def items(self, score: float, size: int) -> tuple[ScoreItem, ...]:
        """Expectations follow the tier; perceptions follow the response's score."""
        lift = 0.55 * (score - 7.5)
        items = []
        for dimension in DIMENSION_ORDERS[self.rng.randrange(len(DIMENSION_ORDERS))][:size]:
            expected = clamp(self.expects + self.noise(0.9), 1, 7)
            items.append(ScoreItem(dimension, expected, clamp(expected + lift + self.noise(0.7), 1, 7)))
        return tuple(items)

    def comment(self, nps: int | None, csat: int | None, touchpoint: Touchpoint) -> str:
        """A remark whose tone matches the scores given."""
        level = nps if nps is not None else CSAT_TONE[csat or 3]  # every response has an NPS or a CSAT
        if level >= 9:
            return self.rng.choice(vocab.POSITIVE[touchpoint])
        return self.rng.choice(vocab.NEGATIVE[touchpoint] if level <= 6 else vocab.NEUTRAL)

    def profile(self, spent: int) -> Customer:
        """The customer's profile; names usually, not always, match the country they live in."""
        rng, n = self.rng, self.ordinal
        home = vocab.COUNTRIES.pick(rng)
        origin = home if rng.random() < 0.8 else vocab.COUNTRIES.pick(rng)
        given, family = rng.choice(origin.given_names), rng.choice(origin.family_names)
        local, short = vocab.mail_word(given), vocab.mail_word(family)
        emails = [f"{local}.{short}{n + 1}@{rng.choice(vocab.EMAIL_DOMAINS)}"]
        if rng.random() < 0.35:
            emails.append(f"{local[0]}{short}{n + 1}@{rng.choice(vocab.EMAIL_DOMAINS)}")
        phones = tuple(dict.fromkeys(fill(home.phone, rng) for _ in range(vocab.PHONE_COUNTS.pick(rng))))
        company = self.segment in BUSINESS and rng.random() < (
            0.6 if self.segment is Segment.CORPORATE else 0.25
        )
        today = day_of(self.end).toordinal()
        systems = rng.sample(vocab.EXTERNAL_SYSTEMS, 2 if rng.random() < 0.4 else 1)
        updated = self.created if rng.random() < 0.4 else rng.randint(self.created, self.end)
        by_email, by_sms = rng.random() < 0.75, rng.random() < 0.4
        consent = Consent(by_email, by_sms, rng.random() < 0.5, (by_email or by_sms) and rng.random() < 0.55)
        return Customer(
            id=self.id,
            given_name=given,
            family_name=family,
            emails=tuple(emails),
            phones=phones,
            address=self.address(home) if rng.random() < 0.95 else None,
            birth_date=None if company else date.fromordinal(today - rng.randint(18 * 366, 85 * 365)),
            external_ids=tuple(ExternalId(system, f"{prefix}-{n + 1:06d}") for system, prefix in systems),
            segment=self.segment,
            tier=self.tier,
            region=self.region,
            owner_id=self.owner,
            status=CustomerStatus.CHURNED if self.churned else CustomerStatus.ACTIVE,
            churned_at=moment(self.stop) if self.churned else None,
            lifetime_value=Money(self.lifetime_value(spent), CURRENCY),
            consent=consent,
            tags=self.tags(consent),
            created_at=moment(self.created),
            updated_at=moment(updated),
            version=1 if updated == self.created else rng.randint(2, 6),
        )

    def address(self, home: vocab.Locale) -> Address:
        rng = self.rng
        city, code = rng.choice(home.cities)
        number, street = rng.randint(1, 180), rng.choice(home.streets)
        line = f"{number} {street}" if home.number_first else f"{street} {number}"
        return Address(line, city, fill(code, rng), home.country)

    def lifetime_value(self, spent: int) -> int:
        """Net spend in the window scaled to the whole tenure; long-standing customers bought before too."""
        tenure = (self.end - self.created) / WINDOW
        if spent > 0:
            return int(spent * max(1.0, tenure) * self.rng.uniform(0.9, 1.1))
        return int(self.rng.lognormvariate(9.5, 1.0)) if tenure > 1 else 0

    def tags(self, consent: Consent) -> tuple[str, ...]:
        rng = self.rng
        candidates = (
            ("b2b", self.segment in BUSINESS),
            ("vip", self.tier in (Tier.GOLD, Tier.PLATINUM) and rng.random() < 0.6),
            ("at-risk", (self.mood < 4 or self.churned) and rng.random() < 0.7),
            ("newsletter", consent.marketing and rng.random() < 0.7),
            (f"promo-{day_of(self.end).year}", rng.random() < 0.15),
            (rng.choice(vocab.EXTRA_TAGS), rng.random() < 0.1),
        )
        return tuple(tag for tag, chosen in candidates if chosen)[:3]
