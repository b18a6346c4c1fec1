"""GraphQL view of service standards: reading them and setting them (managers of the region)."""
