"""GraphQL view of CRM records: transactions, interactions, cases, opportunities."""
