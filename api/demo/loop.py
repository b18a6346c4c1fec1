"""The loop in the demo data: the alerts bad responses raised, recent ones at every stage of handling, the
root causes they were resolved with, and the standards that judge the touchpoints over windows of days.

Alerts come from the same rules as live ones (default standards, routing to the owner or a colleague), so the
demo shows open, acknowledged, overdue and answered alerts; older ones were all resolved, each with a root
cause, so recurring issues have a baseline (and north's carrier delays rise against it). Each employee handles
alerts at their own pace, so a manager's team table has differences worth looking at, and a customer's next
response after a resolution is kept on the alert, as intake keeps it. North's deliveries have window targets
and a carrier problem in the last three weeks: the first check raises a tactical alert for it.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from domain.alerts.models import RECOVERY_WINDOW, Alert, Recovery, Reply
from domain.alerts.rules import acknowledge, raise_alert, reasons_for, resolve
from domain.feedback.models import Feedback, Touchpoint
from domain.lists.defaults import DEFAULT_PARENTS
from domain.root_cause import RootCause
from domain.standards.models import ServiceStandard, WindowTargets, default_standard

# Alerts older than this before the demo's end were all handled; more recent ones are at every stage.
RECENT = timedelta(days=45)
REPLIES = (
    ("Refunded the delivery fee", "We are sorry for the delay and have refunded your delivery fee."),
    ("Replaced the faulty item", "A replacement is on its way; thank you for telling us."),
    (
        "Coached the team on the visit",
        "Thank you for your honest feedback; we have talked it through with the team.",
    ),
    ("Called the customer back", "As discussed on the phone, we have fixed the issue with your account."),
)
# How an employee works, by a stable draw from their id: how much slower than the quickest they acknowledge
# and answer, and the share of the alerts they have resolved by now.
PACES = ((1.0, 0.75), (1.4, 0.65), (2.2, 0.5), (4.0, 0.3))

# The touchpoint whose window the demo breaks: north's deliveries, worse by this much on the NPS scale over
# the last three weeks (a carrier problem).
SLIDE_REGION = "north"
SLIDE_TOUCHPOINT = Touchpoint.DELIVERY
SLIDE = timedelta(days=21)
SLIDE_SHIFT = -5.5
# The share of the carrier problem's alerts that were resolved, whoever handles them.
PRIORITY = 0.95


# The root causes a bad experience at each touchpoint is put down to (codes of the default ROOT_CAUSE list),
# with what handlers write about them.
CAUSES: dict[Touchpoint, tuple[str, ...]] = {
    Touchpoint.DELIVERY: ("wrong-address", "damaged-in-transit", "wrong-address", "carrier-delay"),
    Touchpoint.BILLING: ("wrong-charge", "unclear-invoice"),
    Touchpoint.STORE_VISIT: ("unfriendly-staff", "untrained-staff", "faulty-product"),
    Touchpoint.ONLINE_ORDER: ("website-outage", "confusing-website", "not-as-described"),
    Touchpoint.SUPPORT_CALL: ("untrained-staff", "account-access"),
    Touchpoint.ONBOARDING: ("account-access", "confusing-website"),
}
NOTES = {
    "carrier-delay": "The parcel waited at the carrier's depot.",
    "wrong-address": "The address on the order was incomplete.",
    "damaged-in-transit": "The box was crushed on the way.",
    "wrong-charge": "A payment was taken twice.",
    "unclear-invoice": "The invoice did not show the discount.",
    "unfriendly-staff": "The customer felt rushed at the counter.",
    "untrained-staff": "The colleague did not know the new process.",
    "faulty-product": "The item stopped working within a week.",
    "website-outage": "Checkout failed during an outage.",
    "confusing-website": "The customer could not find the delivery options.",
    "not-as-described": "The item differed from its photos.",
    "account-access": "The password reset e-mail never arrived.",
    "slow-refund": "The refund took two weeks.",
}


def cause_for(
    touchpoint: Touchpoint, record_id: str, region: str, at: datetime, end: datetime, by: str
) -> RootCause:
    """The root cause a handler records for a bad experience: the carrier problem for north's late
    deliveries, else one of the touchpoint's usual causes (by a stable draw from the record's id)."""
    if slide(region, touchpoint, at, end):
        code = "carrier-delay"
    else:
        choices = CAUSES[touchpoint]
        code = choices[zlib.crc32(record_id.encode()) % len(choices)]
    return RootCause(code, DEFAULT_PARENTS[code], NOTES[code], at, by)


def complaint_cause(category: str, case_id: str, at: datetime, by: str) -> RootCause:
    """The root cause of a demo complaint: one of its category's causes, by a stable draw from its id."""
    choices = sorted(code for code, parent in DEFAULT_PARENTS.items() if parent == category)
    code = choices[zlib.crc32(case_id.encode()) % len(choices)]
    return RootCause(code, category, NOTES[code], at, by)


