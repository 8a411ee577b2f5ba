"""Data stage: raw rows from each task's source (hub, local mirror, generator), their provenance, and the seeded
splits (train, val, test, few-shot pool)."""
