"""Every repository over one database, and every index they need."""

from __future__ import annotations

from dataclasses import dataclass

from domain.alerts.repository import AlertRepository
from domain.audit.repository import AuditRepository
from domain.crm.repository import (
    CaseRepository,
    InteractionRepository,
    OpportunityRepository,
    TransactionRepository,
)
from domain.customers.repository import CustomerRepository
from domain.employees.repository import EmployeeRepository
from domain.feedback.repository import FeedbackRepository
from domain.scope import RowScope
from domain.standards.repository import StandardRepository
from domain.store import Database, IndexSpec


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
    standards: StandardRepository

    @classmethod
    def on(cls, db: Database, scope: RowScope | None = None) -> Repositories:
        """Repositories whose every read is limited to ``scope`` (everything when omitted)."""
        return cls(
            customers=CustomerRepository(db, scope),
            employees=EmployeeRepository(db),
            transactions=TransactionRepository(db, scope),
            interactions=InteractionRepository(db, scope),
            cases=CaseRepository(db, scope),
            feedback=FeedbackRepository(db, scope),
            opportunities=OpportunityRepository(db, scope),
            audit=AuditRepository(db),
            alerts=AlertRepository(db, scope),
            standards=StandardRepository(db),
        )


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
        *StandardRepository.indexes(),
    ]
