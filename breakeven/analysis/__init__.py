"""Analysis stage: cell metric files collected into tidy tables, paired tests against a reference, pre-registered
hypotheses, and the spread across seeds and test resamples."""
