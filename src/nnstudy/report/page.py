"""The comparison report: derived tables, figures and one self-contained HTML file.

:func:`build` is the whole stage. It reads the pipeline's tables
(``results/tables/*.csv``), the run files (``results/runs/**.h5``) and the
dataset files, derives the report's own tables (statistics, diagnostics,
gridded predictions for decision boundaries, provenance), draws every figure
from those tables only (:mod:`nnstudy.report.figures`), and renders
``results/report/index.html`` from a Jinja2 template with the figures
embedded as base64 PNG. Nothing is trained.

The response studied is the test accuracy of each run. A diverged run has no
meaningful prediction; it is scored at the dataset's chance rate (the
majority-class share of the test split) so that comparisons count it as a
failure instead of dropping it.
"""

import base64
import datetime
import html
import json
import math
import subprocess
from fractions import Fraction
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from nnstudy import io
from nnstudy.analysis import analyze as analysis, stats, tables, verdicts
from nnstudy.core import network
from nnstudy.data.datasets import output_layer
from nnstudy.study.experiment import architecture_for
from nnstudy.study.grid import model_seed

FACTORS = ("initializer", "regularizer", "optimizer")
UNITS = ["dataset", "seed"]
KEYS = ["dataset", "initializer", "regularizer", "optimizer"]

# A run reaches its target when its dev accuracy first covers this fraction
# of the way from chance to the best combination's mean dev accuracy.
TARGET_FRACTION = 0.9
# Gaps (in accuracy) above which the bias / variance reading flags a problem.
BIAS_VARIANCE_THRESHOLD = 0.05
# An interaction contrast "matters" when significant and at least this large.
INTERACTION_MIN_EFFECT = 0.02
# Tolerances of the performance profiles, in accuracy.
TAUS = np.round(np.arange(0.0, 0.5001, 0.005), 3)
# Points per axis of the decision-boundary grid, and its margin around the data.
BOUNDARY_GRID = 48
BOUNDARY_MARGIN = 0.15
# Published and replicated numbers agree when they differ by less than this.
MATCH_TOLERANCE = 1e-6
# Gradient-check differences (1e-10 to 1e-7) sit below that absolute
# tolerance, so they are compared relative to the published value instead.
RELATIVE_MATCH_TOLERANCE = {"difference": 1e-9}
# Rows of the combination ranking shown in the report (all are in the CSV).
TOP_COMBINATIONS = 15
REFERENCE_INITIALIZER = "he"

# The derived tables, all written as CSV; those in TEXT_TABLES also as
# Markdown and LaTeX (they are the tables the HTML report shows).
TABLES = (
    "datasets",
    "replication_check",
    "overview",
    "recommendations",
    "level_means",
    "effects",
    "interactions",
    "interaction_shares",
    "interaction_means",
    "ranks",
    "rank_summary",
    "combination_ranks",
    "profiles",
    "profile_summary",
    "time_to_target",
    "time_to_target_summary",
    "chosen_learning_rates",
    "boundary_grid",
    "boundary_points",
    "boundary_models",
    "gradcheck_summary",
    "norms",
    "norm_summary",
    "regularizer_weight_norms",
    "run_labels",
    "failure_counts",
    "bias_variance",
    "stage_times",
    "versions",
    "verdicts",
    "verdict_details",
    "verdicts_without_failing",
    "failing_levels",
    "interaction_tests",
    "level_aggregates",
    "improvement",
    "critical_differences",
    "pairwise_wilcoxon",
    "power",
)
TEXT_TABLES = (
    "datasets",
    "replication_check",
    "overview",
    "recommendations",
    "level_means",
    "effects",
    "interactions",
    "interaction_shares",
    "rank_summary",
    "combination_ranks",
    "profile_summary",
    "time_to_target_summary",
    "chosen_learning_rates",
    "gradcheck_summary",
    "norm_summary",
    "regularizer_weight_norms",
    "failure_counts",
    "bias_variance",
    "stage_times",
    "versions",
    "verdicts",
    "verdicts_without_failing",
    "failing_levels",
    "interaction_tests",
    "level_aggregates",
    "improvement",
    "critical_differences",
    "power",
)

# The course's own reporting choices, stated beside the replication table.
COURSE_QUIRKS = (
    "Dropout: the course reseeds NumPy's global generator with the same seed at every forward "
    "pass, so every step uses the same dropout mask. The replication reproduces that on purpose "
    "(variant dropout) and also reports dropout with fresh masks at every step "
    "(dropout_fresh_masks), which has no published number.",
    "Optimization: the course reports accuracy on the training set only (the moons data has no "
    "test split there), so these rows have no test accuracy.",
    "Initialization: with weights scaled by 10 the course's cost, computed from "
    "probabilities, prints as inf (log of an exact 0 or 1); the engine computes the cost from "
    "the logits, so our final_cost for that variant is finite.",
    "Gradient check: the course's N-dimensional difference is mostly the rounding noise of its "
    "cost, -log(sigmoid(z)) evaluated in two steps, so it is reproduced with the course's own "
    "formulas (nd, and nd_with_mistakes with its planted backward-pass errors); the engine's "
    "check of the same case (nd_engine) is about a hundred times smaller.",
)


# ---------------------------------------------------------------------------
# Reading


# Derived from wall times, so they differ between runs; every other output is
# reproducible byte for byte.
TIMING_OUTPUTS = ("stage_times", "time_to_target", "time_to_target_summary")


def levels_of(config):
    """{factor: [levels in the configuration's order]}."""
    return {f: list(config[f + "s"]) for f in FACTORS}


def published_values():
    """The course's published numbers (package data): experiment, variant, metric, value.

    Values may be written as fractions ("207/209"), as the course reports them.
    """
    text = resources.files("nnstudy").joinpath("analysis/published.csv").read_text()
    frame = pd.read_csv(pd.io.common.StringIO(text), dtype=str)
    frame["value"] = [float(Fraction(v)) for v in frame["value"]]
    return frame


def read_tables(paths):
    """The pipeline's tables: {name: DataFrame} for each given CSV path (None: absent)."""
    return {name: (pd.read_csv(path) if path else None) for name, path in paths.items()}


def _read_run_files(run_files, config):
    """Per run file: its cell, per-model specs with seed numbers, history and parameters."""
    runs = []
    for path in run_files:
        arrays, meta = io.read_run(path)
        dataset, optimizer, regularizer = meta["cell"]
        numbers = {model_seed(dataset, s): s for s in config["seeds"]}
        runs.append(
            {
                "dataset": dataset,
                "optimizer": optimizer,
                "regularizer": regularizer,
                "initializer": np.asarray(arrays["specs"]["initializer"]),
                "seed": np.array([numbers[int(s)] for s in arrays["specs"]["seed"]]),
                "status": np.asarray(arrays["status"]),
                "history": arrays["history"],
                "steps_per_epoch": int(arrays["steps_per_epoch"]),
                "params": arrays["params"],
            }
        )
    return runs


# ---------------------------------------------------------------------------
# Derived tables


