"""Budget curves and the probability of the best optimizer, against brute force and on planted effects."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from nnstudy import selection
from nnstudy.analysis import budget

HYPERPARAMETERS = ("learning_rate", "beta", "beta1", "beta2", "epsilon", "lambd", "keep_prob", "patience")
CHANCE = pd.DataFrame({"chance_dev": [0.5, 0.4], "chance_test": [0.55, 0.45]}, index=["moons", "circles"])


def unit_rows(unit, dev, test=None, diverged=(), seeds=2, cost=None, jitter=0.0, seed=0):
    """tuning_trials rows of one unit: trial t scores dev[t] (+- jitter over seeds) on every tuning seed."""
    gen = np.random.default_rng(seed)
    test = dev if test is None else test
    rows = []
    for t, (d, s) in enumerate(zip(dev, test)):
        for n in range(seeds):
            bad = t in diverged and n == seeds - 1  # one diverged seed is enough to rule a trial out
            shift = float(gen.uniform(-jitter, jitter)) if jitter else 0.0
            row = dict(zip(budget.UNIT, unit), trial=t, seed=n, status="diverged" if bad else "ok",
                       train_accuracy=math.nan if bad else d, dev_accuracy=math.nan if bad else d + shift,
                       test_accuracy=math.nan if bad else s, dev_cost=math.nan if bad else
                       (cost[t] if cost is not None else 1 - d))
            for name in HYPERPARAMETERS:
                row[name] = 0.01 * (t + 1) if name == "learning_rate" else math.nan
                row[budget.POSITION_PREFIX + name] = (t + 0.5) / len(dev) if name == "learning_rate" else math.nan
            rows.append(row)
    return rows


def frame(*parts):
    return pd.DataFrame([row for part in parts for row in part])


def brute_force(trials, chance_dev, chance_test, k):
    """Mean (dev, test) of the rule's choice over every k-subset; chance when it chooses nothing."""
    scores = selection.trial_scores(trials.to_dict("records"))
    devs, tests = [], []
    for subset in itertools.combinations(scores, k):
        best = selection.best_trial(list(subset))
        devs.append(chance_dev if best is None else best.dev_accuracy)
        tests.append(chance_test if best is None else best.test_accuracy)
    return np.mean(devs), np.mean(tests)


UNIT_A = ("moons", "he", "none", "adam")


@pytest.mark.parametrize("jitter", [0.0, 0.05])
@pytest.mark.parametrize("diverged", [(), (1,), (0, 3, 4), (0, 1, 2, 3, 4, 5)])
def test_expected_curves_equal_the_mean_over_every_subset(diverged, jitter):
    dev = [0.7, 0.9, 0.8, 0.9, 0.6, 0.75]
    test = [0.65, 0.8, 0.85, 0.7, 0.5, 0.9]
    cost = [0.5, 0.3, 0.4, 0.2, 0.6, 0.45]  # without jitter the 0.9 tie goes to trial 3 (lower cost)
    trials = frame(unit_rows(UNIT_A, dev, test, diverged, cost=cost, jitter=jitter))
    curves, _ = budget.budget_curves(budget.unit_scores(trials), CHANCE, samples=50)
    for row in curves.itertuples():
        want_dev, want_test = brute_force(trials, 0.5, 0.55, row.k)
        assert row.dev_accuracy == pytest.approx(want_dev, abs=1e-12)
        assert row.test_accuracy == pytest.approx(want_test, abs=1e-12)
        assert row.p_nothing_chosen == pytest.approx(math.comb(len(diverged), row.k) / math.comb(6, row.k))


def test_the_full_budget_ends_at_the_chosen_trial_and_one_trial_at_the_mean():
    dev = [0.7, 0.9, 0.8]
    trials = frame(unit_rows(UNIT_A, dev, diverged=(2,)))
    curves, _ = budget.budget_curves(budget.unit_scores(trials), CHANCE, samples=20)
    assert curves["dev_accuracy"].iloc[-1] == pytest.approx(0.9)
    # k = 1: each trial with probability 1/3, the diverged one at chance.
    assert curves["dev_accuracy"].iloc[0] == pytest.approx((0.7 + 0.9 + 0.5) / 3)
    assert list(curves["dev_accuracy"].diff().dropna() >= 0) == [True, True]


def test_weights_are_a_distribution_and_favour_the_best_with_budget():
    for n in (1, 4, 9):
        weights = budget.weight_matrix(n)
        assert weights.sum(axis=0) == pytest.approx(np.ones(n))
    assert budget.choice_weights(5, 5) == pytest.approx([1, 0, 0, 0, 0])
    assert budget.choice_weights(5, 1) == pytest.approx([0.2] * 5)


