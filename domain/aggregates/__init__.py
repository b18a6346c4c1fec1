"""Aggregates for BI tools, managers and the board, read from rollups kept with every write."""
