"""GraphQL view of access: who the caller is and what it may do, and the audit trail."""