def pace(employee_id: str) -> tuple[float, float]:
    """How slow an employee is (1: the quickest) and the share of their alerts they resolved."""
    return PACES[zlib.crc32(employee_id.encode()) % len(PACES)]


def slide(region: str, touchpoint: Touchpoint, at: datetime, end: datetime) -> float:
    """The shift of a response's latent score from the demo's carrier problem (0 for most responses)."""
    hit = region == SLIDE_REGION and touchpoint is SLIDE_TOUCHPOINT and end - at <= SLIDE
    return SLIDE_SHIFT if hit else 0.0


def demo_standards(as_of: datetime) -> list[ServiceStandard]:
    """North's delivery standard, set twice: window targets four months ago, a stricter NPS target since."""
    base = replace(default_standard(SLIDE_REGION, SLIDE_TOUCHPOINT), updated_by="demo")
    first = replace(
        base,
        window=WindowTargets(
            window_days=28, min_responses=10, nps_at_least=0, csat_bottom_box_share_at_most=0.25
        ),
        updated_at=as_of - timedelta(days=120),
        version=1,
    )
    second = replace(
        first,
        window=replace(first.window or WindowTargets(), nps_at_least=10),
        updated_at=as_of - timedelta(days=45),
        version=2,
    )
    return [first, second]


def alerts_for(
    rng: random.Random,
    responses: Sequence[Feedback],
    *,
    owner: str | None,
    frontline: Sequence[str],
    end: datetime,
) -> list[Alert]:
    """The alerts the customer's bad responses raised, each moved along as its handler would have: recent
    ones at every stage, older ones (past ``RECENT`` before ``end``) all resolved, with their root causes."""
    alerts = []
    for response in responses:
        if response.customer_id is None or response.region is None:
            continue
        standard = default_standard(response.region, response.touchpoint)
        if not (reasons := reasons_for(response, standard.rule)):
            continue
        raised = response.received_at
        handler = owner or rng.choice(frontline)
        slowness, resolves = pace(handler)
        if slide(response.region, response.touchpoint, raised, end):
            # The carrier problem's alerts are worked off first, and quickly.
            slowness, resolves = 1.0, max(resolves, PRIORITY)
        alert = raise_alert(
            alert_id=f"{int(raised.timestamp()):08x}{rng.getrandbits(64):016x}",
            customer_id=response.customer_id,
            region=response.region,
            standard=standard,
            reasons=reasons,
            assignee_id=handler,
            now=raised,
            by=response.customer_id,
            feedback_id=response.id,
            nps=response.nps,
        )
        old = end - raised > RECENT
        stage = 0.0 if old else rng.random()
        if stage < 0.75:
            late = timedelta(minutes=round(rng.randint(5, 200) * slowness))
            alert = acknowledge(alert, by=handler, now=raised + late)
        answered = raised + timedelta(hours=round(rng.randint(3, 40) * slowness))
        if stage < resolves and answered <= end:
            summary, message = rng.choice(REPLIES)
            reply = Reply(message, rng.choice(("EMAIL", "SMS", "PHONE")), answered)
            cause = cause_for(response.touchpoint, alert.id, response.region, raised, end, handler)
            alert = resolve(
                alert,
                by=handler,
                now=answered,
                resolution=summary,
                reply=reply,
                root_cause=replace(cause, at=answered),
            )
            alert = replace(alert, recovery=_next_response(responses, answered))
        alerts.append(alert)
    return alerts


def _next_response(responses: Sequence[Feedback], resolved: datetime) -> Recovery | None:
    """The customer's first response after ``resolved``, within the recovery window."""
    later = [r for r in responses if resolved < r.occurred_at <= resolved + RECOVERY_WINDOW]
    first = min(later, key=lambda r: (r.occurred_at, r.id), default=None)
    return Recovery(first.id, first.nps, first.occurred_at) if first else None
