"""Every repository over one database, and every index they need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.aggregates.repository import LifecycleRollupRepository, RollupRepository
from domain.alerts.handling import HandlingRepository
from domain.alerts.repository import AlertRepository
from domain.audit.repository import AuditRepository
from domain.crm.repository import (
    CaseRepository,
    InteractionRepository,
    OpportunityRepository,
    TransactionRepository,
)
from domain.customers.repository import CustomerRepository
from domain.digest.repository import DigestRepository
from domain.employees.repository import EmployeeRepository
from domain.feedback.repository import FeedbackRepository
from domain.lists.repository import ListRepository
from domain.paging import PageEnds
from domain.scope import RowScope
from domain.standards.repository import StandardRepository
from domain.standing.repository import StandingRepository
from domain.store import Database, IndexSpec
from domain.tactical.repository import BreachRepository
from domain.value.repository import ValueRepository


@dataclass(frozen=True, slots=True)
class Repositories:
    """The repositories of one database."""

    customers: CustomerRepository
    employees: EmployeeRepository
    transactions: TransactionRepository
    interactions: InteractionRepository
    cases: CaseRepository
    feedback: FeedbackRepository
    opportunities: OpportunityRepository
    audit: AuditRepository
    alerts: AlertRepository
    alert_handling: HandlingRepository  # what loop performance reads
    standards: StandardRepository
    rollups: RollupRepository
    lifecycles: LifecycleRollupRepository  # the cells churn is counted from
    lists: ListRepository
    breaches: BreachRepository
    digests: DigestRepository
    standings: StandingRepository
    value: ValueRepository

    @classmethod
    def on(
        cls,
        db: Database,
        scope: RowScope | None = None,
        *,
        rollup_zones: Sequence[str] = ("UTC",),
        page_ends: PageEnds | None = None,
    ) -> Repositories:
        """Repositories whose every read is limited to ``scope`` (everything when omitted).

        ``rollup_zones`` are the reporting time zones rollups are kept in (configuration, not per caller);
        ``page_ends``, where pages of the customer list ended, is shared by a process's requests.
        """
        return cls(
            customers=CustomerRepository(db, scope, rollup_zones=rollup_zones, page_ends=page_ends),
            employees=EmployeeRepository(db),
            transactions=TransactionRepository(db, scope),
            interactions=InteractionRepository(db, scope),
            cases=CaseRepository(db, scope),
            feedback=FeedbackRepository(db, scope),
            opportunities=OpportunityRepository(db, scope),
            audit=AuditRepository(db),
            alerts=AlertRepository(db, scope),
            alert_handling=HandlingRepository(db, scope),
            standards=StandardRepository(db),
            rollups=RollupRepository(db, scope, zones=rollup_zones),
            lifecycles=LifecycleRollupRepository(db, scope, zones=rollup_zones),
            lists=ListRepository(db),
            breaches=BreachRepository(db),
            digests=DigestRepository(db),
            standings=StandingRepository(db, scope),
            value=ValueRepository(db, scope),
        )


def all_collections() -> list[str]:
    """The collections created at start-up that no index creates."""
    return StandingRepository.collections()


def all_indexes() -> list[IndexSpec]:
    """The indexes created at start-up."""
    return [
        *CustomerRepository.indexes(),
        *EmployeeRepository.indexes(),
        *TransactionRepository.indexes(),
        *InteractionRepository.indexes(),
        *CaseRepository.indexes(),
        *FeedbackRepository.indexes(),
        *OpportunityRepository.indexes(),
        *AuditRepository.indexes(),
        *AlertRepository.indexes(),
        *HandlingRepository.indexes(),
        *StandardRepository.indexes(),
        *RollupRepository.indexes(),
        *LifecycleRollupRepository.indexes(),
        *ListRepository.indexes(),
        *BreachRepository.indexes(),
        *DigestRepository.indexes(),
        *StandingRepository.indexes(),
        *ValueRepository.indexes(),
    ]


def retired_indexes() -> list[IndexSpec]:
    """Indexes earlier versions created that no query uses any more, dropped at start-up."""
    return StandingRepository.retired_indexes()
