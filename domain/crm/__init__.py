"""CRM records of a customer: transactions, interactions, cases and opportunities."""
