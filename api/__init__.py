"""The server around the GraphQL schema: HTTP, storage plumbing, the command line, demo data and settings."""
