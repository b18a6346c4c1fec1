"""The tactical level of the loop: touchpoints judged against their standard over rolling windows of days."""
