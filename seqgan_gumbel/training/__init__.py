"""Training: MLE pretraining, adversarial training, callbacks, and whole runs."""
