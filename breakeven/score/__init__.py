"""Score stage: one cell's predictions against its examples, into per-example scores, metrics with CIs, error
classes, latency and tokens (the metrics file every later stage reads)."""
