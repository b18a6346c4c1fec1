"""Service standards: per region and touchpoint, what a bad experience is and how fast it is handled."""
