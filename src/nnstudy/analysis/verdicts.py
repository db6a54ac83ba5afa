"""Verdicts: what the study can claim about each factor, in which scope, and how sure.

A *run* is one (dataset, seed, initializer, regularizer, optimizer). Two
levels a, b of a factor are compared within matched runs (same dataset, seed
and levels of the other factors): d = score(a) - score(b). The differences
are averaged into *blocks*, and blocks are what the tests count:

* scope ``all`` and ``<factor>=<level>`` (a claim about datasets in general,
  or about datasets under one level of another factor): one block per
  dataset, the mean of its differences over seeds and other factors;
* scope ``dataset=<name>`` (a claim about that dataset): one block per seed.

With a single dataset, every scope uses seeds. For each row the estimate is
the mean block difference with a Student-t interval, the p-value is the
two-sided one-sample t test of a zero mean, and the Bayesian signed-rank
test on the same blocks gives P(a better by more than the ROPE),
P(within the ROPE), P(b better). Holm's correction runs over every row of a
factor (all pairs, all scopes), so the chance of any false "a better" /
"b better" about a factor stays at alpha.

Verdict of a simple-effect row (``<factor>=<level>``, ``dataset=<name>``):
``equivalent`` when P(equivalent) >= EQUIVALENCE_PROBABILITY and two
one-sided t tests put the mean inside the ROPE (the 90% interval inside
it), else ``a
better`` / ``b better`` when p_holm <= alpha, else ``undecided``. The
overall row (``all``) gets the same unless its effect *depends* on another
factor or on the dataset: a heterogeneity test of its simple effects is
significant after Holm (over the factor's heterogeneity tests), or its
simple effects reach verdicts that disagree (one direction beside the other
direction or beside equivalence). Then it is ``depends``.
"""

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from nnstudy.analysis import comparisons
from nnstudy.analysis.interactions import POWER, detectable_shift, one_way_heterogeneity, two_way_heterogeneity

FACTORS = ("initializer", "regularizer", "optimizer")
ALPHA = 0.05
ROPE = 0.01
EQUIVALENCE_PROBABILITY = 0.95
# A level fails when more than this share of its runs diverged or stalled at chance.
FAILING_SHARE = 0.5
VERDICT_COLUMNS = ("factor", "level_a", "level_b", "scope", "estimate", "ci_low", "ci_high", "p_holm",
                   "p_a_better", "p_equivalent", "p_b_better", "verdict")
VERDICTS = ("a better", "b better", "equivalent", "undecided", "depends")


# ---------------------------------------------------------------------------
# Scores and failures


def stall_margin(chance, n_train):
    """How close to chance a training accuracy may be and still count as stalled.

    Two binomial standard errors of the chance rate on the training split, at least 0.01.
    """
    return np.maximum(0.01, 2 * np.sqrt(chance * (1 - chance) / n_train))


def prepare_runs(runs, chance=None):
    """The runs with ``score`` and ``failed`` columns, ready for :func:`analyze_runs`.

    runs : rows with the columns of ``results/tables/runs.csv``.
    chance : optional frame indexed by dataset with ``chance_train``,
        ``chance_test``, ``n_train`` (the report's datasets table); columns
        of those names already in ``runs`` are used otherwise.
    score is the test accuracy, and the dataset's test chance rate for a
    diverged run (a failure counted, not dropped). failed: diverged, or
    training accuracy within :func:`stall_margin` of chance. Without chance
    rates, a diverged run scores the lowest test accuracy seen on its
    dataset, and only divergence counts as failure.
    """
    frame = runs.copy()
    if chance is not None:
        frame = frame.drop(columns=[c for c in chance.columns if c in frame]).join(chance, on="dataset")
    diverged = frame["status"] == "diverged"
    if {"chance_train", "chance_test", "n_train"} <= set(frame.columns):
        frame["score"] = frame["test_accuracy"].where(~diverged, frame["chance_test"])
        stalled = frame["train_accuracy"] <= frame["chance_train"] + stall_margin(frame["chance_train"],
                                                                                   frame["n_train"])
        frame["failed"] = diverged | stalled
    else:
        lowest = frame.groupby("dataset")["test_accuracy"].transform("min")
        frame["score"] = frame["test_accuracy"].where(~diverged, lowest)
        frame["failed"] = diverged
    frame["score"] = frame["score"].fillna(frame.groupby("dataset")["score"].transform("min"))
    return frame


