"""Cost stage: cost per query (API and self-hosted), total cost of ownership over a horizon, break-even daily
volumes and their sensitivity."""
