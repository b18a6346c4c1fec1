"""Storage plumbing: the MongoDB client, the embedded database, availability watch, change feed, sweep."""
