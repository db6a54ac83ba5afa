"""The tuning choice: best mean dev accuracy, diverged trials never chosen, ties by cost then order."""

import math

import pytest

from nnstudy.selection import best_trial, trial_scores


def rows(trial, accuracies, costs, status="ok", test=0.5):
    return [
        {"trial": trial, "seed": s, "status": status, "dev_accuracy": a, "dev_cost": c, "test_accuracy": test}
        for s, (a, c) in enumerate(zip(accuracies, costs))
    ]


def test_the_best_mean_dev_accuracy_wins():
    scores = trial_scores(rows(0, [0.8, 0.9], [0.3, 0.3]) + rows(1, [0.9, 0.9], [0.5, 0.5]))
    assert [s.dev_accuracy for s in scores] == pytest.approx([0.85, 0.9])
    assert best_trial(scores).trial == 1


def test_a_trial_with_one_diverged_seed_is_never_chosen():
    diverged = rows(0, [0.99], [0.1]) + rows(0, [math.nan], [math.nan], status="diverged")
    scores = trial_scores(diverged + rows(1, [0.6, 0.6], [0.7, 0.7]))
    assert scores[0].diverged
    assert best_trial(scores).trial == 1


def test_ties_go_to_the_lower_dev_cost_then_the_earlier_trial():
    tied = rows(0, [0.9], [0.4]) + rows(1, [0.9], [0.2]) + rows(2, [0.9], [0.2])
    assert best_trial(trial_scores(tied)).trial == 1


def test_nothing_is_chosen_when_every_trial_diverged():
    assert best_trial(trial_scores(rows(0, [math.nan], [math.nan], status="diverged"))) is None
