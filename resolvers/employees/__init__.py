"""GraphQL view of employees."""
