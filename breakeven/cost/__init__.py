"""Cost stage: cost per query (API, rented or owned hardware), the cost of wrong answers, fixed costs (training,
the gate's and the sweep's runs, engineering), total cost of ownership over a horizon, break-even daily volumes
with intervals over resampled test examples, their sensitivity and their curve over the cost of an error."""
