"""GraphQL view of the daily digest: asked for, and pushed once a day per region."""
