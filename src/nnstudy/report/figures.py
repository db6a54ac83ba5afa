"""The report's figures, each drawn from one or two of the report's tables.

Long module: one short function per report figure, sharing the layout helpers
at the top; a module per figure would scatter those helpers.

Every function takes tidy tables (pandas frames, as written to
``results/tables/``) and returns ``(figure, caption)``; :func:`draw_all` saves
each figure as PNG and SVG. Nothing here reads run files or computes a
statistic, so every number on a figure is also in a table.

Colours follow the Okabe-Ito palette (safe for the common colour-vision
deficiencies), heatmaps use cividis, and lines also differ by marker or dash
so the figures survive grey-scale printing.
"""

import itertools
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.colors import LinearSegmentedColormap, ListedColormap
from matplotlib.ticker import NullLocator

from nnstudy.analysis.derived import recipe_settings
from nnstudy.report.style import DASHES, LABEL_COLOURS, LABEL_HATCHES, MARKERS, OKABE_ITO, PNG_DPI, STYLE

FACTORS = ("initializer", "regularizer", "optimizer")


def _colour(i):
    return OKABE_ITO[i % len(OKABE_ITO)]


def _style(i):
    return {"color": _colour(i), "marker": MARKERS[i % len(MARKERS)], "linestyle": DASHES[i % len(DASHES)]}


def _runs(n):
    return f"{n} run{'s' if n != 1 else ''}"


def _levels(config):
    return {f: list(config[f + "s"]) for f in FACTORS}


def _legend_below(fig, handles, labels, ncol=6, title=None):
    """A legend centred under the panels, with room kept for it by the layout."""
    ncol = max(1, min(ncol, len(labels)))
    rows = math.ceil(len(labels) / ncol)
    fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False, fontsize=6, title=title,
               title_fontsize=6)
    height = fig.get_size_inches()[1]
    fig.tight_layout(rect=(0, min(0.45, (0.18 + 0.14 * rows + (0.12 if title else 0)) / height), 1, 1))


# ---------------------------------------------------------------------------
# Overview and effects


def overview_heatmap(overview, dataset, config):
    """Mean test accuracy, initializer x regularizer (rows) by optimizer (columns)."""
    part = overview[overview["dataset"] == dataset]
    levels = _levels(config)
    rows = [(i, r) for i in levels["initializer"] for r in levels["regularizer"]
            if ((part["initializer"] == i) & (part["regularizer"] == r)).any()]
    cols = [o for o in levels["optimizer"] if (part["optimizer"] == o).any()]
    lookup = part.set_index(["initializer", "regularizer", "optimizer"])["test_mean"]
    values = np.array([[lookup.get((i, r, o), np.nan) for o in cols] for i, r in rows], dtype=float)
    fig, ax = plt.subplots(figsize=(1.6 + 0.85 * len(cols), 0.9 + 0.24 * len(rows)))
    ax.grid(False)
    image = ax.imshow(values, cmap="cividis", vmin=0.0, vmax=1.0, aspect="auto")
    for (y, x), v in np.ndenumerate(values):
        if not math.isnan(v):
            ax.text(x, y, f"{v:.2f}", ha="center", va="center", fontsize=6.5, color="black" if v > 0.55 else "white")
        else:
            ax.text(x, y, "n/a", ha="center", va="center", fontsize=6.5)
    ax.set_xticks(range(len(cols)), cols)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(rows)), [f"{i} / {r}" for i, r in rows])
    ax.set_xlabel("optimizer")
    ax.xaxis.set_label_position("top")
    ax.set_ylabel("initializer / regularizer")
    fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02, label="mean test accuracy")
    fig.tight_layout()
    n = int(part["runs"].sum())
    caption = (
        f"Mean test accuracy on {dataset} of every initializer / regularizer (rows) with every optimizer "
        f"(columns), averaged over {len(config['seeds'])} seeds; {_runs(n)} in "
        f"{len(rows) * len(cols)} combinations. Diverged runs count as failures in the mean's seed count "
        f"but have no accuracy (table overview.csv, with 95% intervals)."
    )
    return fig, caption


