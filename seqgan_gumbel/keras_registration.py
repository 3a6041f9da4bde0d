"""Lets plain Keras load a run's saved models after ``import seqgan_gumbel``.

The model classes register themselves with Keras when `seqgan_gumbel.models`
is imported, and that import loads TensorFlow, which ``import seqgan_gumbel``
must not (the metrics and the tokenizer work without it). So the package
waits instead: as soon as TensorFlow and Keras have both finished importing
(already, or whenever the user imports them, in either order), it imports
the models, and ``keras.saving.load_model("RUN/generator.keras", safe_mode=True)`` finds
their classes.
"""

from __future__ import annotations

import importlib.abc
import sys

# TensorFlow imports Keras halfway through its own import, and Keras imports
# TensorFlow (its backend) halfway through its own: the models can be imported
# only once the outer of the two has finished.
_WATCHED = ("tensorflow", "keras")


def register_models_when_keras_loads() -> None:
    """Imports `seqgan_gumbel.models` now if TensorFlow and Keras are loaded, else once they are."""
    if _loaded(finished=None):
        _register()
    elif not any(isinstance(finder, _ImportWatcher) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ImportWatcher())


def _loaded(finished: str | None) -> bool:
    """Whether both watched modules have finished importing (`finished` has, though still marked initializing)."""
    for name in _WATCHED:
        module = sys.modules.get(name)
        if module is None:
            return False
        if name != finished and getattr(getattr(module, "__spec__", None), "_initializing", False):
            return False
    return True


def _register() -> None:
    for finder in [f for f in sys.meta_path if isinstance(f, _ImportWatcher)]:
        sys.meta_path.remove(finder)
    try:
        import seqgan_gumbel.models  # noqa: F401  (the classes register with Keras when defined)
    except Exception as exc:  # never break the user's own `import tensorflow`
        import warnings

        warnings.warn(f"seqgan_gumbel could not register its models with Keras ({exc}); "
                      "import seqgan_gumbel.models before loading a run's .keras files", stacklevel=2)


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the real loader of TensorFlow and Keras to be told when each finishes."""

    def find_spec(self, name, path=None, target=None):
        if name not in _WATCHED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _NotifyingLoader(spec.loader, name)
                return spec
        return None


class _NotifyingLoader(importlib.abc.Loader):
    """The real loader, which it hands back to the module once the module has run."""

    def __init__(self, loader, name: str):
        self._loader = loader
        self._name = name

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        if _loaded(finished=self._name):
            _register()

    def __getattr__(self, attribute):
        return getattr(self._loader, attribute)
