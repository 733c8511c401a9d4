"""Core of cc_cleaner: documents, steps, stages, engines, checkpoints, I/O."""