def dataset_table(data_files, config):
    """Sizes, classes and chance rates (majority-class share) of each dataset's splits."""
    rows = []
    for name in config["datasets"]:
        splits = io.read_dataset(data_files[name])
        entry = config["datasets"][name]
        row = {
            "dataset": name,
            "source": entry["source"],
            "n_features": splits.n_features,
            "n_classes": splits.n_classes,
            "architecture": "-".join(map(str, [splits.n_features, *entry["hidden_layers"],
                                               output_layer(splits.n_classes)[1]])),
            "epochs": entry["epochs"],
            "batch_size": entry["batch_size"],
            # File and checksum, package and version, or generator and parameters.
            "origin": splits.metadata.get("origin", ""),
        }
        for part in ("train", "dev", "test"):
            _, y = splits.part(part)
            row[f"n_{part}"] = int(y.size)
            row[f"chance_{part}"] = float(np.bincount(y).max() / y.size) if y.size else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def scored_runs(runs, datasets):
    """runs.csv with the dataset's chance rates and ``score`` (test accuracy; chance if diverged)."""
    chance = datasets.set_index("dataset")[["chance_train", "chance_test", "n_train"]]
    frame = runs.join(chance, on="dataset")
    diverged = frame["status"] == "diverged"
    frame["score"] = frame["test_accuracy"].where(~diverged, frame["chance_test"])
    return frame


def replication_check(replication, selection=True, skipped=()):
    """Published course numbers beside ours, with a verdict per number.

    replication : our replication table (experiment, variant, metric,
        value), or None when the stage did not run.
    selection : the configuration's ``replication``: True (every
        experiment), False (none) or a list of experiment names.
    skipped : (experiment, reason) pairs of selected experiments that could
        not run (e.g. missing course files).
    verdict: match, mismatch, ours only (a number the course does not
    publish) or "not run: <why>".
    """
    published = published_values().rename(columns={"value": "published"})
    if replication is None or not len(replication):
        merged = published.assign(ours=math.nan)
    else:
        ours = replication.rename(columns={"value": "ours"})[["experiment", "variant", "metric", "ours"]]
        merged = published.merge(ours, how="outer", on=["experiment", "variant", "metric"], sort=False)
    merged["difference"] = merged["ours"] - merged["published"]
    reasons = dict(skipped)

    def why(experiment):
        if selection is False:
            return "not run: stage disabled"
        if selection is not True and experiment not in selection:
            return "not run: not selected"
        return f"not run: {reasons[experiment]}" if experiment in reasons else "not run"

    verdict = []
    for row in merged.itertuples():
        if math.isnan(row.published):
            verdict.append("ours only")
        elif math.isnan(row.ours):
            verdict.append(why(row.experiment))
        else:
            relative = RELATIVE_MATCH_TOLERANCE.get(row.metric)
            tolerance = MATCH_TOLERANCE if relative is None else relative * abs(row.published)
            verdict.append("match" if abs(row.difference) <= tolerance else "mismatch")
    merged["verdict"] = verdict
    # Published order first (experiment, then variant, then metric), our extra numbers after theirs.
    sources = [published] if replication is None else [published, replication]
    ranks = {}
    for column in ("experiment", "variant", "metric"):
        seen = list(dict.fromkeys(v for source in sources for v in source[column]))
        ranks[column] = merged[column].map({v: i for i, v in enumerate(seen)})
    order = pd.DataFrame(ranks).sort_values(["experiment", "variant", "metric"], kind="stable").index
    merged = merged.loc[order]
    return merged[["experiment", "variant", "metric", "published", "ours", "difference", "verdict"]].reset_index(
        drop=True
    )


def overview_table(summary):
    """Test accuracy per combination: runs, diverged, mean and 95% interval over seeds."""
    columns = [*KEYS, "runs", "diverged", "test_mean", "test_ci_low", "test_ci_high"]
    return summary[columns].copy()


def recommendations(summary, config):
    """Per dataset, the combination with the best mean dev accuracy and its test accuracy.

    Chosen on dev, reported on test, so the reported accuracy is not
    optimistically selected. ``contenders``: other combinations whose test
    interval overlaps the chosen one's.
    """
    rows = []
    for dataset in config["datasets"]:
        part = summary[summary["dataset"] == dataset]
        if not len(part):
            continue
        best = part.loc[part["dev_mean"].fillna(-1).idxmax()]
        others = part.drop(index=best.name)
        overlap = (others["test_ci_high"] >= best["test_ci_low"]) & (others["test_ci_low"] <= best["test_ci_high"])
        rows.append(
            {
                **{k: best[k] for k in KEYS},
                "runs": int(best["runs"]),
                "dev_mean": best["dev_mean"],
                "test_mean": best["test_mean"],
                "test_ci_low": best["test_ci_low"],
                "test_ci_high": best["test_ci_high"],
                "contenders": int(overlap.sum()),
                "combinations": int(len(part)),
            }
        )
    return pd.DataFrame(rows)


def rank_tables(scored, levels, config):
    """Ranks of each factor's levels per dataset, their summary, and ranks of whole combinations."""
    long = []
    summary = []
    for factor, names in levels.items():
        ranks = stats.ranks_by_block(scored, factor, names, "dataset", "score")
        ranks.insert(0, "factor", factor)
        long.append(ranks)
        statistic, p_value = stats.friedman(scored, factor, names, UNITS, "score")
        for name in names:
            mine = ranks[ranks["level"] == name]
            summary.append(
                {
                    "factor": factor,
                    "level": name,
                    "datasets": int(len(mine)),
                    "mean_rank": float(mine["rank"].mean()),
                    "best_on": int((mine["rank"] == 1).sum()),
                    "mean_score": float(mine["mean"].mean()),
                    "friedman_statistic": statistic,
                    "friedman_p": p_value,
                }
            )
    combos = scored.groupby(KEYS, sort=False)["score"].mean().rename("mean").reset_index()
    combos["rank"] = combos.groupby("dataset")["mean"].rank(ascending=False, method="average")
    combination = (
        combos.groupby(KEYS[1:], sort=False)
        .agg(mean_rank=("rank", "mean"), best_rank=("rank", "min"), worst_rank=("rank", "max"), mean_score=("mean", "mean"))
        .reset_index()
        .sort_values(["mean_rank", "mean_score"], ascending=[True, False], kind="stable")
        .reset_index(drop=True)
    )
    combination.insert(0, "position", np.arange(1, len(combination) + 1))
    return pd.concat(long, ignore_index=True), pd.DataFrame(summary), combination


def profile_summary(profiles):
    """The profiles at a few tolerances, one row per factor level."""
    picks = [0.0, 0.01, 0.05, 0.1]
    part = profiles[profiles["tau"].isin(picks)]
    wide = part.pivot_table(index=["factor", "level"], columns="tau", values="fraction", sort=False)
    wide.columns = [f"within_{t:g}" for t in wide.columns]
    problems = part.groupby(["factor", "level"], sort=False)["problems"].first()
    return wide.join(problems).reset_index()


def run_labels(scored):
    """One label per run: diverged, stalled at chance, or converged.

    A run is stalled when its training accuracy is within two binomial
    standard errors (at least 0.01) of the training split's chance rate.
    """
    chance = scored["chance_train"]
    margin = np.maximum(0.01, 2 * np.sqrt(chance * (1 - chance) / scored["n_train"]))
    label = np.where(
        scored["status"] == "diverged",
        "diverged",
        np.where(scored["train_accuracy"] <= chance + margin, "stalled at chance", "converged"),
    )
    frame = scored[[*KEYS, "seed", "status", "train_accuracy", "test_accuracy"]].copy()
    frame["chance_margin"] = margin
    frame["label"] = label
    return frame