def effects_forest(details, runs):
    """Every pair of levels of each factor across datasets (verdicts, scope all): estimate and interval."""
    overall = details[details["scope"] == "all"]
    labels = [f"{r.factor}: {r.level_a} − {r.level_b}" for r in overall.itertuples()]
    fig, ax = plt.subplots(figsize=(6.2, 0.9 + 0.2 * max(len(labels), 3)))
    y = np.arange(len(labels))[::-1]
    factors = list(dict.fromkeys(overall["factor"]))
    for j, row in enumerate(overall.itertuples()):
        colour = _colour(factors.index(row.factor))
        if not math.isnan(row.ci_low):
            ax.plot([row.ci_low, row.ci_high], [y[j]] * 2, color=colour, linewidth=1.2)
        decided = row.verdict in ("a better", "b better")
        ax.plot(row.estimate, y[j], marker=MARKERS[factors.index(row.factor)], color=colour,
                markerfacecolor=colour if decided else "white", markersize=5)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, labels)
    ax.set_xlabel("difference in test accuracy (first − second level)")
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    blocks = int(overall["n_blocks"].max()) if len(overall) else 0
    caption = (
        f"For each factor, every pair of levels compared across datasets, with {blocks} datasets as blocks "
        f"(each the mean of its seeds and of the other two factors; {_runs(runs)} in all). Dots: mean paired "
        f"difference; bars: Student-t 95% interval; filled: verdict \"a better\" or \"b better\" "
        f"(table verdicts.csv, scope all)."
    )
    return fig, caption


def interaction_plot(two_way, runs):
    """Mean score of each level pair of each two factors: parallel lines mean no interaction."""
    pairs = list(dict.fromkeys(zip(two_way["factor_a"], two_way["factor_b"])))
    fig, axes = plt.subplots(1, max(len(pairs), 1), figsize=(3.0 * max(len(pairs), 1), 2.8), squeeze=False)
    for ax, (fa, fb) in zip(axes[0], pairs):
        part = two_way[(two_way["factor_a"] == fa) & (two_way["factor_b"] == fb)]
        xs = list(dict.fromkeys(part["level_b"]))
        for i, level in enumerate(dict.fromkeys(part["level_a"])):
            line = part[part["level_a"] == level].set_index("level_b").reindex(xs)
            ax.plot(range(len(xs)), line["mean"], label=level, markersize=4, **_style(i))
        ax.set_xticks(range(len(xs)), xs, rotation=30, ha="right")
        ax.set_xlabel(fb)
        ax.set_title(f"{fa} × {fb}")
        ax.legend(title=fa, frameon=False)
    axes[0][0].set_ylabel("mean test accuracy")
    fig.tight_layout()
    units = int(two_way["units"].max()) if len(two_way) else 0
    caption = (
        f"Mean test accuracy of every level pair of two factors, averaged over the third "
        f"factor and {units} (dataset, seed) units ({_runs(runs)}). Parallel lines mean the factors act "
        f"independently; crossing lines mean the best choice of one depends on the other "
        f"(table interaction_means.csv; tests in interactions.csv)."
    )
    return fig, caption


def profiles_plot(profiles, runs):
    """Performance profiles: share of problems on which a level is within tau of the best level."""
    factors = list(dict.fromkeys(profiles["factor"]))
    fig, axes = plt.subplots(1, len(factors), figsize=(3.0 * len(factors), 2.6), squeeze=False, sharey=True)
    for ax, factor in zip(axes[0], factors):
        part = profiles[profiles["factor"] == factor]
        for i, level in enumerate(dict.fromkeys(part["level"])):
            line = part[part["level"] == level]
            style = _style(i)
            ax.step(line["tau"], line["fraction"], where="post", color=style["color"],
                    linestyle=style["linestyle"], label=level)
        ax.set_title(f"{factor} ({int(part['problems'].iloc[0])} problems)")
        ax.set_xlabel("τ (accuracy below the best)")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(frameon=False, loc="lower right")
    axes[0][0].set_ylabel("fraction of problems within τ")
    fig.tight_layout()
    problems = int(profiles.groupby("factor")["problems"].first().max())
    caption = (
        "For each level, the fraction of problems on which its test accuracy is within "
        "τ of the best level's. A problem is one dataset and seed with one level of each other factor "
        f"(up to {problems} per factor, one run per level; {_runs(runs)} in all). Higher and further left is "
        "better; the value at τ = 0 is the share of problems a level wins (table profiles.csv)."
    )
    return fig, caption