def failing_levels(frame, levels, share=FAILING_SHARE):
    """Levels that fail in most of their runs, each failure attributed to the level that predicts it.

    Greedy: the level with the highest failure rate among the runs not yet
    explained is marked failing when that rate exceeds ``share``; its runs
    (and their failures) are set aside; repeat. A factor that only shares
    runs with a failing level (the regularizer of a run whose zeros
    initialization stalls) is not charged with them. Returns factor, level,
    runs (not yet explained when picked), failed, failure_rate, step; the
    rows with step 0 are the levels never marked failing, with their
    failure rates after the failing levels' runs are set aside.
    """
    remaining = frame
    rows = []
    marked = set()
    step = 0
    while len(remaining):
        rates = []
        for factor, names in levels.items():
            for name in names:
                part = remaining[remaining[factor] == name]
                if len(part) and (factor, name) not in marked:
                    rates.append((part["failed"].mean(), int(part["failed"].sum()), factor, name, len(part)))
        if not rates:
            break
        rate, failed, factor, name, n = max(rates, key=lambda r: (r[0], r[1]))
        if rate <= share:
            break
        step += 1
        marked.add((factor, name))
        rows.append({"factor": factor, "level": name, "runs": n, "failed": failed, "failure_rate": rate,
                     "step": step})
        remaining = remaining[remaining[factor] != name]
    for factor, names in levels.items():
        for name in names:
            if (factor, name) in marked:
                continue
            part = remaining[remaining[factor] == name]
            rows.append({"factor": factor, "level": name, "runs": len(part), "failed": int(part["failed"].sum()),
                         "failure_rate": float(part["failed"].mean()) if len(part) else math.nan, "step": 0})
    return pd.DataFrame(rows, columns=["factor", "level", "runs", "failed", "failure_rate", "step"])


def without_failing_levels(frame, failing, factor):
    """The runs at no failing level of a factor other than ``factor``."""
    keep = np.ones(len(frame), dtype=bool)
    for row in failing[failing["step"] > 0].itertuples():
        if row.factor != factor:
            keep &= (frame[row.factor] != row.level).to_numpy()
    return frame[keep]


# ---------------------------------------------------------------------------
# Matched differences and their blocks


def matched_differences(frame, factor, levels):
    """Scores wide by the levels of ``factor``, one row per matched set of runs.

    Index: dataset, seed and the other factors; columns: the levels present.
    """
    others = [f for f in FACTORS if f != factor]
    wide = frame.pivot_table(index=["dataset", "seed", *others], columns=factor, values="score",
                             aggfunc="mean", observed=True)
    return wide[[l for l in levels[factor] if l in wide.columns]]


def block_means(values, blocks):
    """Mean of ``values`` per block code (non-negative ints), blocks without values left out."""
    counts = np.bincount(blocks)
    sums = np.bincount(blocks, weights=values)
    present = counts > 0
    return sums[present] / counts[present]


def t_summary(blocks, level=0.95):
    """(estimate, ci_low, ci_high, p) of the one-sample t test of mean zero on block differences."""
    x = np.asarray(blocks, dtype=float)
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    if sd <= 1e-12 * max(1.0, abs(mean)):
        p = 1.0 if abs(mean) <= 1e-12 else 0.0
        return mean, mean, mean, p
    half = scipy_stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    p = float(2 * scipy_stats.t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1))
    return mean, mean - half, mean + half, p


def scopes(frame, factor, levels):
    """[(scope name, row mask, block column)] for a factor's comparisons."""
    datasets = list(dict.fromkeys(frame["dataset"]))
    across = "dataset" if len(datasets) > 1 else "seed"
    out = [("all", None, across)]
    for other in FACTORS:
        if other == factor:
            continue
        for name in levels[other]:
            out.append((f"{other}={name}", (other, name), across))
    for name in datasets:
        out.append((f"dataset={name}", ("dataset", name), "seed"))
    return out


def heterogeneity(matrix):
    """Two-way ANOVA without replication: does the column effect vary? (F, df1, df2, p).

    matrix : (n_blocks, n_conditions) of mean differences; blocks are rows.
    """
    test = two_way_heterogeneity(matrix)
    return test["statistic"], test["df1"], test["df2"], test["p_value"]


def _per_dataset_seeds(differences):
    per_seed = differences.groupby(level=["dataset", "seed"]).mean().dropna()
    return [g.to_numpy() for _, g in per_seed.groupby(level="dataset")]


# ---------------------------------------------------------------------------
# The verdicts of one factor


