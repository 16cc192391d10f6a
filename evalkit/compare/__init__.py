"""Compare runs (checkpoints) sample by sample, and gate CI on significant regressions."""
