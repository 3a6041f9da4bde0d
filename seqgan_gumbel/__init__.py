"""Gumbel-softmax generative adversarial networks for text.

The three jobs, callable from Python::

    from seqgan_gumbel import Config, train, generate, evaluate_files

    config = Config()
    config.data.corpus = "data/simple_english/train.txt"
    config.data.test = "data/simple_english/test.txt"
    result = train(config, "runs/demo")            # RunResult: metrics, samples
    sentences = generate("runs/demo", num=100, seed=1)
    scores = evaluate_files("samples.txt", "data/simple_english/test.txt")

The package is importable without loading TensorFlow: the names above are
resolved on first use, and the metrics and tokenizer are pure Python/numpy.
A run's saved models load with plain Keras after ``import seqgan_gumbel``
(``keras.saving.load_model("runs/demo/generator.keras", safe_mode=True)``): the model classes
register with Keras as soon as TensorFlow and Keras are imported.
"""

from seqgan_gumbel.version import __version__
from seqgan_gumbel.keras_registration import register_models_when_keras_loads as _register_models

_register_models()

_LAZY = {
    "Config": ("seqgan_gumbel.config", "Config"),
    "train": ("seqgan_gumbel.training.run", "train"),
    "generate": ("seqgan_gumbel.generation", "generate"),
    "evaluate_files": ("seqgan_gumbel.evaluation.files", "evaluate_files"),
    "bleu": ("seqgan_gumbel.metrics.bleu", "bleu"),
    "self_bleu": ("seqgan_gumbel.metrics.bleu", "self_bleu"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'seqgan_gumbel' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    return getattr(importlib.import_module(module_name), attribute)
