"""Text-generation metrics (pure Python/numpy, no TensorFlow)."""
