import math

import pytest

from seqgan_gumbel.schedules import SCHEDULES, inverse_temperature

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


def test_reference_formulas_at_a_midpoint():
    n, bm, i = 11, 9.0, 5
    assert inverse_temperature(i, n, bm, "lin") == pytest.approx(1 + i / (n - 1) * (bm - 1))
    assert inverse_temperature(i, n, bm, "log") == pytest.approx(1 + (bm - 1) / math.log(n) * math.log(i + 1))
    logistic = [1 / (1 + math.exp((n / 2 - j) * 20 / n)) for j in (0, i, n - 1)]
    expected = 1 + (bm - 1) * (logistic[1] - logistic[0]) / (logistic[2] - logistic[0])
    assert inverse_temperature(i, n, bm, "sigmoid") == pytest.approx(expected)
    # ... which is RelGAN's unscaled curve to within its e^-10 end error.
    assert expected == pytest.approx((bm - 1) / (1 + math.exp((n / 2 - i) * 20 / n)) + 1, rel=1e-3)
    assert inverse_temperature(i, n, bm, "quad") == pytest.approx((bm - 1) / (n - 1) ** 2 * i**2 + 1)
    assert inverse_temperature(i, n, bm, "sqrt") == pytest.approx((bm - 1) / math.sqrt(n - 1) * math.sqrt(i) + 1)
    assert inverse_temperature(i, n, bm, "no") == bm


def test_bad_arguments():
    with pytest.raises(ValueError, match="valid: no, lin"):
        inverse_temperature(0, 10, 2.0, "cosine")
    with pytest.raises(ValueError):
        inverse_temperature(0, 0, 2.0)
    with pytest.raises(ValueError):
        inverse_temperature(0, 10, 0.0)
