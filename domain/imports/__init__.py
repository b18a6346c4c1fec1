"""Bulk import of customers, transactions and interactions from files: rows in, domain objects out."""
