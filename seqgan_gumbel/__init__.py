"""Gumbel-softmax generative adversarial networks for text.

The package is importable without TensorFlow being loaded: the metrics and the
tokenizer are pure Python/numpy, and the modules that need TensorFlow import it
themselves.
"""

__version__ = "0.1.0"
