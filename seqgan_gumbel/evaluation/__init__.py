"""Evaluation: scoring samples (BLEU, Self-BLEU, NLL, validity), the
temperature sweep and the quality-diversity frontier, and a run's report."""
