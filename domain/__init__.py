"""Business rules, models and persistence of customer360, free of GraphQL and of the database driver."""
