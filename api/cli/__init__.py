"""The ``customer360`` command line: serve, seed, import, rollups, token, export-schema."""
