"""Raw data sources and the preparation of splits."""
