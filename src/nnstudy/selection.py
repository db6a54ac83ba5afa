"""How a tuning unit picks its configuration: the one rule, shared by the tuning job and the analysis.

A unit's trials are each trained on every tuning seed. A trial scores its
mean dev accuracy over those seeds; a trial with any diverged seed is never
chosen; ties go to the lower mean dev cost, then to the earlier trial. The
tuning job applies :func:`best_trial` once and writes the choice down; the
budget curves apply the same rule to random subsets of the trials, so the
curve at the full budget ends at the configuration the study trained with.
"""

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TrialScore:
    """One trial of a unit, summarized over its tuning seeds."""

    trial: int
    dev_accuracy: float
    dev_cost: float
    test_accuracy: float
    diverged: bool

    def rank_key(self):
        """Smaller is better: higher accuracy, then lower cost, then earlier trial."""
        cost = self.dev_cost if math.isfinite(self.dev_cost) else math.inf
        return (-self.dev_accuracy, cost, self.trial)


def trial_scores(rows):
    """One :class:`TrialScore` per trial, in trial order, from rows of (trial, seed).

    rows : dicts with ``trial``, ``status``, ``dev_accuracy``, ``dev_cost``
        and ``test_accuracy`` (one per trial and tuning seed).
    """
    by_trial = {}
    for row in rows:
        by_trial.setdefault(int(row["trial"]), []).append(row)
    scores = []
    for trial in sorted(by_trial):
        group = by_trial[trial]
        diverged = any(r["status"] == "diverged" for r in group)
        with np.errstate(all="ignore"):
            scores.append(TrialScore(
                trial,
                float(np.mean([r["dev_accuracy"] for r in group])),
                float(np.mean([r["dev_cost"] for r in group])),
                float(np.mean([r["test_accuracy"] for r in group])),
                diverged or not math.isfinite(float(np.mean([r["dev_accuracy"] for r in group]))),
            ))
    return scores


def best_trial(scores):
    """The chosen :class:`TrialScore`, or None when every trial diverged."""
    candidates = [s for s in scores if not s.diverged]
    return min(candidates, key=TrialScore.rank_key) if candidates else None
