"""GraphQL view of the caller: who it is and what it may do, as enforced."""
