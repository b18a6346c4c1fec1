"""GraphQL view of customer-experience feedback."""