LABELS = ("converged", "stalled at chance", "diverged")


def failure_counts(labels, levels):
    """Counts of each label per initializer, per optimizer and per dataset (and in all)."""
    rows = []
    groupings = [("initializer", levels["initializer"]), ("optimizer", levels["optimizer"]),
                 ("regularizer", levels["regularizer"]), ("dataset", list(dict.fromkeys(labels["dataset"])))]
    for column, names in groupings:
        for name in names:
            part = labels[labels[column] == name]
            rows.append({"by": column, "level": name, "runs": len(part),
                         **{l: int((part["label"] == l).sum()) for l in LABELS}})
    rows.append({"by": "all", "level": "all", "runs": len(labels),
                 **{l: int((labels["label"] == l).sum()) for l in LABELS}})
    return pd.DataFrame(rows)


def bias_variance(summary, labels):
    """Bias / variance reading per combination from mean train and dev error.

    The reference (attainable) error of a dataset is the lowest mean dev
    error of any combination on it. avoidable_bias = train error -
    reference; variance = dev error - train error. A combination whose runs
    mostly stalled at chance or diverged gets that label instead.
    """
    frame = summary[[*KEYS, "runs", "train_mean", "dev_mean"]].copy()
    frame["train_error"] = 1 - frame["train_mean"]
    frame["dev_error"] = 1 - frame["dev_mean"]
    frame["reference_error"] = frame.groupby("dataset")["dev_error"].transform("min")
    frame["avoidable_bias"] = frame["train_error"] - frame["reference_error"]
    frame["variance"] = frame["dev_error"] - frame["train_error"]
    majority = (
        labels.groupby(KEYS, sort=False)["label"].agg(lambda x: x.value_counts().idxmax()).rename("majority_label")
    )
    frame = frame.join(majority, on=KEYS)
    high_bias = frame["avoidable_bias"] > BIAS_VARIANCE_THRESHOLD
    high_variance = frame["variance"] > BIAS_VARIANCE_THRESHOLD
    reading = np.select(
        [frame["majority_label"] != "converged", high_bias & high_variance, high_bias, high_variance],
        [frame["majority_label"], "high bias and variance", "high bias", "high variance"],
        default="good fit",
    )
    frame["reading"] = reading
    return frame.drop(columns=["train_mean", "dev_mean"])


def time_to_target(run_data, summary, datasets, timings):
    """Per run, the first recorded step at which dev accuracy reaches the dataset's target.

    Target: chance + TARGET_FRACTION x (best combination's mean dev accuracy
    - chance). Seconds are the training loop's wall time per step of the
    run's batch (every model of a cell trains in the same steps) times the
    steps: the batch's time to the target, comparable within a dataset.
    """
    chance = datasets.set_index("dataset")["chance_dev"]
    best = summary.groupby("dataset")["dev_mean"].max()
    target = chance + TARGET_FRACTION * (best - chance)
    per_step = {}
    if timings is not None and len(timings):
        train = timings[timings["stage"] == "train"]
        for row in train.itertuples():
            if row.steps and row.steps > 0:
                per_step[(row.dataset, row.optimizer, row.regularizer)] = row.training_seconds / row.steps
    rows = []
    for run in run_data:
        history = run["history"]
        accuracy = history["dev_accuracy"]
        if np.all(np.isnan(accuracy)):
            accuracy = history["train_accuracy"]
        goal = target[run["dataset"]]
        reached = np.nan_to_num(accuracy, nan=-np.inf) >= goal - 1e-12
        seconds_per_step = per_step.get((run["dataset"], run["optimizer"], run["regularizer"]), math.nan)
        for s in range(accuracy.shape[0]):
            hit = np.flatnonzero(reached[s])
            step = int(history["step"][hit[0]]) if hit.size else None
            rows.append(
                {
                    "dataset": run["dataset"],
                    "initializer": str(run["initializer"][s]),
                    "regularizer": run["regularizer"],
                    "optimizer": run["optimizer"],
                    "seed": int(run["seed"][s]),
                    "target": float(goal),
                    "reached": step is not None,
                    "steps": step if step is not None else math.nan,
                    "epochs": step / run["steps_per_epoch"] if step is not None else math.nan,
                    "seconds": step * seconds_per_step if step is not None else math.nan,
                }
            )
    return pd.DataFrame(rows)


def time_to_target_summary(per_run, config):
    """Per dataset and optimizer: share of runs reaching the target, quartiles of epochs, median steps and seconds."""
    rows = []
    for (dataset, optimizer), part in per_run.groupby(["dataset", "optimizer"], sort=False):
        hit = part[part["reached"]]
        q25, median, q75 = (np.percentile(hit["epochs"], [25, 50, 75]) if len(hit) else (math.nan,) * 3)
        rows.append(
            {
                "dataset": dataset,
                "optimizer": optimizer,
                "target": part["target"].iloc[0],
                "runs": len(part),
                "reached": len(hit),
                "fraction": len(hit) / len(part),
                "epochs_q25": q25,
                "epochs_median": median,
                "epochs_q75": q75,
                "steps_median": float(hit["steps"].median()) if len(hit) else math.nan,
                "seconds_median": float(hit["seconds"].median()) if len(hit) else math.nan,
            }
        )
    return tables.order_rows(pd.DataFrame(rows), config)


def chosen_learning_rates(learning_rates, config):
    """The learning rate used by each optimizer on each dataset (wide)."""
    chosen = learning_rates[learning_rates["chosen"].astype(bool)]
    wide = chosen.pivot_table(index="dataset", columns="optimizer", values="learning_rate", sort=False)
    wide = wide.reindex(index=[d for d in config["datasets"] if d in wide.index],
                        columns=[o for o in config["optimizers"] if o in wide.columns])
    wide.columns.name = None
    return wide.reset_index()


def norm_tables(run_data, config, reference):
    """Per-layer gradient and weight norms at the first and last record of every run.

    Returns (per run and layer, median per dataset / initializer / layer /
    moment, median final weight norm per dataset / regularizer / layer for
    the ``reference`` initializer).
    """
    rows = []
    for run in run_data:
        history = run["history"]
        n_layers = history["grad_norm"].shape[-1]
        for when, r in (("initial", 0), ("final", -1)):
            for s in range(history["grad_norm"].shape[0]):
                for layer in range(n_layers):
                    rows.append(
                        {
                            "dataset": run["dataset"],
                            "initializer": str(run["initializer"][s]),
                            "regularizer": run["regularizer"],
                            "optimizer": run["optimizer"],
                            "seed": int(run["seed"][s]),
                            "layer": layer + 1,
                            "when": when,
                            "step": int(history["step"][r]),
                            "grad_norm": float(history["grad_norm"][s, r, layer]),
                            "weight_norm": float(history["weight_norm"][s, r, layer]),
                        }
                    )
    norms = tables.order_rows(pd.DataFrame(rows), config)
    summary = (
        norms.groupby(["dataset", "initializer", "when", "layer"], sort=False)
        .agg(
            runs=("grad_norm", "size"),
            finite=("grad_norm", lambda x: int(np.isfinite(x).sum())),
            grad_norm_median=("grad_norm", "median"),
            weight_norm_median=("weight_norm", "median"),
        )
        .reset_index()
    )
    final = norms[(norms["when"] == "final") & (norms["initializer"] == reference)]
    by_regularizer = (
        final.groupby(["dataset", "regularizer", "layer"], sort=False)
        .agg(runs=("weight_norm", "size"), weight_norm_median=("weight_norm", "median"),
             weight_norm_q25=("weight_norm", lambda x: x.quantile(0.25)),
             weight_norm_q75=("weight_norm", lambda x: x.quantile(0.75)))
        .reset_index()
    )
    by_regularizer.insert(1, "initializer", reference)
    return norms, summary, by_regularizer


