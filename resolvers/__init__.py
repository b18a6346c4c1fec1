"""The GraphQL schema: types (thin views of domain objects), queries, loaders and request context."""
