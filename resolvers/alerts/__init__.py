"""GraphQL view of the closed loop: alerts, their queues, lifecycle mutations and live events."""