def boundary_optimizer(runs, chance_dev):
    """The optimizer with the best mean dev accuracy (diverged runs at the dev chance rate).

    Chosen on dev, never on test, like every other choice the report makes.
    """
    dev = runs["dev_accuracy"].where(runs["status"] != "diverged", chance_dev).fillna(chance_dev)
    return dev.groupby(runs["optimizer"], sort=False).mean().idxmax()


def boundary_tables(run_data, data_files, datasets, scored, config):
    """Gridded predictions of every initializer x regularizer of the 2-D datasets.

    One model per panel: the dataset's best optimizer on dev
    (:func:`boundary_optimizer`) and the first configured seed. Returns (grid, training points, models):
    grid rows hold x1, x2 (standardized inputs), the predicted label and
    ``probability`` (of class 1 for two classes, of the predicted class
    otherwise).
    """
    seed = config["seeds"][0]
    grid_rows, point_rows, model_rows = [], [], []
    two_d = datasets[datasets["n_features"] == 2]["dataset"]
    by_cell = {(r["dataset"], r["optimizer"], r["regularizer"]): r for r in run_data}
    for dataset in two_d:
        splits = io.read_dataset(data_files[dataset])
        entry = config["datasets"][dataset]
        arch = architecture_for(splits, entry["hidden_layers"], config.get("hidden_activation", "relu"))
        part = scored[scored["dataset"] == dataset]
        chance_dev = float(datasets.loc[datasets["dataset"] == dataset, "chance_dev"].iloc[0])
        optimizer = boundary_optimizer(part, chance_dev)
        X = splits.X_train
        low, high = X.min(axis=1), X.max(axis=1)
        pad = BOUNDARY_MARGIN * (high - low)
        axes = [np.linspace(low[i] - pad[i], high[i] + pad[i], BOUNDARY_GRID) for i in range(2)]
        g1, g2 = np.meshgrid(*axes)
        points = np.stack([g1.ravel(), g2.ravel()])
        for x1, x2, label in zip(X[0], X[1], splits.y_train):
            point_rows.append({"dataset": dataset, "x1": float(x1), "x2": float(x2), "label": int(label)})
        for regularizer in config["regularizers"]:
            run = by_cell.get((dataset, optimizer, regularizer))
            if run is None:
                continue
            picks = [
                (init, int(np.flatnonzero((run["initializer"] == init) & (run["seed"] == seed))[0]))
                for init in config["initializers"]
                if np.any((run["initializer"] == init) & (run["seed"] == seed))
            ]
            chosen = [s for _, s in picks]
            params = {k: v[chosen] for k, v in run["params"].items()}
            with np.errstate(all="ignore"):
                logits, _ = network.forward(params, points, arch)
                probabilities = network.OUTPUTS[arch.output][0](logits)
                labels = network.OUTPUTS[arch.output][2](logits)
            if arch.output == "sigmoid":
                probability = probabilities[:, 0, :]
            else:
                probability = probabilities.max(axis=1)
            for j, (init, s) in enumerate(picks):
                row = part[(part["initializer"] == init) & (part["regularizer"] == regularizer)
                           & (part["optimizer"] == optimizer) & (part["seed"] == seed)].iloc[0]
                model_rows.append(
                    {"dataset": dataset, "initializer": init, "regularizer": regularizer, "optimizer": optimizer,
                     "seed": seed, "status": str(run["status"][s]), "train_accuracy": row["train_accuracy"],
                     "test_accuracy": row["test_accuracy"]}
                )
                finite = np.isfinite(probability[j])
                grid_rows.append(
                    pd.DataFrame(
                        {
                            "dataset": dataset,
                            "initializer": init,
                            "regularizer": regularizer,
                            "optimizer": optimizer,
                            "seed": seed,
                            "x1": np.round(points[0], 4),
                            "x2": np.round(points[1], 4),
                            "label": np.where(finite, labels[j], -1),
                            "probability": np.round(probability[j], 4),
                        }
                    )
                )
    grid_columns = [*KEYS[:1], "initializer", "regularizer", "optimizer", "seed", "x1", "x2", "label", "probability"]
    grid = pd.concat(grid_rows, ignore_index=True) if grid_rows else pd.DataFrame(columns=grid_columns)
    points = pd.DataFrame(point_rows, columns=["dataset", "x1", "x2", "label"])
    models = pd.DataFrame(model_rows, columns=[*KEYS, "seed", "status", "train_accuracy", "test_accuracy"])
    return grid, points, models


def gradcheck_summary(gradcheck):
    """One row per dataset, regularizer and engine: the whole-vector difference, the worst block, pass / fail."""
    rows = []
    for (dataset, architecture, regularizer, engine), part in gradcheck.groupby(
        ["dataset", "architecture", "regularizer", "engine"], sort=False
    ):
        blocks = part[part["block"] != "all"]
        worst = blocks.loc[blocks["difference"].idxmax()] if len(blocks) else None
        rows.append(
            {
                "dataset": dataset,
                "architecture": architecture,
                "regularizer": regularizer,
                "engine": engine,
                "difference": float(part.loc[part["block"] == "all", "difference"].max()),
                "worst_block": worst["block"] if worst is not None else "",
                "worst_difference": float(worst["difference"]) if worst is not None else math.nan,
                "passed": bool(part["passed"].all()),
            }
        )
    return pd.DataFrame(rows)


def stage_times(benchmarks_dir, timings):
    """Wall time per stage from Snakemake's benchmark files, with the training loops' own time."""
    rows = []
    folder = Path(benchmarks_dir)
    for path in sorted(folder.rglob("*.tsv")) if folder.is_dir() else []:
        relative = path.relative_to(folder)
        stage = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        bench = pd.read_csv(path, sep="\t")
        rows.append({"stage": stage, "seconds": float(bench["s"].iloc[-1]),
                     "max_rss_mb": pd.to_numeric(bench["max_rss"], errors="coerce").iloc[-1]})
    frame = pd.DataFrame(rows, columns=["stage", "seconds", "max_rss_mb"])
    table = (
        frame.groupby("stage", sort=False)
        .agg(jobs=("seconds", "size"), total_seconds=("seconds", "sum"), max_seconds=("seconds", "max"),
             max_rss_mb=("max_rss_mb", "max"))
        .reset_index()
    )
    order = ["dataset", "gradcheck", "tune", "train", "aggregate", "replicate", "report"]
    table["_o"] = table["stage"].map(lambda s: order.index(s) if s in order else len(order))
    table = table.sort_values(["_o", "stage"], kind="stable").drop(columns="_o").reset_index(drop=True)
    engine = {}
    if timings is not None and len(timings) and "training_seconds" in timings:
        engine = timings.groupby("stage")["training_seconds"].sum().to_dict()
    table["training_loop_seconds"] = table["stage"].map(lambda s: engine.get(s, math.nan))
    return table


