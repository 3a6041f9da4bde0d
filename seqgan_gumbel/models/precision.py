"""Copies of a model under another Keras dtype policy (e.g. to sample a
float32-trained generator in mixed bfloat16)."""

from __future__ import annotations

import keras


def with_precision(model: keras.Model, precision: str) -> keras.Model:
    """The same model, with the same weights, computing under `precision`.

    Args:
        model: a model of this package (rebuilt from its `get_config`).
        precision: a Keras dtype policy name, "float32" or "mixed_bfloat16".

    Returns:
        `model` itself if it already computes under that policy, else a new
        model of its class whose layers compute in the new dtype; the weights
        stay float32 either way.
    """
    if model.dtype_policy.name == precision:
        return model
    copy = type(model).from_config({**model.get_config(), "dtype": precision})
    copy.set_weights(model.get_weights())
    return copy
