"""Feedback batches: responses collected offline, checked together, stored a chunk per transaction.

Every item is answered, in order: accepted, a duplicate of an earlier submission, refused with its reason,
or not started. The rules are those of one submission (``service``); the reads are shared (one query per kind
of record for the whole batch) and a chunk of items is stored in one transaction with its alerts and
rollups, so a batch of 100 costs a few dozen database commands instead of a dozen per item.

A batch's time is its request's. Work stops before it starts, never after it commits: a chunk starts only
while time is left for it, and a chunk once started runs to its end even if the request is cancelled
meanwhile. What was not started is answered ``NotStarted``; sending it again is safe (idempotency keys).

The driver's own deadline (the limit and a grace) bounds even that: a chunk whose writes were still running
then is rolled back and answered ``NotStarted`` too. One whose commit met it is committed anyway, and is
answered ``MaybeStored`` only when no commit was confirmed. Either way the chunks before it stay answered as
stored, and sending the batch again settles the rest.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from domain.alerts import rules
from domain.alerts.models import Alert
from domain.customers.models import Customer
from domain.employees.models import EmployeeRole
from domain.errors import DomainError, FieldError, IdempotencyConflict, NotFound, ValidationFailed
from domain.feedback.models import Feedback, Touchpoint
from domain.feedback.service import (
    Intake,
    Submitter,
    dimensions_of,
    new_feedback,
    problems,
    replayed,
    run_to_the_end,
    submit_feedback,
    unlisted_dimensions,
)
from domain.feedback.submission import FeedbackSubmission
from domain.ids import new_id
from domain.repositories import Repositories
from domain.standards.models import ServiceStandard
from domain.store import DuplicateKey, OutOfTime, Session, UnitOfWork

T = TypeVar("T")
# Records by id, as repositories' get_many return them (each with its customer_id).
Fetch = Callable[[Sequence[str]], Awaitable[Mapping[str, Any]]]

# Items stored per transaction. A chunk updates each rollup cell it touches once, however many of its
# responses count there, so larger chunks write far less; 50 keeps a transaction well under a second here,
# short next to concurrent intake that may conflict with it on the same cells.
CHUNK = 50


@dataclass(frozen=True, slots=True)
class NotStarted:
    """The item was not attempted: the batch's time ran out first. Nothing of it was stored."""


NOT_STARTED = NotStarted()


@dataclass(frozen=True, slots=True)
class MaybeStored:
    """The item's transaction met the deadline as it was committed, and no commit was confirmed: it may have
    been stored. Sending it again tells (a duplicate if it was)."""


MAYBE_STORED = MaybeStored()
Answer = Intake | DomainError | NotStarted | MaybeStored


@dataclass(slots=True)
class _New:
    """An item to store: its response, its customer and the alert it raises."""

    index: int
    submission: FeedbackSubmission
    customer: Customer
    feedback: Feedback
    alert: Alert | None = None


def _unlimited() -> float:
    return math.inf


async def submit_batch(
    repos: Repositories,
    uow: UnitOfWork,
    *,
    submitter: Submitter,
    submissions: Sequence[FeedbackSubmission],
    now: datetime,
    time_left: Callable[[], float] = _unlimited,
    make_id: Callable[[], str] = new_id,
) -> list[Answer]:
    """An answer per submission, in order; ``time_left`` says how many seconds the batch may still take."""
    answers: list[Answer | None] = []
    for submission in submissions:
        errors = problems(submitter, submission, now=now)
        answers.append(ValidationFailed(errors) if errors else None)
    batch = _Batch(repos, uow, submitter, submissions, answers, now, make_id)
    try:
        if time_left() > 0 and any(a is None for a in answers):
            await batch.run(time_left)
    except asyncio.CancelledError:
        # Stopped (by the request's time limit): whatever has no answer yet was not started.
        pass
    return [NOT_STARTED if answer is None else answer for answer in answers]


