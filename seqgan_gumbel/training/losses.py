"""GAN losses over discriminator logits, chosen by name.

Each loss maps (real_logits, fake_logits) to (discriminator_loss,
generator_loss), both scalars. Binary cross-entropy on logits is written with
softplus: BCE(x, 1) = softplus(-x), BCE(x, 0) = softplus(x).
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

LossFn = Callable[[tf.Tensor, tf.Tensor], "tuple[tf.Tensor, tf.Tensor]"]


def standard_loss(real_logits, fake_logits):
    """Goodfellow et al.'s GAN with the non-saturating generator loss."""
    d_loss = tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))
    g_loss = tf.reduce_mean(tf.nn.softplus(-fake_logits))
    return d_loss, g_loss


def rsgan_loss(real_logits, fake_logits):
    """Relativistic standard GAN (RelGAN's choice): BCE(D(real) - D(fake), 1) and its mirror."""
    d_loss = tf.reduce_mean(tf.nn.softplus(-(real_logits - fake_logits)))
    g_loss = tf.reduce_mean(tf.nn.softplus(-(fake_logits - real_logits)))
    return d_loss, g_loss


def hinge_loss(real_logits, fake_logits):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018)."""
    d_loss = tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) + tf.reduce_mean(tf.nn.relu(1.0 + fake_logits))
    g_loss = -tf.reduce_mean(fake_logits)
    return d_loss, g_loss


def least_squares_loss(real_logits, fake_logits):
    """Least-squares GAN (Mao et al. 2017) with targets 1 (real) and 0 (fake)."""
    d_loss = 0.5 * (tf.reduce_mean(tf.square(real_logits - 1.0)) + tf.reduce_mean(tf.square(fake_logits)))
    g_loss = 0.5 * tf.reduce_mean(tf.square(fake_logits - 1.0))
    return d_loss, g_loss


def wasserstein_loss(real_logits, fake_logits):
    """Wasserstein GAN critic and generator losses; "wgan-gp" adds the gradient
    penalty in the training step, where the interpolates are available."""
    d_loss = tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)
    g_loss = -tf.reduce_mean(fake_logits)
    return d_loss, g_loss


GAN_LOSSES: dict[str, LossFn] = {
    "standard": standard_loss,
    "rsgan": rsgan_loss,
    "hinge": hinge_loss,
    "lsgan": least_squares_loss,
    "wgan-gp": wasserstein_loss,
}


def get_gan_loss(name: str) -> LossFn:
    """The loss function of a name in GAN_LOSSES.

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    try:
        return GAN_LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown GAN loss {name!r}; valid: {', '.join(GAN_LOSSES)}") from None
