"""Learning-rate schedules: values at a few epochs, worked by hand."""

import math

import numpy as np
import pytest

from nnstudy.core import schedules
from nnstudy.errors import ConfigError

# name, decay_rate, decay_interval, {epoch: rate} for learning_rate 0.1
TABLE = [
    ("constant", 0.5, 1, {0: 0.1, 1: 0.1, 100: 0.1}),
    # 0.1 / (1 + 1 * epoch)
    ("inverse_time", 1.0, 1, {0: 0.1, 1: 0.05, 3: 0.025, 9: 0.01}),
    # 0.1 * exp(-0.5 * epoch)
    ("exponential", 0.5, 1, {0: 0.1, 2: 0.1 / math.e, 4: 0.1 / math.e**2}),
    # 0.1 / (1 + 1 * floor(epoch / 10)): constant within each block of 10 epochs
    ("step", 1.0, 10, {0: 0.1, 9: 0.1, 10: 0.05, 19: 0.05, 25: 0.1 / 3.0}),
    # the interval is ignored by the smooth schedules but used by "step"
    ("step", 0.5, 3, {2: 0.1, 3: 0.1 / 1.5, 6: 0.05}),
]


def test_every_schedule_has_a_row():
    assert {row[0] for row in TABLE} == set(schedules.SCHEDULES)


@pytest.mark.parametrize("name, rate, interval, expected", TABLE)
def test_values_by_hand(name, rate, interval, expected):
    schedules.check_schedule(name, rate, interval)
    for epoch, value in expected.items():
        got = schedules.learning_rate_at(name, 0.1, epoch, rate, interval)
        assert float(got) == pytest.approx(value, rel=1e-14), (name, epoch)


@pytest.mark.parametrize("name", sorted(schedules.SCHEDULES))
def test_zero_decay_is_constant_and_epoch_zero_is_the_initial_rate(name):
    for epoch in (0, 1, 7, 50):
        assert float(schedules.learning_rate_at(name, 0.3, epoch, 0.0, 2)) == 0.3
    assert float(schedules.learning_rate_at(name, 0.3, 0, 2.0, 2)) == 0.3


@pytest.mark.parametrize("name", sorted(schedules.SCHEDULES))
def test_per_model_learning_rates_keep_their_shape(name):
    lr = np.array([0.1, 0.2, 0.4]).reshape(-1, 1, 1)
    got = schedules.learning_rate_at(name, lr, 12, 0.5, 5)
    assert got.shape == (3, 1, 1)
    # Every model decays by the same factor.
    np.testing.assert_allclose(got / lr, np.full((3, 1, 1), got[0, 0, 0] / 0.1), rtol=1e-14)


def test_decaying_schedules_never_increase():
    for name in ("inverse_time", "exponential", "step"):
        values = [float(schedules.learning_rate_at(name, 1.0, e, 0.3, 4)) for e in range(40)]
        assert all(b <= a for a, b in zip(values, values[1:])), name
        assert values[-1] < values[0], name


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(name="cosine"), r"schedule='cosine'"),
        (dict(name="step", decay_rate=-0.1), r"decay_rate=-0\.1"),
        (dict(name="exponential", decay_rate=float("inf")), r"decay_rate=inf"),
        (dict(name="exponential", decay_rate=float("nan")), r"decay_rate=nan"),
        (dict(name="step", decay_interval=0), r"decay_interval=0"),
        (dict(name="step", decay_interval=-3), r"decay_interval=-3"),
        (dict(name="step", decay_interval=2.5), r"decay_interval=2\.5"),
        (dict(name="step", decay_interval=float("inf")), r"decay_interval=inf"),
        (dict(name="step", decay_interval=float("nan")), r"decay_interval=nan"),
    ],
)
def test_bad_schedules_raise_naming_parameter_and_value(kwargs, pattern):
    with pytest.raises(ConfigError, match=pattern):
        schedules.check_schedule(**kwargs)