def test_bootstrap_bands_hold_the_estimate_are_seeded_and_collapse_for_equal_trials():
    gen = np.random.default_rng(3)
    trials = frame(unit_rows(UNIT_A, list(gen.uniform(0.6, 0.95, 8))))
    first, _ = budget.budget_curves(budget.unit_scores(trials), CHANCE, samples=400, seed=1)
    again, _ = budget.budget_curves(budget.unit_scores(trials), CHANCE, samples=400, seed=1)
    pd.testing.assert_frame_equal(first, again)
    assert (first["dev_low"] <= first["dev_accuracy"] + 1e-12).all()
    assert (first["dev_high"] >= first["dev_accuracy"] - 1e-12).all()
    assert (first["dev_high"] - first["dev_low"]).iloc[0] > 0.01
    flat, _ = budget.budget_curves(budget.unit_scores(frame(unit_rows(UNIT_A, [0.8] * 6))), CHANCE, samples=100)
    assert flat["dev_high"].to_numpy() == pytest.approx(flat["dev_low"].to_numpy())


def test_a_stale_chosen_table_is_refused():
    trials = frame(unit_rows(UNIT_A, [0.7, 0.9, 0.8]))
    chosen = pd.DataFrame([{**dict(zip(budget.UNIT, UNIT_A)), "trial": 0, "edges": ""}])
    with pytest.raises(ValueError, match="chooses 1"):
        budget.budget_tables(trials, chosen, CHANCE, samples=10)
    budget.budget_tables(trials, chosen.assign(trial=1), CHANCE, samples=10)
    failed = frame(unit_rows(UNIT_A, [0.7, 0.9], diverged=(0, 1)))
    tables = budget.budget_tables(failed, chosen.assign(trial=math.nan), CHANCE, samples=10)
    assert tables["budget_curves"]["dev_accuracy"].to_numpy() == pytest.approx([0.5, 0.5])
    with pytest.raises(ValueError, match="chooses None"):
        budget.budget_tables(failed, chosen.assign(trial=0), CHANCE, samples=10)


def monte_carlo_best(distributions, draws=200000, seed=0):
    """P(each is the largest of independent draws), ties split evenly, by sampling."""
    gen = np.random.default_rng(seed)
    samples = np.stack([gen.choice(list(d), size=draws, p=np.array(list(d.values())) / sum(d.values()))
                        for d in distributions])
    top = samples.max(axis=0)
    at_top = samples == top
    return (at_top / at_top.sum(axis=0)).mean(axis=1)


def test_best_probabilities_match_monte_carlo_with_ties():
    distributions = [{0.5: 0.2, 0.8: 0.5, 0.9: 0.3}, {0.8: 0.6, 0.9: 0.4}, {0.5: 0.5, 0.95: 0.5}, {0.9: 1.0}]
    values = sorted({v for d in distributions for v in d})
    exact = budget.best_probabilities([[d.get(v, 0.0) for v in values] for d in distributions])
    assert sum(exact) == pytest.approx(1.0)
    assert exact == pytest.approx(monte_carlo_best(distributions), abs=0.005)


def test_the_probability_table_matches_random_subsets_drawn_per_optimizer():
    gen = np.random.default_rng(5)
    parts = {o: list(np.round(gen.uniform(0.6, 0.9, 6), 2)) for o in ("gd", "momentum", "adam")}
    trials = frame(*(unit_rows(("moons", "he", "none", o), dev, diverged=(0,) if o == "gd" else ())
                     for o, dev in parts.items()))
    table = budget.best_optimizer_probability(budget.unit_scores(trials), CHANCE)
    for k in (1, 3):
        draws = 20000
        chosen = {}
        for o, dev in parts.items():
            scores = selection.trial_scores(trials[trials["optimizer"] == o].to_dict("records"))
            picks = []
            for _ in range(draws):
                subset = [scores[i] for i in gen.choice(6, size=k, replace=False)]
                best = selection.best_trial(subset)
                picks.append(0.5 if best is None else round(best.dev_accuracy, 12))
            chosen[o] = np.array(picks)
        values = np.stack(list(chosen.values()))
        at_top = values == values.max(axis=0)
        sampled = (at_top / at_top.sum(axis=0)).mean(axis=1)
        exact = table[table["k"] == k].set_index("optimizer").loc[list(parts), "probability"].to_numpy()
        assert exact == pytest.approx(sampled, abs=0.015)


def test_a_uniformly_better_optimizer_wins_as_the_budget_grows():
    gen = np.random.default_rng(0)
    base = gen.uniform(0.6, 0.9, 8)
    trials = frame(unit_rows(("moons", "he", "none", "adam"), list(base + 0.02)),
                   unit_rows(("moons", "he", "none", "gd"), list(gen.permutation(base))))
    table = budget.best_optimizer_probability(budget.unit_scores(trials), CHANCE)
    adam = table[table["optimizer"] == "adam"].sort_values("k")["probability"].to_numpy()
    assert adam[0] > 0.5
    assert np.all(np.diff(adam) >= -1e-12)
    assert adam[-1] == pytest.approx(1.0)


def test_equal_optimizers_split_evenly_and_blocks_are_averaged_per_dataset():
    dev = [0.7, 0.8, 0.9, 0.6]
    parts = [unit_rows((d, i, "none", o), dev) for d in ("moons", "circles") for i in ("he", "xavier")
             for o in ("gd", "momentum", "adam")]
    table = budget.best_optimizer_probability(budget.unit_scores(frame(*parts)), CHANCE)
    assert table["probability"].to_numpy() == pytest.approx(np.full(len(table), 1 / 3))
    assert set(table["blocks"]) == {2}
    assert len(table) == 2 * 4 * 3