@dataclass
class _Batch:
    """One batch being answered: ``answers`` fills in as items are refused, replayed or stored."""

    repos: Repositories
    uow: UnitOfWork
    submitter: Submitter
    submissions: Sequence[FeedbackSubmission]
    answers: list[Answer | None]
    now: datetime
    make_id: Callable[[], str]

    async def run(self, time_left: Callable[[], float]) -> None:
        """Replays and refusals at once, from shared reads; new responses a chunk per transaction."""
        fresh, repeats = await self._checked()
        await self._raise_alerts(fresh)
        longest = 0.0
        for start in range(0, len(fresh), CHUNK):
            # A chunk starts only with time left for it: half as much again as the longest so far took
            # (the first chunk: any time at all). One that overruns still finishes (``run_to_the_end``).
            if time_left() <= 1.5 * longest:
                break
            chunk = fresh[start : start + CHUNK]
            began = time.monotonic()
            try:
                stored, cancelled = await run_to_the_end(self._store(chunk))
            except OutOfTime as out:
                # The driver's deadline fell on this chunk: nothing after it starts either.
                for item in chunk:
                    self.answers[item.index] = _unfinished(out)
                self._answer_repeats(repeats)
                return
            longest = max(longest, time.monotonic() - began)
            for item, answer in zip(chunk, stored, strict=True):
                self.answers[item.index] = answer
            self._answer_repeats(repeats)
            if cancelled:
                return

    async def _checked(self) -> tuple[list[_New], dict[int, int]]:
        """The new responses to store, and the items repeating an earlier item's key (-> that item)."""
        todo = {n: s for n, s in enumerate(self.submissions) if self.answers[n] is None}
        repos = self.repos
        keys = [s.idempotency_key for s in todo.values()]
        previous = await repos.feedback.by_idempotency_keys(self.submitter.subject, keys)
        raised = await repos.alerts.by_feedback([f.id for f in previous.values()]) if previous else {}
        customers = await repos.customers.get_many(sorted({s.customer_id for s in todo.values()}))
        unlinked = await _unlinked(repos, todo)
        rated = any(s.items for s in todo.values())
        dimensions = await dimensions_of(repos) if rated else None
        fresh: list[_New] = []
        first_of: dict[str, int] = {}
        repeats: dict[int, int] = {}
        for n, submission in todo.items():
            key = submission.idempotency_key
            try:
                if (earlier := previous.get(key)) is not None:
                    self.answers[n] = replayed(earlier, raised.get(earlier.id), submission)
                elif key in first_of:
                    repeats[n] = first_of[key]
                elif dimensions is not None and (errors := unlisted_dimensions(dimensions, submission)):
                    raise ValidationFailed(errors)
                elif (customer := customers.get(submission.customer_id)) is None:
                    raise NotFound("no such customer", field="customerId")
                elif field := unlinked.get(n):
                    raise ValidationFailed(
                        [FieldError(field, "NOT_FOUND", "no such record of this customer")]
                    )
                else:
                    first_of[key] = n
                    made = new_feedback(self.make_id(), customer, self.submitter, submission, self.now)
                    fresh.append(_New(n, submission, customer, made))
            except DomainError as error:
                self.answers[n] = error
        return fresh, repeats

    async def _raise_alerts(self, fresh: Sequence[_New]) -> None:
        """Each response breaking its touchpoint's standard raises an alert, routed as if submitted one at a
        time: to the owner, else to the region's least busy frontline employee, counting the batch's own."""
        standards: dict[tuple[str, Touchpoint], ServiceStandard] = {}
        load: dict[str, dict[str, int]] = {}  # region -> frontline employee -> open alerts
        for item in fresh:
            region = item.customer.region
            wanted = (region, item.submission.touchpoint)
            if wanted not in standards:
                standards[wanted] = await self.repos.standards.for_touchpoint(*wanted)
            standard = standards[wanted]
            if not (reasons := rules.reasons_for(item.feedback, standard.rule)):
                continue
            if region not in load:
                frontline = await self.repos.employees.in_region(region, EmployeeRole.FRONTLINE)
                load[region] = await self.repos.alerts.open_counts([e.id for e in frontline])
            assignee = rules.route(item.customer.owner_id, load[region])
            if assignee in load[region]:
                load[region][assignee] += 1
            item.alert = rules.raise_alert(
                alert_id=self.make_id(),
                customer_id=item.customer.id,
                region=region,
                standard=standard,
                reasons=reasons,
                assignee_id=assignee,
                now=self.now,
                by=self.submitter.subject,
                feedback_id=item.feedback.id,
            )

    async def _store(self, chunk: Sequence[_New]) -> list[Answer]:
        """The chunk in one transaction with its alerts and rollups. When another request stored one of its
        keys meanwhile, item by item as single submissions, which answer that key as its first submission."""
        repos = self.repos
        responses = [item.feedback for item in chunk]
        alerts = [item.alert for item in chunk if item.alert is not None]

        async def write(session: Session) -> None:
            await repos.feedback.insert_many(responses, session=session)
            await repos.alerts.insert_many(alerts, session=session)
            await repos.rollups.add_many(responses, session=session)

        try:
            await self.uow.run(write)
        except DuplicateKey:
            return [await self._one(item.submission) for item in chunk]
        return [Intake(item.feedback, item.alert, duplicate=False) for item in chunk]

    async def _one(self, submission: FeedbackSubmission) -> Answer:
        try:
            return await submit_feedback(
                self.repos,
                self.uow,
                submitter=self.submitter,
                submission=submission,
                now=self.now,
                make_id=self.make_id,
            )
        except DomainError as error:
            return error
        except OutOfTime as out:
            return _unfinished(out)

    def _answer_repeats(self, repeats: dict[int, int]) -> None:
        """Items repeating an earlier item's key answer as a retry of it would, once it is answered."""
        for n, first in repeats.items():
            answer = self.answers[first]
            if self.answers[n] is not None or answer is None:
                continue
            if isinstance(answer, Intake):
                try:
                    self.answers[n] = replayed(answer.feedback, answer.alert, self.submissions[n])
                except IdempotencyConflict as conflict:
                    self.answers[n] = conflict
            else:
                self.answers[n] = answer


def _unfinished(out: OutOfTime) -> NotStarted | MaybeStored:
    """The answer of an item whose transaction the deadline stopped."""
    return MAYBE_STORED if out.maybe_stored else NOT_STARTED


async def _unlinked(repos: Repositories, todo: dict[int, FeedbackSubmission]) -> dict[int, str]:
    """The items linking a record that is missing or another customer's, with the field that links it."""
    links: tuple[tuple[str, Callable[[FeedbackSubmission], str | None], Fetch], ...] = (
        ("transactionId", lambda s: s.transaction_id, repos.transactions.get_many),
        ("caseId", lambda s: s.case_id, repos.cases.get_many),
        ("interactionId", lambda s: s.interaction_id, repos.interactions.get_many),
    )
    unlinked: dict[int, str] = {}
    for field, linked, fetch in links:
        wanted = {n: record_id for n, s in todo.items() if (record_id := linked(s)) is not None}
        if not wanted:
            continue
        found = await fetch(sorted(set(wanted.values())))
        for n, record_id in wanted.items():
            record = found.get(record_id)
            if n not in unlinked and (record is None or record.customer_id != todo[n].customer_id):
                unlinked[n] = field
    return unlinked
