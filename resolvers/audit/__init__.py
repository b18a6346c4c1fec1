"""GraphQL view of the audit trail: who read which customer's unmasked personal data."""
