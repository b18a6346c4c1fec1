"""The closed loop: alerts raised by bad experiences, routed, timed, escalated and answered."""
