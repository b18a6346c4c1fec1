"""The closed loop in the demo data: the alerts recent bad responses raised, at every stage of handling.

They come from the same rules as live ones (default standards, routing to the owner or a regional colleague),
so the demo shows open, acknowledged, overdue and answered alerts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

from domain.alerts.models import Alert, Reply
from domain.alerts.rules import acknowledge, raise_alert, reasons_for, resolve
from domain.feedback.models import Feedback
from domain.standards.models import default_standard

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


def alerts_for(
    rng: random.Random, responses: Sequence[Feedback], *, owner: str | None, frontline: Sequence[str]
) -> list[Alert]:
    """The alerts the customer's recent responses raised, each moved along as staff would have."""
    if not responses:
        return []
    newest = max(r.received_at for r in responses)
    alerts = []
    for response in responses:
        if response.customer_id is None or response.region is None or newest - response.received_at > RECENT:
            continue
        standard = default_standard(response.region, response.touchpoint)
        if not (reasons := reasons_for(response, standard.rule)):
            continue
        raised = response.received_at
        handler = owner or rng.choice(frontline)
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
        )
        stage = rng.random()
        if stage < 0.75:
            alert = acknowledge(alert, by=handler, now=raised + timedelta(minutes=rng.randint(5, 200)))
        if stage < 0.6:
            summary, message = rng.choice(REPLIES)
            answered = raised + timedelta(hours=rng.randint(3, 40))
            reply = Reply(message, rng.choice(("EMAIL", "SMS", "PHONE")), answered)
            alert = resolve(alert, by=handler, now=answered, resolution=summary, reply=reply)
        alerts.append(alert)
    return alerts
