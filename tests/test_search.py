"""The declared search space: ranges, scales and the balance of Sobol trials."""

import numpy as np
import pytest

from nnstudy.errors import ConfigError
from nnstudy.study import search

SPACE = {
    "learning_rate": {"low": 1e-4, "high": 3.0, "scale": "log"},
    "beta1": {"low": 0.5, "high": 0.999, "scale": "log1m"},
    "keep_prob": {"low": 0.5, "high": 1.0, "scale": "linear"},
    "patience": {"low": 2, "high": 20, "scale": "int"},
}


def back_to_unit(name, values):
    """Undo each scale's map, to look at the points in [0, 1)."""
    entry = SPACE[name]
    low, high = entry["low"], entry["high"]
    values = np.asarray(values, dtype=float)
    if entry["scale"] == "log":
        return (np.log(values) - np.log(low)) / (np.log(high) - np.log(low))
    if entry["scale"] == "log1m":
        return 1 - (np.log(1 - values) - np.log(1 - high)) / (np.log(1 - low) - np.log(1 - high))
    return (values - low) / (high - low)


def test_every_trial_lies_in_its_declared_range():
    for trial in search.trials(SPACE, 100, seed=3):
        for name, entry in SPACE.items():
            assert entry["low"] <= trial[name] <= entry["high"], (name, trial[name])
        assert isinstance(trial["patience"], int)


@pytest.mark.parametrize("name", ["learning_rate", "beta1", "keep_prob"])
def test_sixty_four_trials_fill_every_sixty_fourth_of_each_scale_once(name):
    # Sobol's balance, seen through the scale: uniform in log(lr), in log(1 - beta), in keep_prob.
    values = [t[name] for t in search.trials(SPACE, 64, seed=0)]
    cells = np.floor(back_to_unit(name, values) * 64 + 1e-9).astype(int)
    assert sorted(cells) == list(range(64))


def test_log1m_gives_betas_near_one_as_much_room_as_betas_near_a_half():
    betas = np.array([t["beta1"] for t in search.trials(SPACE, 256, seed=1)])
    # 1 - beta spans 0.001 .. 0.5: log-uniform puts half the trials below sqrt(0.001 * 0.5).
    assert np.mean(1 - betas < np.sqrt(0.001 * 0.5)) == pytest.approx(0.5, abs=1 / 256)


def test_an_integer_dimension_reaches_every_integer_in_its_range():
    values = {t["patience"] for t in search.trials(SPACE, 64, seed=2)}
    assert values == set(range(2, 21))


def test_the_same_seed_gives_the_same_trials_and_another_seed_others():
    assert search.trials(SPACE, 10, seed=5) == search.trials(SPACE, 10, seed=5)
    assert search.trials(SPACE, 10, seed=5) != search.trials(SPACE, 10, seed=6)


def test_a_budget_is_the_prefix_of_a_larger_one():
    # Budget curves compare K trials with 2K: the smaller budget is part of the larger.
    assert search.trials(SPACE, 5, seed=4) == search.trials(SPACE, 16, seed=4)[:5]


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"low": 1.0, "high": 0.1, "scale": "log"}, "learning_rate.low"),
        ({"low": 0.0, "high": 1.0, "scale": "log"}, "learning_rate.low"),
        ({"low": 0.5, "high": 1.0, "scale": "log1m"}, "learning_rate.high"),
        ({"low": 1.5, "high": 4, "scale": "int"}, "learning_rate.low"),
        ({"low": 0.1, "high": 1.0, "scale": "cubic"}, "learning_rate.scale"),
    ],
)
def test_a_bad_dimension_is_refused_by_name(entry, named):
    with pytest.raises(ConfigError, match=named):
        search.trials({"learning_rate": entry}, 4, seed=0)


@pytest.mark.parametrize("name", list(SPACE))
def test_position_undoes_the_scale(name):
    dim = search.dimension(name, SPACE[name])
    if dim.scale == "int":
        assert dim.position(dim.low) == 0 and dim.position(dim.high) == 1
        return
    u = np.array([0.0, 0.05, 0.5, 0.95])
    np.testing.assert_allclose(dim.position(dim.value(u)), u, atol=1e-12)


def test_a_value_in_the_outer_tenth_of_its_scale_is_at_the_edge():
    rate = search.dimension("learning_rate", SPACE["learning_rate"])
    # On a log scale from 1e-4 to 3, 1.8 sits at position 0.95 and 3e-4 at 0.107.
    assert rate.at_edge(1.8) and rate.at_edge(1.1e-4)
    assert not rate.at_edge(3e-4) and not rate.at_edge(0.01)
    beta = search.dimension("beta1", SPACE["beta1"])
    assert beta.at_edge(0.9985) and not beta.at_edge(0.99) and not beta.at_edge(0.9)
