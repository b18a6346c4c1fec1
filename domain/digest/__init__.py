"""The daily digest: a day's new alerts, breaches, rising root causes and what was resolved, and how."""
