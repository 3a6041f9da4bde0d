import math

import pytest

from seqgan_gumbel.training.schedules import SCHEDULES, inverse_temperature

ANNEALING = [s for s in SCHEDULES if s != "no"]


@pytest.mark.parametrize("schedule", ANNEALING)
@pytest.mark.parametrize("num_steps", [10, 137, 5000])
@pytest.mark.parametrize("beta_max", [2.0, 100.0, 1000.0])
def test_each_schedule_starts_at_one_and_ends_at_beta_max(schedule, num_steps, beta_max):
    first = inverse_temperature(0, num_steps, beta_max, schedule)
    last = inverse_temperature(num_steps - 1, num_steps, beta_max, schedule)
    tolerance = 1e-9 * beta_max
    assert first == pytest.approx(1.0, abs=tolerance)
    assert last == pytest.approx(beta_max, abs=tolerance)


@pytest.mark.parametrize("schedule", ANNEALING)
def test_schedules_are_monotone(schedule):
    values = [inverse_temperature(i, 50, 100.0, schedule) for i in range(50)]
    assert all(b >= a for a, b in zip(values, values[1:]))


def test_schedule_uses_the_runs_own_length_not_5000():
    # RelGAN hard-codes N = 5000: with 100 steps it would stop near beta 1.
    assert inverse_temperature(99, 100, 100.0, "exp") == pytest.approx(100.0)
    assert inverse_temperature(50, 101, 100.0, "exp") == pytest.approx(10.0)


def test_schedules_at_a_quarter_of_the_run_against_hand_computed_values():
    # 9 steps (horizon 8), beta_max 9, step 2: t = 1/4, and ln 3 / ln 9 = 1/2.
    n, bm, i = 9, 9.0, 2
    expected = {"lin": 3.0, "exp": math.sqrt(3.0), "quad": 1.5, "sqrt": 5.0, "log": 5.0, "no": 9.0}
    for schedule, beta in expected.items():
        assert inverse_temperature(i, n, bm, schedule) == pytest.approx(beta, rel=1e-12), schedule
    # One step either side differs: an off-by-one in the step would not pass.
    assert inverse_temperature(i + 1, n, bm, "lin") == pytest.approx(4.0)
    assert inverse_temperature(i - 1, n, bm, "lin") == pytest.approx(2.0)


def test_the_sigmoid_schedule_is_relgans_logistic_curve_within_its_end_error():
    # RelGAN: (beta_max - 1) / (1 + exp((N/2 - i) 20 / N)) + 1, unscaled; ours
    # is rescaled to hit both ends, which RelGAN's misses by up to e^(-10 + 20/N)
    # of the range.
    n, bm = 11, 9.0
    end_error = (bm - 1) * math.exp(-10 + 20 / n)
    for i in range(n):
        relgan = (bm - 1) / (1 + math.exp((n / 2 - i) * 20 / n)) + 1
        assert inverse_temperature(i, n, bm, "sigmoid") == pytest.approx(relgan, abs=end_error)
    assert inverse_temperature(5, n, bm, "sigmoid") == pytest.approx(1 + 8 / (1 + math.exp(20 / 22)), rel=1e-3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="valid: no, lin"):
        inverse_temperature(0, 10, 2.0, "cosine")
    with pytest.raises(ValueError):
        inverse_temperature(0, 0, 2.0)
    with pytest.raises(ValueError):
        inverse_temperature(0, 10, 0.0)


def test_a_horizon_reproduces_relgans_trajectory():
    # RelGAN's exp schedule, beta_max ** (i / 5000), in a 2,000-step COCO run.
    for step, beta in [(0, 1.0), (1000, 2.51188643150958), (1999, 6.303764788294873)]:
        assert inverse_temperature(step, 2000, 100.0, "exp", horizon=5000) == pytest.approx(beta, rel=1e-12)
    # A 150-step quick run on the same curve: horizon 375 = 150 * 5000 / 2000.
    assert inverse_temperature(149, 150, 100.0, "exp", horizon=375) == pytest.approx(6.2325628497840055, rel=1e-12)
    # Past the horizon beta stays at beta_max; horizon 0 is the run's last step.
    assert inverse_temperature(7000, 8000, 100.0, "exp", horizon=5000) == 100.0
    assert inverse_temperature(99, 100, 100.0, "lin", horizon=0) == pytest.approx(100.0)
    with pytest.raises(ValueError):
        inverse_temperature(0, 10, 2.0, horizon=-1)


def test_the_fit_loop_sets_the_schedules_beta_before_every_step():
    """Inside `fit`, each step runs at beta(step), not only the last one."""
    import keras
    import numpy as np

    from seqgan_gumbel.corpus.pipelines import adversarial_batches
    from seqgan_gumbel.models import CNNDiscriminator, LSTMGenerator
    from seqgan_gumbel.training.adversarial import GumbelGAN
    from seqgan_gumbel.training.callbacks import TemperatureSchedule

    keras.utils.set_random_seed(0)
    gan = GumbelGAN(LSTMGenerator(10, 6, embedding_dim=4, hidden_dim=8),
                    CNNDiscriminator(10, 6, embedding_dim=4, num_filters=4), seed=1)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), discriminator_steps=1)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(float(logs["beta"]))

    ids = np.random.default_rng(0).integers(4, 10, size=(64, 6)).astype(np.int32)
    gan.fit(adversarial_batches(ids, 8, gan.real_batches_per_step, seed=0), steps_per_epoch=6, epochs=1, verbose=0,
            shuffle=False,
            callbacks=[TemperatureSchedule(6, 100.0, "exp", horizon=10), Record()])
    # beta_max ** (i / 10) for i = 0..5, written out: 1, 1.585, 2.512, 3.981, 6.310, 10.
    np.testing.assert_allclose(seen, [1.0, 1.584893, 2.511886, 3.981072, 6.309573, 10.0], rtol=1e-5)
