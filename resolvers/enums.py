"""Domain enums exposed to GraphQL, each registered once here."""

from __future__ import annotations

import strawberry

from domain.crm import models as crm
from domain.customers import models as customers
from domain.employees import models as employees
from domain.feedback import models as feedback
from domain.timeline import TimelineKind as _TimelineKind

Segment = strawberry.enum(customers.Segment, description="Commercial segment of a customer.")
Tier = strawberry.enum(customers.Tier, description="Loyalty tier of a customer.")
CustomerStatus = strawberry.enum(customers.CustomerStatus, description="Whether a customer is still active.")
EmployeeRole = strawberry.enum(employees.EmployeeRole, description="The job an employee does.")
SalesChannel = strawberry.enum(crm.SalesChannel, description="Where a purchase was made.")
InteractionKind = strawberry.enum(crm.InteractionKind, description="How staff and customer were in touch.")
Direction = strawberry.enum(crm.Direction, description="Who started a contact.")
CaseKind = strawberry.enum(crm.CaseKind, description="What the customer came with.")
CaseChannel = strawberry.enum(crm.CaseChannel, description="Where a case was raised.")
Severity = strawberry.enum(crm.Severity, description="How much a case hurts the customer.")
CaseStatus = strawberry.enum(crm.CaseStatus, description="Where a case is in its handling.")
OpportunityStage = strawberry.enum(crm.OpportunityStage, description="Sales pipeline stage.")
FeedbackChannel = strawberry.enum(feedback.FeedbackChannel, description="Where feedback was given.")
Touchpoint = strawberry.enum(feedback.Touchpoint, description="The moment of the journey feedback is about.")
TimelineKind = strawberry.enum(_TimelineKind, description="Kinds of record on a customer's timeline.")
