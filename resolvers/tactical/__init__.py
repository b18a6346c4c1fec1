"""GraphQL view of the tactical level: breaches of window targets and each day's window."""