def test_summary_averages_units_and_pools_regularizers():
    parts = [unit_rows(("moons", i, r, "adam"), [0.6 + 0.1 * j + 0.05 * (i == "he") for j in range(3)])
             for i in ("he", "xavier") for r in ("none", "l2")]
    trials = frame(*parts)
    curves, resampled = budget.budget_curves(budget.unit_scores(trials), CHANCE, samples=200)
    summary = budget.budget_summary(curves, resampled)
    assert set(summary["regularizer"]) == {"none", "l2", "all"}
    pooled = summary[summary["regularizer"] == "all"].set_index("k")
    assert pooled["units"].iloc[0] == 4
    assert pooled["dev_accuracy"].to_numpy() == pytest.approx(curves.groupby("k")["dev_accuracy"].mean().to_numpy())
    assert (pooled["dev_low"] <= pooled["dev_accuracy"] + 1e-12).all()
    assert (pooled["dev_high"] >= pooled["dev_accuracy"] - 1e-12).all()


def test_edges_list_each_dimension_with_its_chosen_value_and_side():
    chosen = pd.DataFrame([
        {**dict(zip(budget.UNIT, UNIT_A)), "trial": 3, "learning_rate": 2.9, "position_learning_rate": 0.97,
         "lambd": 1e-5, "position_lambd": 0.02, "edges": "learning_rate;lambd"},
        {**dict(zip(budget.UNIT, ("moons", "he", "none", "gd"))), "trial": 1, "learning_rate": 0.1,
         "position_learning_rate": 0.5, "lambd": 0.01, "position_lambd": 0.5, "edges": math.nan},
    ])
    edges = budget.tuning_edges(chosen)
    assert list(edges["dimension"]) == ["learning_rate", "lambd"]
    assert list(edges["side"]) == ["high", "low"]
    assert list(edges["value"]) == [2.9, 1e-5]
    assert set(edges["optimizer"]) == {"adam"}


def chosen_table(trials, edges=""):
    """tuning_chosen as the tuning job writes it: the rule's choice per unit, means over tuning seeds."""
    rows = []
    for key, part in trials.groupby(list(budget.UNIT), sort=False):
        best = selection.best_trial(selection.trial_scores(part.to_dict("records")))
        first = part[part["trial"] == best.trial].iloc[0]
        rows.append({**dict(zip(budget.UNIT, key)), "trial": best.trial, "dev_accuracy": best.dev_accuracy,
                     "test_accuracy": best.test_accuracy,
                     **{c: first[c] for c in part.columns if c in HYPERPARAMETERS or c.startswith("position_")},
                     "edges": edges})
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_the_workflow_rule_writes_the_budget_tables_from_the_tuning_tables(tmp_path):
    from conftest import snakemake, write_config
    from nnstudy import paths

    config = write_config(tmp_path)
    units = [("circles", "he", "none", "gd"), ("circles", "he", "none", "adam"), ("digits", "he", "none", "gd"),
             ("digits", "he", "none", "adam")]
    # Every trial of digits/gd diverged: its curve is the chance rate of the dataset file.
    trials = frame(*(unit_rows(u, [0.7, 0.9, 0.8, 0.85], diverged=range(4) if u[0] == "digits" and u[3] == "gd"
                               else ()) for u in units))
    chosen = chosen_table(trials[~((trials["dataset"] == "digits") & (trials["optimizer"] == "gd"))])
    for name, table in (("tuning_trials", trials), ("tuning_chosen", chosen.assign(edges="learning_rate"))):
        path = tmp_path / paths.table(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, index=False)
    targets = [paths.table(n) for n in ("budget_curves", "budget_summary", "best_optimizer_probability",
                                        "tuning_edges")]
    # The planted tables stand for the tuning jobs' output: only this rule and the datasets may run.
    result = snakemake("--cores", "1", f"--configfile={config}", "--allowed-rules", "budget_tables", "dataset",
                       "--", *targets, workdir=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    curves = pd.read_csv(tmp_path / targets[0])
    full = curves[curves["k"] == 4].set_index(["dataset", "optimizer"])
    assert full.loc[("circles", "adam"), "dev_accuracy"] == pytest.approx(0.9)
    nothing = curves[(curves["dataset"] == "digits") & (curves["optimizer"] == "gd")]
    assert (nothing["p_nothing_chosen"] == 1).all()
    chance = nothing["dev_accuracy"].iloc[0]
    assert nothing["dev_accuracy"].to_numpy() == pytest.approx(np.full(len(nothing), chance)) and 0.05 < chance < 0.5
    probability = pd.read_csv(tmp_path / targets[2])
    assert probability.query("dataset == 'digits' and optimizer == 'adam'")["probability"].to_numpy() \
        == pytest.approx(1.0)
    assert len(pd.read_csv(tmp_path / targets[3])) == len(chosen)
