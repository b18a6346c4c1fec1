"""Employees: the people customers are owned by and alerts are routed to."""
