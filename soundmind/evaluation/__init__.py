"""Evaluation: held-out-actor metrics and plots, actor cross-validation, the seed-protocol audit."""