INTERACTION_COLUMNS = ("factor", "level_a", "level_b", "across", "scope", "blocks", "n_blocks", "statistic",
                       "df1", "df2", "p_value", "p_holm", "significant", "sd", "detectable_shift")


def factor_interactions(frame, factor, levels, alpha=ALPHA, power=POWER):
    """Does each pair's effect vary with another factor or with the dataset? Tests with their power.

    For every pair of ``factor``'s levels: across each other factor with
    datasets as blocks (scope ``all``), across datasets with seeds as
    replicates, and, with several datasets, across each other factor within
    each dataset with its seeds as blocks (scope ``dataset=<name>``; an
    interaction on one dataset is diluted in the others). Holm's correction
    runs over the factor's rows. ``detectable_shift`` is the smallest
    change of the pair's effect at one level (one dataset) that its test
    detects with ``power`` at alpha / m, Holm's first step over the m rows
    (see :mod:`nnstudy.analysis.interactions`).
    """
    wide = matched_differences(frame, factor, levels)
    datasets = list(wide.index.get_level_values("dataset").unique())
    blocks = "dataset" if len(datasets) > 1 else "seed"
    rows = []

    def add(a, b, across, scope, blocks, test, n_blocks):
        rows.append({"factor": factor, "level_a": a, "level_b": b, "across": across, "scope": scope,
                     "blocks": blocks, "n_blocks": n_blocks, **test})

    for a, b in itertools.combinations(wide.columns, 2):
        d = (wide[a] - wide[b]).dropna()
        for other in FACTORS:
            if other == factor:
                continue
            matrix = d.groupby(level=[blocks, other]).mean().unstack(other)
            matrix = matrix[[l for l in levels[other] if l in matrix.columns]].dropna()
            add(a, b, other, "all", blocks + "s", two_way_heterogeneity(matrix.to_numpy()), len(matrix))
        groups = _per_dataset_seeds(d)
        add(a, b, "dataset", "all", "seeds", one_way_heterogeneity(groups), sum(map(len, groups)))
        if blocks == "seed":
            continue
        within = {}
        for other in FACTORS:
            if other == factor:
                continue
            cells = d.groupby(level=["dataset", "seed", other]).mean().unstack(other)
            cells = cells[[l for l in levels[other] if l in cells.columns]].dropna()
            within[other] = {name: part.to_numpy() for name, part in cells.groupby(level="dataset")}
        for name in datasets:
            for other, matrices in within.items():
                matrix = matrices.get(name, np.empty((0, 0)))
                add(a, b, other, f"dataset={name}", "seeds", two_way_heterogeneity(matrix), len(matrix))
    table = pd.DataFrame(rows, columns=[c for c in INTERACTION_COLUMNS if c not in ("p_holm", "significant",
                                                                                    "detectable_shift")]
                         + ["weight"])
    table["p_holm"] = comparisons.holm(table["p_value"].astype(float))
    table["significant"] = table["p_holm"] <= alpha
    family = max(int(table["p_value"].notna().sum()), 1)
    table["detectable_shift"] = [
        detectable_shift(sd, weight, df1, df2, alpha / family, power)
        for sd, weight, df1, df2 in zip(table["sd"], table["weight"], table["df1"], table["df2"])
    ]
    return table[list(INTERACTION_COLUMNS)]


