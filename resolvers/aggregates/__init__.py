"""Aggregates for BI tools, managers and the board: flat lists of buckets, within the caller's scope."""
