"""The Gumbel-softmax relaxation of sampling from a categorical distribution.

y = softmax((logits + g) / tau), g = -log(-log(u)), u ~ U(0, 1): as tau -> 0
y tends to the one-hot of argmax(logits + g), which is an exact sample of
softmax(logits) (the Gumbel-max trick), while gradients flow through y.
The noise is added to the logits, never to a hidden state (Texygen's "GSGAN"
defect).
"""

from __future__ import annotations

import tensorflow as tf

# TensorFlow's Philox, as `tf.random.stateless_uniform` uses by default.
_PHILOX = 1


def gumbel_noise(shape, seed=None, dtype=tf.float32) -> tf.Tensor:
    """Standard Gumbel noise g = -log(-log(u)).

    Args:
        shape: the output shape.
        seed: a stateless seed (shape [2] int tensor) or None for TF's stateful RNG.
        dtype: float dtype.

    Returns:
        The noise tensor.
    """
    if seed is None:
        u = tf.random.uniform(shape, dtype=dtype)
    else:
        # The raw op: `stateless_uniform` would also rescale u to [0, 1) with
        # two more passes over the tensor; drawing the noise is most of the
        # cost of relaxed sampling over a large vocabulary.
        key, counter = tf.raw_ops.StatelessRandomGetKeyCounter(seed=seed)
        u = tf.raw_ops.StatelessRandomUniformV2(shape=shape, key=key, counter=counter, alg=_PHILOX, dtype=dtype)
    # u is in [0, 1): -log(u) > 0, and u == 0 (probability 2^-24 per entry)
    # gives -inf: that token cannot win this step, a negligible bias.
    return -tf.math.log(-tf.math.log(u))


def gumbel_softmax(logits: tf.Tensor, temperature, noise: tf.Tensor | None = None, hard: bool = False):
    """A relaxed one-hot sample softmax((logits + noise) / temperature).

    Args:
        logits: (..., vocabulary) unnormalised log-probabilities.
        temperature: tau > 0 (scalar or broadcastable tensor).
        noise: Gumbel noise of the logits' shape; drawn here when None.
        hard: straight-through: return the one-hot of argmax(logits + noise)
            in the forward pass, with the relaxed sample's gradient.

    Returns:
        (y, token_ids): the (relaxed or straight-through) one-hot sample and the
        sampled token ids argmax(logits + noise), which are exact samples of
        softmax(logits) whatever the temperature.
    """
    if noise is None:
        noise = gumbel_noise(tf.shape(logits), dtype=logits.dtype)
    perturbed = logits + noise
    y_soft = tf.nn.softmax(perturbed / temperature, axis=-1)
    token_ids = tf.argmax(perturbed, axis=-1, output_type=tf.int32)
    if hard:
        return straight_through(y_soft, token_ids), token_ids
    return y_soft, token_ids


def straight_through(y_soft: tf.Tensor, token_ids: tf.Tensor) -> tf.Tensor:
    """Hard one-hot forward, soft gradient backward.

    Args:
        y_soft: the relaxed sample.
        token_ids: the hard tokens (argmax of the perturbed logits).

    Returns:
        A tensor equal to one_hot(token_ids) whose gradient is y_soft's.
    """
    y_hard = tf.one_hot(token_ids, tf.shape(y_soft)[-1], dtype=y_soft.dtype)
    return y_soft + tf.stop_gradient(y_hard - y_soft)
