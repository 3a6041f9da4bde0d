import numpy as np
import pytest
import tensorflow as tf

from seqgan_gumbel.training.losses import GAN_LOSSES, get_gan_loss


def _bce(logits, label):
    p = 1 / (1 + np.exp(-logits))
    return -np.mean(label * np.log(p) + (1 - label) * np.log(1 - p))


REAL = np.array([1.5, -0.3, 0.8], np.float32)
FAKE = np.array([-1.0, 0.2, 0.4], np.float32)


def test_standard_loss_is_bce_with_non_saturating_generator():
    d, g = get_gan_loss("standard")(tf.constant(REAL), tf.constant(FAKE))
    assert float(d) == pytest.approx(_bce(REAL, 1) + _bce(FAKE, 0), rel=1e-5)
    assert float(g) == pytest.approx(_bce(FAKE, 1), rel=1e-5)


def test_rsgan_loss_is_relativistic():
    d, g = get_gan_loss("rsgan")(tf.constant(REAL), tf.constant(FAKE))
    assert float(d) == pytest.approx(_bce(REAL - FAKE, 1), rel=1e-5)
    assert float(g) == pytest.approx(_bce(FAKE - REAL, 1), rel=1e-5)


def test_hinge_and_least_squares():
    d, g = get_gan_loss("hinge")(tf.constant(REAL), tf.constant(FAKE))
    assert float(d) == pytest.approx(np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE)), rel=1e-5)
    assert float(g) == pytest.approx(-FAKE.mean(), rel=1e-5)
    d, g = get_gan_loss("lsgan")(tf.constant(REAL), tf.constant(FAKE))
    assert float(d) == pytest.approx(0.5 * (np.mean((REAL - 1) ** 2) + np.mean(FAKE**2)), rel=1e-5)
    assert float(g) == pytest.approx(0.5 * np.mean((FAKE - 1) ** 2), rel=1e-5)


@pytest.mark.parametrize("name", sorted(GAN_LOSSES))
def test_generator_loss_falls_as_fakes_look_more_real(name):
    loss = get_gan_loss(name)
    _, worse = loss(tf.constant(REAL), tf.constant(FAKE))
    _, better = loss(tf.constant(REAL), tf.constant(FAKE + 1.0))
    assert float(better) < float(worse)


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match="valid: standard, rsgan"):
        get_gan_loss("wasserstein")
