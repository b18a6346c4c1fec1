"""What an operation costs: its shape before it runs, the limits and budget it is held to, its actual cost."""
