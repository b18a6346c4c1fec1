"""GraphQL view of customers: profile, nested records, timeline and metrics."""
