"""The report's derived tables, computed from the pipeline's tables and run files.

:func:`derive` computes every table the report writes
(:data:`nnstudy.report.table_names.TABLES`): statistics,
rankings, diagnostics, gridded predictions for decision boundaries and the
course replication check. Pure pandas / NumPy on tables; nothing is trained.

The response studied is the test accuracy of each run. A diverged run has no
meaningful prediction; it is scored at the dataset's chance rate (the
majority-class share of the test split) so that comparisons count it as a
failure instead of dropping it.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd

from nnstudy import io
from nnstudy.analysis.baselines import with_baselines
from nnstudy.analysis import analyze as analysis, stats, tables, verdicts
from nnstudy.analysis.bias_variance import reading_columns
from nnstudy.analysis.replication_check import replication_check
from nnstudy.data.datasets import output_layer
from nnstudy.analysis.run_tables import (
    KEYS,
    boundary_tables,
    norm_tables,
    read_run_files,
    time_to_target,
    time_to_target_summary,
)

FACTORS = ("initializer", "regularizer", "optimizer")
UNITS = ["dataset", "seed"]

# Gaps (in error) above which the bias / variance reading flags a problem when
# the lecture section, which sets them, is not configured.
BIAS_VARIANCE_THRESHOLD = 0.05
# Tolerances of the performance profiles, in accuracy.
TAUS = np.round(np.arange(0.0, 0.5001, 0.005), 3)
REFERENCE_INITIALIZER = "he"


def levels_of(config):
    """{factor: [levels in the configuration's order]}."""
    return {f: list(config[f + "s"]) for f in FACTORS}


def read_tables(paths):
    """The pipeline's tables: {name: DataFrame} for each given CSV path (None: absent)."""
    return {name: (pd.read_csv(path) if path else None) for name, path in paths.items()}


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
    """Ranks of each factor's levels per dataset, and ranks of whole combinations.

    Descriptive: the tests of these ranks (Friedman, Iman-Davenport, datasets
    as blocks) are in the critical-differences table.
    """
    long = []
    for factor, names in levels.items():
        ranks = stats.ranks_by_block(scored, factor, names, "dataset", "score")
        ranks.insert(0, "factor", factor)
        long.append(ranks)
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
    return pd.concat(long, ignore_index=True), combination


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


def bias_variance(summary, labels, bayes_error, bias_tolerance, variance_tolerance):
    """The basic recipe's bias / variance reading per combination, from mean train and dev error.

    The reading is :func:`nnstudy.analysis.bias_variance.reading_columns`,
    the lecture stage's own: avoidable bias = train error - the dataset's
    Bayes-error proxy (``bayes_error``, 0 if not named), variance = dev
    error - train error, each high above its tolerance. ``majority_label``
    (converged, stalled at chance or diverged, from :func:`run_labels`) says
    whether the errors describe trained networks at all.
    """
    frame = summary[[*KEYS, "runs", "train_mean", "dev_mean"]].copy()
    frame["train_error"] = 1 - frame["train_mean"]
    frame["dev_error"] = 1 - frame["dev_mean"]
    frame = reading_columns(frame, bayes_error, bias_tolerance, variance_tolerance)
    majority = (
        labels.groupby(KEYS, sort=False)["label"].agg(lambda x: x.value_counts().idxmax()).rename("majority_label")
    )
    frame = frame.join(majority, on=KEYS)
    return frame.drop(columns=["train_mean", "dev_mean"])


def recipe_settings(config):
    """(Bayes-error proxies, bias tolerance, variance tolerance) of the reading.

    The lecture section's settings when it is configured, so that the
    report's table and the lecture's read alike; otherwise no proxies and
    :data:`BIAS_VARIANCE_THRESHOLD` for both gaps.
    """
    section = (config.get("lectures") or {}).get("bias_variance")
    if section is None:
        return {}, BIAS_VARIANCE_THRESHOLD, BIAS_VARIANCE_THRESHOLD
    return section["bayes_error"], section["bias_tolerance"], section["variance_tolerance"]


def chosen_learning_rates(learning_rates, config):
    """The learning rate used by each optimizer on each dataset (wide)."""
    chosen = learning_rates[learning_rates["chosen"].astype(bool)]
    wide = chosen.pivot_table(index="dataset", columns="optimizer", values="learning_rate", sort=False)
    wide = wide.reindex(index=[d for d in config["datasets"] if d in wide.index],
                        columns=[o for o in config["optimizers"] if o in wide.columns])
    wide.columns.name = None
    return wide.reset_index()


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


def versions_table():
    versions = tables.package_versions()
    for name in ("jinja2", "pyyaml"):
        try:
            versions[name] = tables.importlib_metadata.version(name)
        except tables.importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return pd.DataFrame({"package": list(versions), "version": [v or "not installed" for v in versions.values()]})


def derive(inputs, run_files, data_files, config, benchmarks_dir, seed_numbers, replication_skipped=()):
    """Every derived table: {name: DataFrame}.

    seed_numbers : {(dataset, model seed): seed number} of the run files' models.
    replication_skipped : (experiment, reason) pairs the replication stage skipped.
    """
    levels = levels_of(config)
    datasets = dataset_table(data_files, config)
    summary = inputs["summary"]
    scored = scored_runs(inputs["runs"], datasets)
    run_data = read_run_files(run_files, seed_numbers)
    out = {"datasets": with_baselines(datasets, summary)}
    out["replication_check"] = replication_check(
        inputs.get("replication"), config["replication"], replication_skipped
    )
    out["overview"] = overview_table(summary)
    out["recommendations"] = recommendations(summary, config)
    out["interaction_means"] = stats.two_way_means(scored, levels, UNITS, "score")
    out["interaction_shares"] = stats.interaction_share(out["interaction_means"])
    out["ranks"], out["combination_ranks"] = rank_tables(scored, levels, config)
    out["profiles"] = stats.profiles(scored, levels, UNITS, "score", TAUS)
    out["profile_summary"] = profile_summary(out["profiles"])
    out["time_to_target"] = tables.order_rows(time_to_target(run_data, summary, datasets, inputs.get("timings")), config)
    out["time_to_target_summary"] = time_to_target_summary(out["time_to_target"], config)
    out["chosen_learning_rates"] = chosen_learning_rates(inputs["learning_rates"], config)
    grid, points, models = boundary_tables(run_data, data_files, datasets, scored, config)
    out["boundary_grid"], out["boundary_points"], out["boundary_models"] = grid, points, models
    out["gradcheck_summary"] = gradcheck_summary(inputs["gradcheck"])
    reference = REFERENCE_INITIALIZER if REFERENCE_INITIALIZER in levels["initializer"] else (
        out["ranks"].query("factor == 'initializer'").groupby("level", sort=False)["rank"].mean().idxmin()
    )
    out["norms"], out["norm_summary"], out["regularizer_weight_norms"] = norm_tables(run_data, config, reference)
    out["run_labels"] = run_labels(scored)
    out["failure_counts"] = failure_counts(out["run_labels"], levels)
    out["bias_variance"] = bias_variance(summary, out["run_labels"], *recipe_settings(config))
    out["stage_times"] = stage_times(benchmarks_dir, inputs.get("timings"))
    out["versions"] = versions_table()
    # The statistics and verdicts, computed exactly as `nnstudy analyze` computes them.
    chance = datasets.set_index("dataset")[["chance_train", "chance_test", "n_train"]]
    out.update(analysis.analysis_tables(verdicts.prepare_runs(inputs["runs"], chance), levels,
                                        rope=config["analysis"]["rope"],
                                        target=config["analysis"]["target_effect"]))
    return out