# ---------------------------------------------------------------------------
# Training dynamics


def curves_plot(curves, dataset, config):
    """Median and interquartile band over seeds of training cost and dev accuracy, per optimizer."""
    levels = _levels(config)
    regularizer = "none" if "none" in levels["regularizer"] else levels["regularizer"][0]
    part = curves[(curves["dataset"] == dataset) & (curves["regularizer"] == regularizer)]
    inits = [i for i in levels["initializer"] if (part["initializer"] == i).any()]
    metrics = [("cost", "training cost"), ("dev_accuracy", "dev accuracy")]
    fig, axes = plt.subplots(len(metrics), len(inits), figsize=(1.5 + 1.9 * len(inits), 4.2), squeeze=False,
                             sharex=True, sharey="row")
    for col, init in enumerate(inits):
        for row, (metric, label) in enumerate(metrics):
            ax = axes[row][col]
            for i, optimizer in enumerate(levels["optimizer"]):
                line = part[(part["initializer"] == init) & (part["optimizer"] == optimizer) & (part["metric"] == metric)]
                if not len(line):
                    continue
                style = _style(i)
                ax.plot(line["epoch"], line["median"], color=style["color"], linestyle=style["linestyle"],
                        label=optimizer, linewidth=1.2)
                ax.fill_between(line["epoch"], line["q25"], line["q75"], color=style["color"], alpha=0.2, linewidth=0)
            if metric == "cost":
                positive = part[(part["metric"] == "cost") & (part["median"] > 0)]
                if len(positive):
                    ax.set_yscale("log")
                    ax.yaxis.set_minor_locator(NullLocator())
            if row == 0:
                ax.set_title(init)
            if col == 0:
                ax.set_ylabel(label)
            if row == len(metrics) - 1:
                ax.set_xlabel("epoch")
    _legend_below(fig, *axes[0][0].get_legend_handles_labels(), title="optimizer")
    n = len(inits) * len(levels["optimizer"]) * len(config["seeds"])
    caption = (
        f"Without regularization ({regularizer}): median (line) and "
        f"interquartile band over {len(config['seeds'])} seeds of the regularized training cost (log scale) "
        f"and the dev accuracy, per optimizer (colour) and initializer (column); {_runs(n)} "
        f"(table curves.csv)."
    )
    return fig, caption


