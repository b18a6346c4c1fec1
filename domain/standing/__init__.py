"""Customers' standing: a priority and a next best action with their reasons, and the worklist they make."""