def git_state(repo_dir):
    """(commit, dirty) of the repository holding the workflow; ("unknown", None) outside git."""
    try:
        commit = subprocess.run(["git", "-C", str(repo_dir), "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=True, timeout=20).stdout.strip()
        status = subprocess.run(["git", "-C", str(repo_dir), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, check=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    return commit, bool(status.strip())


def versions_table():
    versions = tables.package_versions()
    for name in ("jinja2", "pyyaml"):
        try:
            versions[name] = tables.importlib_metadata.version(name)
        except tables.importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return pd.DataFrame({"package": list(versions), "version": [v or "not installed" for v in versions.values()]})


def derive(inputs, run_files, data_files, config, benchmarks_dir, replication_skipped=()):
    """Every derived table: {name: DataFrame}, keyed as :data:`TABLES`.

    replication_skipped : (experiment, reason) pairs the replication stage skipped.
    """
    levels = levels_of(config)
    datasets = dataset_table(data_files, config)
    summary = inputs["summary"]
    scored = scored_runs(inputs["runs"], datasets)
    run_data = _read_run_files(run_files, config)
    out = {"datasets": datasets}
    out["replication_check"] = replication_check(
        inputs.get("replication"), config.get("replication", True), replication_skipped
    )
    out["overview"] = overview_table(summary)
    out["recommendations"] = recommendations(summary, config)
    out["level_means"] = stats.level_summary(scored, levels, UNITS, "score")
    out["effects"] = stats.main_effects(scored, levels, UNITS, "score")
    out["interactions"] = stats.interaction_contrasts(scored, levels, UNITS, "score")
    out["interaction_means"] = stats.two_way_means(scored, levels, UNITS, "score")
    out["interaction_shares"] = stats.interaction_share(out["interaction_means"])
    out["ranks"], out["rank_summary"], out["combination_ranks"] = rank_tables(scored, levels, config)
    out["profiles"] = stats.profiles(scored, levels, UNITS, "score", TAUS)
    out["profile_summary"] = profile_summary(out["profiles"])
    out["time_to_target"] = tables.order_rows(time_to_target(run_data, summary, datasets, inputs.get("timings")), config)
    out["time_to_target_summary"] = time_to_target_summary(out["time_to_target"], config)
    out["chosen_learning_rates"] = chosen_learning_rates(inputs["learning_rates"], config)
    grid, points, models = boundary_tables(run_data, data_files, datasets, scored, config)
    out["boundary_grid"], out["boundary_points"], out["boundary_models"] = grid, points, models
    out["gradcheck_summary"] = gradcheck_summary(inputs["gradcheck"])
    reference = REFERENCE_INITIALIZER if REFERENCE_INITIALIZER in levels["initializer"] else (
        out["rank_summary"].query("factor == 'initializer'").sort_values("mean_rank")["level"].iloc[0]
    )
    out["norms"], out["norm_summary"], out["regularizer_weight_norms"] = norm_tables(run_data, config, reference)
    out["run_labels"] = run_labels(scored)
    out["failure_counts"] = failure_counts(out["run_labels"], levels)
    out["bias_variance"] = bias_variance(summary, out["run_labels"])
    out["stage_times"] = stage_times(benchmarks_dir, inputs.get("timings"))
    out["versions"] = versions_table()
    # The statistics and verdicts, computed exactly as `nnstudy analyze` computes them.
    chance = datasets.set_index("dataset")[["chance_train", "chance_test", "n_train"]]
    out.update(analysis.analysis_tables(verdicts.prepare_runs(inputs["runs"], chance), levels,
                                        rope=config["analysis"]["rope"],
                                        target=config["analysis"]["target_effect"]))
    assert set(out) == set(TABLES), set(out) ^ set(TABLES)
    return out


# ---------------------------------------------------------------------------
# Display: the tables as the report shows them (formatted strings)


def _number(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if value != 0 and (abs(value) < 10 ** -digits or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.{digits}f}"


def _p(value):
    if value is None or math.isnan(value):
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _interval(mean, low, high, digits=3):
    if math.isnan(low) or math.isnan(high):
        return _number(mean, digits)
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _plain(frame, digits=3):
    """Every cell as text, numbers with ``digits`` decimals."""
    out = frame.copy().astype(object)
    for column in frame.columns:
        out[column] = [v if isinstance(v, str) else _number(v, digits) for v in frame[column]]
    return out


def display_tables(derived, config):
    """{name: text frame} for every table in :data:`TEXT_TABLES`.

    The overview is wide, one block per dataset: rows initializer /
    regularizer, columns optimizers, cells "mean [95% interval]".
    """
    d = derived
    shown = {}
    shown["datasets"] = _plain(d["datasets"][
        ["dataset", "source", "n_features", "n_classes", "architecture", "n_train", "n_dev", "n_test",
         "chance_test", "epochs", "batch_size", "origin"]])
    rep = d["replication_check"].copy()
    rep["difference"] = [_number(v, 4) if not math.isnan(v) else "–" for v in rep["difference"]]
    rep["published"] = [_number(v, 4) for v in rep["published"]]
    rep["ours"] = [_number(v, 4) for v in rep["ours"]]
    rep["verdict"] = rep["verdict"].map(lambda v: {"match": "✔ match", "mismatch": "✘ mismatch"}.get(v, v))
    shown["replication_check"] = rep.astype(object)

    overview = d["overview"]
    blocks = []
    for dataset in config["datasets"]:
        part = overview[overview["dataset"] == dataset]
        if not len(part):
            continue
        cells = part.assign(
            cell=[_interval(m, lo, hi) for m, lo, hi in zip(part["test_mean"], part["test_ci_low"], part["test_ci_high"])]
        )
        wide = cells.pivot_table(index=["initializer", "regularizer"], columns="optimizer", values="cell",
                                 aggfunc="first", sort=False)
        wide = wide[[o for o in config["optimizers"] if o in wide.columns]]
        wide.columns.name = None
        wide = wide.reset_index()
        wide.insert(0, "dataset", dataset)
        blocks.append(wide)
    shown["overview"] = pd.concat(blocks, ignore_index=True).astype(object) if blocks else pd.DataFrame()

    rec = d["recommendations"]
    shown["recommendations"] = pd.DataFrame(
        {
            **{k: rec[k] for k in KEYS},
            "runs": rec["runs"].astype(int).astype(str),
            "dev mean": [_number(v) for v in rec["dev_mean"]],
            "test mean [95% CI]": [_interval(m, lo, hi) for m, lo, hi in
                                   zip(rec["test_mean"], rec["test_ci_low"], rec["test_ci_high"])],
            "overlapping": [f"{c} of {n - 1}" for c, n in zip(rec["contenders"], rec["combinations"])],
        }
    ).astype(object)

    lm = d["level_means"]
    shown["level_means"] = pd.DataFrame(
        {"factor": lm["factor"], "level": lm["level"], "units": lm["units"].astype(str),
         "mean score [95% CI]": [_interval(m, lo, hi) for m, lo, hi in zip(lm["mean"], lm["ci_low"], lm["ci_high"])]}
    ).astype(object)
    shown["effects"] = _effects_display(d["effects"])
    shown["interactions"] = _interactions_display(d["interactions"])
    sh = d["interaction_shares"]
    shown["interaction_shares"] = pd.DataFrame(
        {"factors": sh["factor_a"] + " × " + sh["factor_b"], "SS first": [_number(v, 4) for v in sh["ss_a"]],
         "SS second": [_number(v, 4) for v in sh["ss_b"]], "SS interaction": [_number(v, 4) for v in sh["ss_interaction"]],
         "interaction share": [_number(v, 3) for v in sh["share"]]}
    ).astype(object)
    rs = d["rank_summary"]
    shown["rank_summary"] = pd.DataFrame(
        {"factor": rs["factor"], "level": rs["level"], "mean rank": [_number(v, 2) for v in rs["mean_rank"]],
         "best on": [f"{b} of {n}" for b, n in zip(rs["best_on"], rs["datasets"])],
         "mean score": [_number(v) for v in rs["mean_score"]],
         "Friedman p": [_p(v) for v in rs["friedman_p"]]}
    ).astype(object)
    cr = d["combination_ranks"].head(TOP_COMBINATIONS)
    shown["combination_ranks"] = _plain(cr, 3)
    ps = d["profile_summary"]
    shown["profile_summary"] = _plain(ps, 2)
    shown["time_to_target_summary"] = _plain(d["time_to_target_summary"], 3)
    shown["chosen_learning_rates"] = _plain(d["chosen_learning_rates"], 4)
    shown["gradcheck_summary"] = _plain(d["gradcheck_summary"])
    ns = d["norm_summary"]
    shown["norm_summary"] = _plain(ns, 3)
    shown["regularizer_weight_norms"] = _plain(d["regularizer_weight_norms"], 3)
    shown["failure_counts"] = _plain(d["failure_counts"])
    bv = d["bias_variance"]
    shown["bias_variance"] = _plain(bv[[*KEYS, "runs", "train_error", "dev_error", "reference_error",
                                       "avoidable_bias", "variance", "reading"]], 3)
    shown["stage_times"] = _plain(d["stage_times"], 2)
    shown["versions"] = d["versions"].astype(object)
    shown["verdicts"] = verdicts_display(d["verdict_details"])
    shown["verdicts_without_failing"] = verdicts_display(d["verdicts_without_failing"])
    for name in ("failing_levels", "interaction_tests", "level_aggregates", "improvement", "critical_differences",
                 "power"):
        shown[name] = _plain(d[name], 3)
    assert set(shown) == set(TEXT_TABLES), set(shown) ^ set(TEXT_TABLES)
    return shown


def verdicts_display(details):
    """verdicts.csv as the report shows it: one row per pair and scope, with what the test counted."""
    if not len(details):
        return pd.DataFrame({"note": ["no factor has two levels: nothing to compare"]})
    return pd.DataFrame(
        {
            "factor": details["factor"],
            "comparison": details["level_a"] + " − " + details["level_b"],
            "scope": details["scope"],
            "blocks": [f"{n} {b}" for n, b in zip(details["n_blocks"], details["blocks"])],
            "estimate [95% CI]": [_interval(m, lo, hi) for m, lo, hi in
                                  zip(details["estimate"], details["ci_low"], details["ci_high"])],
            "p (Holm)": [_p(v) for v in details["p_holm"]],
            "P(a better)": [_number(v, 2) for v in details["p_a_better"]],
            "P(equivalent)": [_number(v, 2) for v in details["p_equivalent"]],
            "P(b better)": [_number(v, 2) for v in details["p_b_better"]],
            "verdict": details["verdict"],
        }
    ).astype(object)


def _effects_display(effects):
    return pd.DataFrame(
        {
            "factor": effects["factor"],
            "comparison": effects["level_a"] + " − " + effects["level_b"],
            "units": effects["n"].astype(str),
            "mean difference [95% CI]": [_interval(m, lo, hi) for m, lo, hi in
                                         zip(effects["mean_difference"], effects["ci_low"], effects["ci_high"])],
            "wins / losses / ties": [f"{w} / {l} / {t}" for w, l, t in
                                     zip(effects["wins"], effects["losses"], effects["ties"])],
            "rank-biserial r": [_number(v, 2) for v in effects["rank_biserial"]],
            "p": [_p(v) for v in effects["p_value"]],
            "p (Holm)": [_p(v) for v in effects["p_holm"]],
            "significant": ["yes" if s else "no" for s in effects["significant"]],
        }
    ).astype(object)


def interactions_that_matter(interactions, limit=12):
    """Significant contrasts of at least INTERACTION_MIN_EFFECT, largest first; else the smallest p-values."""
    if not len(interactions):
        return interactions
    matter = interactions[interactions["significant"]
                          & (interactions["mean_difference"].abs() >= INTERACTION_MIN_EFFECT)]
    if len(matter):
        return matter.reindex(matter["mean_difference"].abs().sort_values(ascending=False).index).head(limit)
    return interactions.sort_values(["p_value"], kind="stable").head(min(limit, 5))


def _interactions_display(interactions):
    top = interactions_that_matter(interactions)
    if not len(top):
        return pd.DataFrame({"note": ["fewer than two levels in every factor pair: no contrasts"]})
    return pd.DataFrame(
        {
            "factors": top["factor_a"] + " × " + top["factor_b"],
            "contrast": [f"({a1} − {a2}) at {b1} vs at {b2}" for a1, a2, b1, b2 in
                         zip(top["level_a1"], top["level_a2"], top["level_b1"], top["level_b2"])],
            "units": top["n"].astype(str),
            "mean contrast [95% CI]": [_interval(m, lo, hi) for m, lo, hi in
                                       zip(top["mean_difference"], top["ci_low"], top["ci_high"])],
            "rank-biserial r": [_number(v, 2) for v in top["rank_biserial"]],
            "p (Holm)": [_p(v) for v in top["p_holm"]],
            "significant": ["yes" if s else "no" for s in top["significant"]],
        }
    ).astype(object)


# ---------------------------------------------------------------------------
# Text formats


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "−": "--", "×": r"$\times$", "✔": r"\checkmark", "✘": r"$\times$", "–": "--"}


def _latex_escape(text):
    return "".join(_LATEX_ESCAPES.get(c, c) for c in str(text))


def to_markdown(frame):
    """A GitHub-flavoured Markdown table of text cells."""
    def cell(v):
        return str(v).replace("|", r"\|")

    lines = ["| " + " | ".join(map(cell, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def to_latex(frame):
    """A booktabs tabular of text cells (needs \\usepackage{booktabs}, amssymb for the check mark)."""
    spec = "".join("l" if frame[c].map(lambda v: not _looks_numeric(v)).any() else "r" for c in frame.columns)
    head = " & ".join(_latex_escape(c) for c in frame.columns) + r" \\"
    body = [" & ".join(_latex_escape(v) for v in row) + r" \\" for row in frame.itertuples(index=False)]
    return "\n".join([rf"\begin{{tabular}}{{{spec}}}", r"\toprule", head, r"\midrule", *body,
                      r"\bottomrule", r"\end{tabular}"]) + "\n"


def _looks_numeric(value):
    try:
        float(str(value).split(" ")[0])
        return True
    except ValueError:
        return str(value) == "–"


def write_tables(derived, shown, outputs, metadata):
    """Write the derived tables to exactly the declared paths.

    outputs : paths ending in .csv (one per :data:`TABLES`), .md and .tex (one
    each per :data:`TEXT_TABLES`). A declared path without a table, or a
    table without a declared path, is an error naming them.
    """
    by_kind = {"csv": {}, "md": {}, "tex": {}}
    for path in map(Path, outputs):
        by_kind[path.suffix[1:]][path.stem] = path
    for kind, names in (("csv", TABLES), ("md", TEXT_TABLES), ("tex", TEXT_TABLES)):
        if set(by_kind[kind]) != set(names):
            raise ValueError(
                f"declared .{kind} report tables {sorted(by_kind[kind])} differ from the built ones "
                f"{sorted(names)}: update workflow/rules/report.smk"
            )
    for name, path in by_kind["csv"].items():
        io.write_table(derived[name], path, metadata)
    for name in TEXT_TABLES:
        with io.atomic_path(by_kind["md"][name]) as tmp:
            tmp.write_text(to_markdown(shown[name]))
        with io.atomic_path(by_kind["tex"][name]) as tmp:
            tmp.write_text(to_latex(shown[name]))


# ---------------------------------------------------------------------------
# HTML


def html_table(frame, table_id=None, sortable=True):
    """A <table> of text cells; numeric-looking cells are right-aligned and sort as numbers."""
    attrs = f' id="{table_id}"' if table_id else ""
    classes = "data sortable" if sortable else "data"
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text = str(value)
            key = text.split(" ")[0].replace("<", "").replace("−", "-")
            try:
                number = float(key)
            except ValueError:
                number = None
            if number is not None and math.isfinite(number):
                cells.append(f'<td class="num" data-v="{number!r}">{html.escape(text)}</td>')
            else:
                css = _verdict_class(text)
                cells.append(f"<td{css}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="table-wrap"><table class="{classes}"{attrs}><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _verdict_class(text):
    if text.startswith("✔"):
        return ' class="good"'
    if text.startswith("✘"):
        return ' class="bad"'
    return ""


def _template_file(name):
    return resources.files("nnstudy").joinpath(f"report/templates/{name}").read_text()


def _claim(row):
    """One verdicts.csv row in words: scope, estimate with interval, verdict, posterior probabilities."""
    a, b = html.escape(row["level_a"]), html.escape(row["level_b"])
    verdict = {"a better": f"{a} better", "b better": f"{b} better", "equivalent": "practically equivalent",
               "undecided": "undecided", "depends": "depends on the other factors or the dataset"}[row["verdict"]]
    interval = "" if math.isnan(row["ci_low"]) else f" [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}]"
    return (f"{a} − {b} ({html.escape(row['scope'])}): {row['estimate']:+.3f}{interval}, "
            f"p<sub>Holm</sub> {_p(row['p_holm'])}, P({a} better) {row['p_a_better']:.2f}, "
            f"P(equivalent) {row['p_equivalent']:.2f}, P({b} better) {row['p_b_better']:.2f}: <b>{verdict}</b>")


def summary_points(derived, levels, rope):
    """The report's answer in sentences, each one a row of verdicts.csv (or of the tables it names)."""
    points = []
    table = derived["verdict_details"]
    failing = derived["failing_levels"]
    tests = derived["interaction_tests"]
    marked = failing[failing["step"] > 0]
    if len(marked):
        items = [f"{html.escape(r.factor)} {html.escape(r.level)}: {r.failed} of {r.runs} runs failed"
                 for r in marked.itertuples()]
        points.append("<b>Failing levels</b> (diverged or stalled at chance in most of their runs; each failure "
                      "charged to the level that predicts it): " + "; ".join(items)
                      + ". The verdicts of the other factors without these runs are in verdicts_without_failing.csv.")
    for factor in FACTORS:
        part = table[(table["factor"] == factor) & (table["scope"] == "all")]
        if not len(part):
            continue
        blocks = f"{int(part['n_blocks'].iloc[0])} {part['blocks'].iloc[0]} as blocks"
        text = f"<b>{factor.capitalize()}</b>, across datasets ({blocks}): " + "; ".join(
            _claim(row) for row in part.to_dict("records")) + "."
        for row in part[part["verdict"] == "depends"].to_dict("records"):
            varies = tests[(tests["factor"] == factor) & (tests["level_a"] == row["level_a"])
                           & (tests["level_b"] == row["level_b"]) & tests["significant"]]
            if len(varies):
                text += (f" {html.escape(row['level_a'])} − {html.escape(row['level_b'])} varies with "
                         + ", ".join(f"{html.escape(r.across)} (p<sub>Holm</sub> {_p(r.p_holm)})"
                                     for r in varies.itertuples()) + ".")
            simple = table[(table["factor"] == factor) & (table["level_a"] == row["level_a"])
                           & (table["level_b"] == row["level_b"]) & (table["scope"] != "all")
                           & (table["verdict"] != "undecided")]
            if len(simple):
                text += (f" Where {html.escape(row['level_a'])} − {html.escape(row['level_b'])} is decided: "
                         + "; ".join(_claim(r) for r in simple.to_dict("records")) + ".")
        points.append(text)
    if len(tests):
        found = tests[tests["significant"]]
        text = (f"<b>Interactions:</b> {len(found)} of {len(tests)} heterogeneity tests (each pair's effect across "
                "the levels of another factor, datasets as blocks, and across datasets, seeds as replicates) are "
                "significant after Holm's correction")
        if len(found):
            text += ": " + "; ".join(
                f"{html.escape(r.level_a)} − {html.escape(r.level_b)} varies with {html.escape(r.across)} "
                f"(p<sub>Holm</sub> {_p(r.p_holm)})" for r in found.head(6).itertuples())
        text += (". A test that finds nothing does not show that an interaction is absent; see the power panel "
                 "for the effects this design can detect.")
        points.append(text)
    power = derived["power"]
    across = power[power["blocks"] == "datasets"]["detectable_effect"].dropna()
    within = power[power["blocks"] == "seeds"]["detectable_effect"].dropna()
    if len(across) or len(within):
        text = "<b>How sure:</b> at 80% power (two-sided t test, α = 0.05, before Holm) this design detects paired"
        if len(across):
            text += (f" effects from {across.min():.3f} to {across.max():.3f} across datasets "
                     f"({int(power['n_blocks'][power['blocks'] == 'datasets'].max())} datasets)")
        if len(within):
            text += (f"{' and' if len(across) else ''} from {within.min():.3f} to {within.max():.3f} within one "
                     f"dataset ({int(power['n_blocks'][power['blocks'] == 'seeds'].max())} seeds)")
        text += f"; levels closer than the region of practical equivalence ({rope:g}) are called equivalent."
        points.append(text)
    return points


def vectorization_table(frame):
    """The vectorization lesson's timings as a small HTML table (None without them)."""
    if frame is None or not len(frame):
        return None
    shown = pd.DataFrame(
        {
            "operation": frame["operation"].str.replace("_", " "),
            "size": frame["size"],
            "size means": frame["size_means"],
            "loop (ms)": (frame["loop_seconds"] * 1e3).map(lambda v: f"{v:.3g}"),
            "NumPy (us)": (frame["vectorized_seconds"] * 1e6).map(lambda v: f"{v:.3g}"),
            "speed-up": frame["speedup"].map(lambda v: f"{v:,.0f}x"),
        }
    )
    return html_table(shown, table_id="table-vectorization")


def variance_decomposition_table(frame):
    """The variance decomposition (results/tables/variance_decomposition.csv) as HTML (None without it)."""
    if frame is None or not len(frame):
        return None
    shown = pd.DataFrame(
        {
            "dataset": frame["dataset"],
            "combination": frame["initializer"] + " / " + frame["regularizer"] + " / " + frame["optimizer"],
            "varied": frame["source"],
            "seeds": frame["seeds"],
            "diverged": frame["diverged"],
            "mean test acc.": frame["mean_test_accuracy"].map(_number),
            "sd": frame["sd"].map(_number),
            "share": frame["share"].map(lambda v: "–" if pd.isna(v) else f"{v:.0%}"),
        }
    )
    return html_table(shown, table_id="table-variance_decomposition", sortable=False)


def render_html(derived, shown, figures, config, provenance, lectures=(), vectorization=None,
                variance=None):
    """The report page as one string: figures embedded, tables inline, no external resource."""
    import jinja2

    env = jinja2.Environment(autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    template = env.from_string(_template_file("report.html.j2"))
    tables_html = {name: html_table(frame, table_id=f"table-{name}") for name, frame in shown.items()}
    overview_blocks = {}
    for dataset in config["datasets"]:
        part = shown["overview"]
        if len(part) and "dataset" in part:
            block = part[part["dataset"] == dataset].drop(columns="dataset")
            if len(block):
                overview_blocks[dataset] = html_table(block, table_id=f"overview-{dataset}")
    by_section = {}
    for figure in figures:
        figure = dict(figure)
        figure["src"] = "data:image/png;base64," + base64.b64encode(Path(figure["png"]).read_bytes()).decode()
        by_section.setdefault(figure["section"], []).append(figure)
    levels = levels_of(config)
    runs = int(derived["run_labels"].shape[0])
    selection = config.get("replication", True)
    rep = derived["replication_check"]
    checked = rep[rep["verdict"].isin(["match", "mismatch"])]
    return template.render(
        title="nnstudy: initialization × regularization × optimizer",
        css=_template_file("report.css"),
        js=_template_file("report.js"),
        tables=tables_html,
        overview_blocks=overview_blocks,
        figures=by_section,
        summary_points=summary_points(derived, levels, config["analysis"]["rope"]),
        levels=levels,
        datasets=list(config["datasets"]),
        seeds=config["seeds"],
        runs=runs,
        two_d=list(derived["boundary_models"]["dataset"].unique()),
        replication_selection=selection,
        matches=int((checked["verdict"] == "match").sum()),
        checked=int(len(checked)),
        published_count=int(rep["published"].notna().sum()),
        quirks=COURSE_QUIRKS,
        provenance=provenance,
        lectures=lectures,
        vectorization=vectorization,
        variance=variance,
        constants={
            "target_fraction": TARGET_FRACTION,
            "bias_variance_threshold": BIAS_VARIANCE_THRESHOLD,
            "interaction_min_effect": INTERACTION_MIN_EFFECT,
            "match_tolerance": MATCH_TOLERANCE,
            "bootstrap_samples": stats.BOOTSTRAP_SAMPLES,
            "rope": config["analysis"]["rope"],
            "alpha": stats.ALPHA,
            "top_combinations": TOP_COMBINATIONS,
            "combinations": int(len(derived["combination_ranks"])),
            "reference_initializer": derived["regularizer_weight_norms"]["initializer"].iloc[0]
            if len(derived["regularizer_weight_norms"]) else REFERENCE_INITIALIZER,
        },
    )


def lecture_sections(config):
    """[(id, title, html)] of the lecture stages the configuration switches on."""
    from nnstudy import lectures
    from nnstudy.report import lecture_sections as report_sections

    if not lectures.enabled(config):
        return []
    return [
        (record["id"], record["title"], report_sections.section_html(record))
        for record in report_sections.sections(config)
    ]


def regenerate_commands(repo_dir, workdir, config_copy):
    """Shell commands that re-render the report, and that rebuild everything, with this configuration."""
    repo_dir, workdir = Path(repo_dir).resolve(), Path(workdir).resolve()
    base = "snakemake --cores 4"
    if repo_dir != workdir:
        base = f"snakemake --snakefile {repo_dir / 'Snakefile'} --directory {workdir} --cores 4"
    configfile = (workdir / config_copy).resolve()
    return {
        "report": f"{base} --configfile {configfile} report",
        "everything": f"{base} --configfile {configfile}",
    }


def build(inputs, run_files, data_files, config, *, table_outputs, figures_dir, html_path, config_copy,
          benchmarks_dir, repo_dir, workers=1):
    """The report stage: derived tables, figures, HTML. Returns {"tables": n, "figures": n}.

    inputs : {name: CSV path or None} for runs, summary, curves,
        learning_rates, gradcheck, timings, replication.
    data_files : {dataset: path of results/data/{dataset}.h5}.
    table_outputs : the declared table paths (see :func:`write_tables`).
    config_copy : where to write the resolved configuration as YAML.
    repo_dir : the checkout holding the Snakefile (for the commit and commands).
    workers : processes drawing the figures.
    """
    from nnstudy.report import figures as figure_module

    frames = read_tables(inputs)
    skipped = []
    if inputs.get("replication"):
        sidecar = Path(inputs["replication"] + ".meta.json")
        if sidecar.is_file():
            skipped = [tuple(pair) for pair in json.loads(sidecar.read_text()).get("skipped", [])]
    derived = derive(frames, run_files, data_files, config, benchmarks_dir, skipped)
    shown = display_tables(derived, config)
    metadata = {"config": config, "versions": tables.package_versions()}
    write_tables(derived, shown, table_outputs, metadata)
    # Not sorted: the order of datasets and levels is the order of every table and figure.
    config_yaml = yaml.safe_dump(io.to_jsonable(config), sort_keys=False)
    with io.atomic_path(config_copy) as tmp:
        tmp.write_text(config_yaml)
    drawn = figure_module.draw_all({**frames, **derived}, config, figures_dir, workers=workers)
    commit, dirty = git_state(repo_dir)
    provenance = {
        "commit": commit,
        "dirty": dirty,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "config_yaml": config_yaml,
        "commands": regenerate_commands(repo_dir, Path.cwd(), config_copy),
    }
    page = render_html(
        derived, shown, drawn, config, provenance, lecture_sections(config),
        vectorization_table(frames.get("vectorization")),
        variance_decomposition_table(frames.get("variance_decomposition")),
    )
    with io.atomic_path(html_path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return {"tables": len(derived), "figures": len(drawn)}