def inside_rope(blocks, rope=ROPE, alpha=ALPHA):
    """Two one-sided t tests at ``alpha``: is the mean difference within +-rope? (the 90% interval inside it)."""
    x = np.asarray(blocks, dtype=float)
    if x.size < 2:
        return False
    half = scipy_stats.t.ppf(1 - alpha, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return bool(abs(x.mean()) + half <= rope)


def simple_verdict(estimate, equivalent_by_tost, p_holm, p_equivalent, alpha=ALPHA):
    # Equivalence needs both the posterior and the frequentist test: with two or three blocks
    # the signed-rank posterior can sit inside the ROPE while the t interval is far wider.
    if p_equivalent >= EQUIVALENCE_PROBABILITY and equivalent_by_tost:
        return "equivalent"
    if p_holm <= alpha:
        return "a better" if estimate > 0 else "b better"
    return "undecided"


def factor_verdicts(frame, factor, levels, rope=ROPE, alpha=ALPHA, bayes_samples=comparisons.BAYES_SAMPLES,
                    interactions=None):
    """Every pair of ``factor``'s levels in every scope: the rows of ``verdicts.csv`` plus detail.

    frame : prepared runs (see :func:`prepare_runs`). levels : {factor:
    [levels in order]}. interactions : this factor's
    :func:`factor_interactions` (computed when not given). Returns the
    :data:`VERDICT_COLUMNS` and, after them, blocks (what the test counts),
    n_blocks and p_value.
    """
    if interactions is None:
        interactions = factor_interactions(frame, factor, levels, alpha)
    wide = matched_differences(frame, factor, levels)
    index = wide.index.to_frame(index=False)
    codes = {name: pd.factorize(index[name])[0] for name in index.columns}
    rows, equivalent_by_tost = [], []
    for a, b in itertools.combinations(wide.columns, 2):
        d = (wide[a] - wide[b]).to_numpy()
        valid = ~np.isnan(d)
        for scope, mask, blocks in scopes(frame, factor, levels):
            keep = valid if mask is None else valid & (index[mask[0]] == mask[1]).to_numpy()
            x = block_means(d[keep], codes[blocks][keep])
            estimate, low, high, p = t_summary(x)
            equivalent_by_tost.append(inside_rope(x, rope, alpha))
            if x.size:
                better_a, equivalent, better_b = comparisons.bayesian_signed_rank(x, rope, samples=bayes_samples)
            else:
                better_a = equivalent = better_b = math.nan
            rows.append({"factor": factor, "level_a": a, "level_b": b, "scope": scope, "estimate": estimate,
                         "ci_low": low, "ci_high": high, "p_value": p, "p_a_better": better_a,
                         "p_equivalent": equivalent, "p_b_better": better_b, "blocks": blocks + "s",
                         "n_blocks": int(x.size)})
    columns = [*VERDICT_COLUMNS, "blocks", "n_blocks", "p_value"]
    table = pd.DataFrame(rows, columns=[c for c in columns if c not in ("p_holm", "verdict")])
    table["p_holm"] = comparisons.holm(table["p_value"].astype(float))
    table["verdict"] = [
        simple_verdict(e, tost, p, q, alpha) if not math.isnan(p) else "undecided"
        for e, tost, p, q in zip(table["estimate"], equivalent_by_tost, table["p_holm"],
                                 table["p_equivalent"].fillna(0.0))
    ]
    for index in table.index[table["scope"] == "all"]:
        a, b = table.at[index, "level_a"], table.at[index, "level_b"]
        same_pair = (table["level_a"] == a) & (table["level_b"] == b) & (table["scope"] != "all")
        reached = set(table.loc[same_pair, "verdict"]) - {"undecided"}
        heterogeneous = interactions[(interactions["level_a"] == a) & (interactions["level_b"] == b)]["significant"]
        if heterogeneous.any() or len(reached) > 1:
            table.at[index, "verdict"] = "depends"
    return table[columns]


def analyze_runs(frame, levels, rope=ROPE, alpha=ALPHA, bayes_samples=comparisons.BAYES_SAMPLES):
    """Verdicts and interaction tests of every factor: (verdicts, interactions, failing, verdicts_without_failing).

    frame : prepared runs (see :func:`prepare_runs`). The last table repeats
    each factor's verdicts on the runs at no failing level of another factor.
    """
    levels = {f: [l for l in levels[f] if l in set(frame[f])] for f in FACTORS}
    failing = failing_levels(frame, levels)
    verdict_parts, interaction_parts, clean_parts = [], [], []
    for factor in FACTORS:
        if len(levels[factor]) < 2:
            continue
        interactions = factor_interactions(frame, factor, levels, alpha)
        interaction_parts.append(interactions)
        verdict_parts.append(factor_verdicts(frame, factor, levels, rope, alpha, bayes_samples, interactions))
        clean = without_failing_levels(frame, failing, factor)
        if len(clean) < len(frame) and len(clean):
            clean_levels = {f: [l for l in levels[f] if l in set(clean[f])] for f in FACTORS}
            if len(clean_levels[factor]) >= 2:
                clean_parts.append(factor_verdicts(clean, factor, clean_levels, rope, alpha, bayes_samples))

    def joined(parts, empty):
        return pd.concat(parts, ignore_index=True) if parts else empty

    verdicts = joined(verdict_parts, pd.DataFrame(columns=[*VERDICT_COLUMNS, "blocks", "n_blocks", "p_value"]))
    return (verdicts, joined(interaction_parts, pd.DataFrame()), failing,
            joined(clean_parts, pd.DataFrame(columns=verdicts.columns)))
