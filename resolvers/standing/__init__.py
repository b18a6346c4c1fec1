"""GraphQL view of customers' standing and the frontline worklist."""