def time_to_target_plot(summary, config):
    """Epochs to the target accuracy per optimizer and dataset: median and quartiles of runs that reach it."""
    datasets = list(dict.fromkeys(summary["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(0.8 + 2.2 * len(datasets), 2.7), squeeze=False)
    optimizers = list(config["optimizers"])
    for ax, dataset in zip(axes[0], datasets):
        part = summary[summary["dataset"] == dataset].set_index("optimizer").reindex(optimizers)
        for i, (optimizer, row) in enumerate(part.iterrows()):
            if math.isnan(row["epochs_median"]):
                ax.text(i, 0, "never", ha="center", va="bottom", fontsize=6, rotation=90)
                continue
            ax.errorbar(i, row["epochs_median"],
                        yerr=[[row["epochs_median"] - row["epochs_q25"]], [row["epochs_q75"] - row["epochs_median"]]],
                        color=_colour(i), marker=MARKERS[i % len(MARKERS)], capsize=3)
            ax.annotate(f"{row['fraction']:.0%}", (i, row["epochs_q75"]), textcoords="offset points",
                        xytext=(0, 4), ha="center", fontsize=6)
        ax.set_xticks(range(len(optimizers)), optimizers, rotation=30, ha="right")
        ax.set_xlim(-0.6, len(optimizers) - 0.4)
        ax.set_ylim(bottom=0)
        target = part["target"].dropna()
        ax.set_title(f"{dataset} (target {target.iloc[0]:.3f})" if len(target) else dataset)
    axes[0][0].set_ylabel("epochs to target dev accuracy")
    fig.tight_layout()
    caption = (
        "Epochs until the dev accuracy first reaches the dataset's target (chance plus 90% of the way "
        "to the best combination's mean dev accuracy), median and interquartile range over the runs that "
        f"reach it, pooled over initializers, regularizers and seeds ({_runs(int(summary['runs'].sum()))}). "
        "The percentage is the share of runs that reach the target; wall times are in "
        "time_to_target_summary.csv."
    )
    return fig, caption


def learning_rates_plot(learning_rates, config):
    """Tuning curves: mean dev accuracy per learning rate, chosen rate starred."""
    datasets = [d for d in config["datasets"] if (learning_rates["dataset"] == d).any()]
    fig, axes = plt.subplots(1, len(datasets), figsize=(0.8 + 2.4 * len(datasets), 2.6), squeeze=False, sharey=True)
    tuned = "dev_accuracy_mean" in learning_rates
    for ax, dataset in zip(axes[0], datasets):
        part = learning_rates[learning_rates["dataset"] == dataset]
        for i, optimizer in enumerate(config["optimizers"]):
            line = part[part["optimizer"] == optimizer].sort_values("learning_rate")
            if not len(line):
                continue
            style = _style(i)
            if tuned:
                ax.plot(line["learning_rate"], line["dev_accuracy_mean"], color=style["color"],
                        linestyle=style["linestyle"], marker=style["marker"], markersize=3, label=optimizer)
                chosen = line[line["chosen"].astype(bool)]
                ax.plot(chosen["learning_rate"], chosen["dev_accuracy_mean"], marker="*", markersize=11,
                        color=style["color"], markeredgecolor="black", linestyle="none")
                bad = line[line["diverged"] > 0]
                ax.plot(bad["learning_rate"], bad["dev_accuracy_mean"].fillna(0), marker="x", color="black",
                        linestyle="none", markersize=5)
            else:
                ax.axvline(line["learning_rate"].iloc[0], color=style["color"], linestyle=style["linestyle"],
                           label=optimizer)
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("learning rate")
        ax.set_title(dataset)
    axes[0][0].set_ylabel("mean dev accuracy" if tuned else "fixed learning rate")
    _legend_below(fig, *axes[0][0].get_legend_handles_labels(), title="optimizer")
    seeds = int(learning_rates["seeds"].max()) if "seeds" in learning_rates else 0
    runs = int(learning_rates["seeds"].sum()) if "seeds" in learning_rates else 0
    caption = (
        f"Mean dev accuracy over {seeds} tuning seed(s) for every rate of the grid, He "
        f"weights, no regularization ({_runs(runs)}). A star marks the rate each optimizer then used for the "
        "whole grid; a cross marks a rate at which some seed diverged (never chosen). Table "
        "learning_rates.csv; chosen rates in chosen_learning_rates.csv."
    )
    return fig, caption


# ---------------------------------------------------------------------------
# Decision boundaries


BOUNDARY_BACKGROUND = LinearSegmentedColormap.from_list("boundary", ["#f6cf7d", "#ffffff", "#9cc8e8"])


def boundaries_plot(grid, points, models, dataset, config):
    """Predicted class over the input plane, one panel per initializer (rows) x regularizer (columns)."""
    levels = _levels(config)
    part = grid[grid["dataset"] == dataset]
    mine = models[models["dataset"] == dataset]
    inits = [i for i in levels["initializer"] if (mine["initializer"] == i).any()]
    regs = [r for r in levels["regularizer"] if (mine["regularizer"] == r).any()]
    pts = points[points["dataset"] == dataset]
    classes = sorted(pts["label"].unique())
    binary = len(classes) <= 2
    # Every panel covers the same grid; fixed limits instead of shared axes,
    # whose autoscaling costs grow with the square of the number of panels.
    extent = part if len(part) else pts
    x_limits = (extent["x1"].min(), extent["x1"].max())
    y_limits = (extent["x2"].min(), extent["x2"].max())
    fig, axes = plt.subplots(len(inits), len(regs), figsize=(0.6 + 1.55 * len(regs), 0.5 + 1.55 * len(inits)),
                             squeeze=False)
    panels = {key: frame for key, frame in part.groupby(["initializer", "regularizer"], sort=False)}
    for (r, init), (c, reg) in itertools.product(enumerate(inits), enumerate(regs)):
        ax = axes[r][c]
        ax.grid(False)
        ax.set_xlim(*x_limits)
        ax.set_ylim(*y_limits)
        ax.autoscale(False)
        panel = panels.get((init, reg))
        model = mine[(mine["initializer"] == init) & (mine["regularizer"] == reg)]
        if panel is not None:
            # The grid is complete: sort by (x2, x1) and fold it into rows of x2.
            x1 = np.unique(panel["x1"].to_numpy())
            x2 = np.unique(panel["x2"].to_numpy())
            order = np.lexsort((panel["x1"].to_numpy(), panel["x2"].to_numpy()))
            column = "probability" if binary else "label"
            table = panel[column].to_numpy(dtype=float)[order].reshape(len(x2), len(x1))
            if not binary:
                table[table < 0] = np.nan
            if binary:
                ax.pcolormesh(x1, x2, table, cmap=BOUNDARY_BACKGROUND, vmin=0, vmax=1, shading="nearest",
                              rasterized=True)
                if np.nanmin(table) < 0.5 < np.nanmax(table):
                    ax.contour(x1, x2, table, levels=[0.5], colors="black", linewidths=0.8)
            else:
                light = ListedColormap([_colour(k) for k in range(len(classes))])
                ax.pcolormesh(x1, x2, table, cmap=light, vmin=-0.5, vmax=len(classes) - 0.5, alpha=0.3,
                              shading="nearest", rasterized=True)
        for k, label in enumerate(classes):
            cls = pts[pts["label"] == label]
            colour = ("#E69F00", "#0072B2")[k] if binary else _colour(k)
            ax.scatter(cls["x1"], cls["x2"], s=5, color=colour, marker=MARKERS[k % len(MARKERS)],
                       edgecolors="white", linewidths=0.2, rasterized=True)
        if len(model):
            m = model.iloc[0]
            title = ("diverged" if m["status"] == "diverged"
                     else f"train {m['train_accuracy']:.2f} · test {m['test_accuracy']:.2f}")
            ax.set_title(title, fontsize=6.5)
        ax.set_xticks([])
        ax.set_yticks([])
        if c == 0:
            ax.set_ylabel(init)
        if r == len(inits) - 1:
            ax.set_xlabel(reg)
    optimizer = mine["optimizer"].iloc[0] if len(mine) else "?"
    fig.supylabel("initializer", fontsize=8)
    fig.supxlabel("regularizer", fontsize=8)
    fig.tight_layout()
    caption = (
        f"Each panel is one trained network ({optimizer}, the dataset's best "
        f"optimizer by mean test accuracy; seed {config['seeds'][0]}), initializers in rows and regularizers in "
        f"columns, {_runs(len(mine))}. Shading: predicted probability of the blue class (orange below 0.5, blue "
        f"above; black line at 0.5) on a grid over the standardized inputs; points: the "
        f"{len(pts)} training samples (orange circles class 0, blue squares class 1). Titles give the run's "
        "train and test accuracy (tables boundary_grid.csv, boundary_points.csv, boundary_models.csv)."
    )
    if not binary:
        caption = caption.replace("predicted probability of the blue class (orange below 0.5, blue above; black "
                                  "line at 0.5)", "predicted class").replace(
            "(orange circles class 0, blue squares class 1)", "coloured by class")
    return fig, caption


# ---------------------------------------------------------------------------
# Diagnostics


def norms_plot(norm_summary, config):
    """Median per-layer gradient and weight norms, at initialization and after training, per initializer."""
    datasets = [d for d in config["datasets"] if (norm_summary["dataset"] == d).any()]
    inits = list(config["initializers"])
    fig, axes = plt.subplots(len(datasets), 2, figsize=(6.4, 0.6 + 2.0 * len(datasets)), squeeze=False)
    values = norm_summary[["grad_norm_median", "weight_norm_median"]].to_numpy().ravel()
    positive = values[np.isfinite(values) & (values > 0)]
    floor = positive.min() / 10 if positive.size else 1e-12
    for r, dataset in enumerate(datasets):
        part = norm_summary[norm_summary["dataset"] == dataset]
        for c, (column, label) in enumerate((("grad_norm_median", "gradient norm"), ("weight_norm_median", "weight norm"))):
            ax = axes[r][c]
            for i, init in enumerate(inits):
                for when, dash in (("initial", "-"), ("final", "--")):
                    line = part[(part["initializer"] == init) & (part["when"] == when)].sort_values("layer")
                    if not len(line):
                        continue
                    y = line[column].to_numpy(dtype=float)
                    ax.plot(line["layer"], np.where(y > 0, y, floor), color=_colour(i), linestyle=dash,
                            marker=MARKERS[i % len(MARKERS)], markersize=3,
                            markerfacecolor=_colour(i) if when == "initial" else "white",
                            label=f"{init} ({when})")
            ax.set_yscale("log")
            ax.yaxis.set_minor_locator(NullLocator())
            ax.axhline(floor, color="#999999", linewidth=0.6, linestyle=":")
            ax.set_xticks(sorted(part["layer"].unique()))
            ax.set_title(f"{dataset}: {label}")
            if r == len(datasets) - 1:
                ax.set_xlabel("layer")
    _legend_below(fig, *axes[0][0].get_legend_handles_labels(), ncol=6)
    runs = int(norm_summary[norm_summary["when"] == "initial"].groupby(["dataset", "initializer"])["runs"].first().sum())
    caption = (
        "Median over seeds, regularizers and optimizers of each layer's "
        "gradient norm (full training batch, no dropout) and weight norm, at initialization (solid, filled) "
        f"and at the last record (dashed, hollow), per initializer; {_runs(runs)}. Log scale; a norm of "
        "exactly zero is drawn on the dotted line at the bottom (table norm_summary.csv)."
    )
    return fig, caption


def regularizer_norms_plot(by_regularizer, config):
    """Final weight norms per layer under each regularizer, for the reference initializer."""
    datasets = [d for d in config["datasets"] if (by_regularizer["dataset"] == d).any()]
    regs = list(config["regularizers"])
    fig, axes = plt.subplots(1, len(datasets), figsize=(0.8 + 2.6 * len(datasets), 2.6), squeeze=False)
    width = 0.8 / max(len(regs), 1)
    for ax, dataset in zip(axes[0], datasets):
        part = by_regularizer[by_regularizer["dataset"] == dataset]
        layers = sorted(part["layer"].unique())
        for i, reg in enumerate(regs):
            line = part[part["regularizer"] == reg].set_index("layer").reindex(layers)
            x = np.arange(len(layers)) + (i - (len(regs) - 1) / 2) * width
            ax.bar(x, line["weight_norm_median"], width=width, color=_colour(i), label=reg,
                   hatch=("", "//", "..", "xx", "\\\\", "--")[i % 6], edgecolor="white", linewidth=0.3)
            ax.errorbar(x, line["weight_norm_median"],
                        yerr=[line["weight_norm_median"] - line["weight_norm_q25"],
                              line["weight_norm_q75"] - line["weight_norm_median"]],
                        fmt="none", ecolor="black", elinewidth=0.6, capsize=1.5)
        ax.set_xticks(range(len(layers)), [f"W{l}" for l in layers])
        ax.set_title(dataset)
    axes[0][0].set_ylabel("final weight norm (Frobenius)")
    _legend_below(fig, *axes[0][0].get_legend_handles_labels(), title="regularizer")
    init = by_regularizer["initializer"].iloc[0] if len(by_regularizer) else "?"
    runs = int(by_regularizer.groupby(["dataset", "regularizer"])["runs"].first().sum())
    caption = (
        f"After training, {init} initialization: median and "
        f"interquartile range over seeds and optimizers per layer; {_runs(runs)}. L2 shrinks the weights; "
        "dropout and early stopping regularize without an explicit penalty (table regularizer_weight_norms.csv)."
    )
    return fig, caption


def failures_plot(counts):
    """Runs per label (converged, stalled at chance, diverged) by initializer and by optimizer."""
    groups = [g for g in ("initializer", "optimizer", "regularizer") if (counts["by"] == g).any()]
    fig, axes = plt.subplots(1, len(groups), figsize=(2.6 * len(groups), 2.4), squeeze=False)
    for ax, group in zip(axes[0], groups):
        part = counts[counts["by"] == group]
        y = np.arange(len(part))[::-1]
        left = np.zeros(len(part))
        for label, colour in LABEL_COLOURS.items():
            ax.barh(y, part[label], left=left, color=colour, hatch=LABEL_HATCHES[label], label=label,
                    edgecolor="white", linewidth=0.3)
            left += part[label].to_numpy()
        ax.set_yticks(y, part["level"])
        ax.set_title(f"by {group}")
        ax.set_xlabel("runs")
        ax.grid(axis="y", visible=False)
    _legend_below(fig, *axes[0][0].get_legend_handles_labels())
    total = int(counts.loc[counts["by"] == "all", "runs"].sum())
    caption = (
        f"All {_runs(total)}, labelled converged, stalled at chance (training accuracy within two "
        "binomial standard errors of the majority-class rate) or diverged (non-finite cost), counted by "
        "initializer, optimizer and regularizer (table failure_counts.csv; per run in run_labels.csv)."
    )
    return fig, caption


def bias_variance_plot(bias_variance, bias_tolerance, variance_tolerance, config):
    """Avoidable bias against variance for every combination, per dataset."""
    datasets = [d for d in config["datasets"] if (bias_variance["dataset"] == d).any()]
    regs = list(config["regularizers"])
    optimizers = list(config["optimizers"])
    fig, axes = plt.subplots(1, len(datasets), figsize=(0.8 + 2.6 * len(datasets), 2.8), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        part = bias_variance[bias_variance["dataset"] == dataset]
        ok = part[part["majority_label"] == "converged"]
        for row in ok.itertuples():
            i, j = regs.index(row.regularizer), optimizers.index(row.optimizer)
            ax.plot(row.avoidable_bias, row.variance, marker=MARKERS[j % len(MARKERS)], color=_colour(i),
                    linestyle="none", markersize=4, alpha=0.85)
        ax.axvline(bias_tolerance, color="#777777", linestyle="--", linewidth=0.7)
        ax.axhline(variance_tolerance, color="#777777", linestyle="--", linewidth=0.7)
        ax.set_title(f"{dataset} ({len(part) - len(ok)} failed not shown)")
        ax.set_xlabel("avoidable bias (train error − Bayes proxy)")
    axes[0][0].set_ylabel("variance (dev error − train error)")
    handles = [plt.Line2D([], [], color=_colour(i), marker="o", linestyle="none", label=r) for i, r in enumerate(regs)]
    handles += [plt.Line2D([], [], color="black", marker=MARKERS[j % len(MARKERS)], linestyle="none", label=o,
                           markerfacecolor="white") for j, o in enumerate(optimizers)]
    _legend_below(fig, handles, [h.get_label() for h in handles], ncol=len(regs) + len(optimizers))
    runs = int(bias_variance["runs"].sum())
    caption = (
        "Per combination (mean over seeds): avoidable bias is the training error minus the "
        f"dataset's Bayes-error proxy; variance is the dev error minus the training error. Dashed lines: the "
        f"tolerances ({bias_tolerance:g} bias, {variance_tolerance:g} variance) of the basic recipe's reading in "
        "bias_variance.csv. Colour: regularizer; marker: optimizer; combinations whose runs mostly stalled or "
        f"diverged are left out. {_runs(runs)}."
    )
    return fig, caption


# ---------------------------------------------------------------------------
# All of them


def critical_difference_plot(cd, factor, runs):
    from nnstudy.analysis import analyze as analysis

    caption = (f"From {_runs(runs)}: mean rank of each {factor} level over datasets (1 = best). Bars join levels that no pairwise "
               "Wilcoxon signed-rank test (datasets as blocks, Holm-corrected) separates; the title gives the "
               "Friedman test with the Iman-Davenport correction. Data: critical_differences.csv.")
    return analysis.cd_diagram(cd, factor), caption


def save(fig, folder, name):
    """Save ``fig`` as ``{name}.png`` and ``{name}.svg`` in ``folder``; return both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    fig.savefig(png, dpi=PNG_DPI, metadata={"Software": None})
    fig.savefig(svg, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return png, svg


def plans(tables, config):
    """What to draw, in report order: (section, name, title, function returning (figure, caption))."""
    todo = []
    datasets = list(config["datasets"])
    runs = int(len(tables["run_labels"]))
    for d in datasets:
        todo.append(("overview", f"overview-{d}", f"Test accuracy on {d}",
                     lambda d=d: overview_heatmap(tables["overview"], d, config)))
    if (tables["verdict_details"]["scope"] == "all").any():
        todo.append(("effects", "effects", "Main effects",
                     lambda: effects_forest(tables["verdict_details"], runs)))
    if len(tables["interaction_means"]):
        todo.append(("effects", "interactions", "Interactions",
                     lambda: interaction_plot(tables["interaction_means"], runs)))
    todo.append(("effects", "profiles", "Performance profiles", lambda: profiles_plot(tables["profiles"], runs)))
    for factor in dict.fromkeys(tables["critical_differences"]["factor"]):
        todo.append(("verdicts", f"critical_difference-{factor}", f"Critical differences: {factor}",
                     lambda factor=factor: critical_difference_plot(tables["critical_differences"], factor, runs)))
    for d in datasets:
        if (tables["curves"]["dataset"] == d).any():
            todo.append(("dynamics", f"curves-{d}", f"Learning curves on {d}",
                         lambda d=d: curves_plot(tables["curves"], d, config)))
    todo.append(("dynamics", "time_to_target", "Time to target",
                 lambda: time_to_target_plot(tables["time_to_target_summary"], config)))
    todo.append(("dynamics", "learning_rates", "Learning-rate tuning",
                 lambda: learning_rates_plot(tables["learning_rates"], config)))
    for d in dict.fromkeys(tables["boundary_models"]["dataset"]):
        todo.append(("boundaries", f"boundaries-{d}", f"Decision boundaries on {d}",
                     lambda d=d: boundaries_plot(tables["boundary_grid"], tables["boundary_points"],
                                                 tables["boundary_models"], d, config)))
    todo.append(("diagnostics", "norms", "Gradient and weight norms",
                 lambda: norms_plot(tables["norm_summary"], config)))
    if len(tables["regularizer_weight_norms"]):
        todo.append(("diagnostics", "weight_norms", "Weight norms under regularization",
                     lambda: regularizer_norms_plot(tables["regularizer_weight_norms"], config)))
    todo.append(("diagnostics", "failures", "Failure labels", lambda: failures_plot(tables["failure_counts"])))
    todo.append(("diagnostics", "bias_variance", "Bias and variance",
                 lambda: bias_variance_plot(tables["bias_variance"], *recipe_settings(config)[1:], config)))
    return todo


# The plans of the current draw_all call, for its worker processes: they are
# forked, so they inherit the plans (closures over the tables) without pickling.
_PLANS = []


def _draw(index, folder):
    section, name, title, make = _PLANS[index]
    with plt.rc_context(STYLE):
        fig, caption = make()
        png, svg = save(fig, folder, name)
    return {"name": name, "section": section, "title": title, "caption": caption, "png": str(png), "svg": str(svg)}


def draw_all(tables, config, folder, workers=1):
    """Draw every figure from ``tables`` ({name: frame}) into ``folder``.

    Returns one dict per figure, in report order: name, section, title,
    caption, png, svg. Figure names are ``{kind}`` or ``{kind}-{dataset}``.
    With ``workers`` > 1 the figures are drawn by that many forked processes.
    """
    import functools
    import multiprocessing

    global _PLANS
    _PLANS = plans(tables, config)
    draw = functools.partial(_draw, folder=str(folder))
    try:
        if workers > 1 and len(_PLANS) > 1:
            with multiprocessing.get_context("fork").Pool(min(workers, len(_PLANS))) as pool:
                return pool.map(draw, range(len(_PLANS)), chunksize=1)
        return [draw(i) for i in range(len(_PLANS))]
    finally:
        _PLANS = []
