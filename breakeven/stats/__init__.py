"""Statistics shared by the stages that report a number: bootstrap confidence intervals over test examples."""
