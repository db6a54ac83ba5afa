"""The tuning section's figures, each drawn from one or two tables (nnstudy.analysis.budget's and the tuning job's).

Each function returns ``(figure, caption)``; :func:`draw` saves it beside
the report's other figures (``results/figures/{name}.png`` and ``.svg``).
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.ticker import MaxNLocator

from nnstudy.analysis.budget import POOLED, POSITION_PREFIX
from nnstudy.report.figures import save
from nnstudy.report.style import DASHES, MARKERS, OKABE_ITO, STYLE


def _styles(names):
    return {name: (OKABE_ITO[i % len(OKABE_ITO)], DASHES[i % len(DASHES)], MARKERS[i % len(MARKERS)])
            for i, name in enumerate(names)}


def budget_figure(summary, dataset):
    """Expected best dev accuracy and the test accuracy of that choice against the budget k."""
    part = summary[(summary["dataset"] == dataset) & (summary["regularizer"] == POOLED)]
    styles = _styles(list(dict.fromkeys(part["optimizer"])))
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 2.6), sharex=True)
    for ax, column, label in ((axes[0], "dev", "expected best dev accuracy"),
                              (axes[1], "test", "test accuracy of that choice")):
        for optimizer, group in part.groupby("optimizer", sort=False):
            colour, dash, _ = styles[optimizer]
            ax.plot(group["k"], group[f"{column}_accuracy"], color=colour, linestyle=dash, label=optimizer)
            ax.fill_between(group["k"], group[f"{column}_low"], group[f"{column}_high"], color=colour, alpha=0.15,
                            linewidth=0)
        ax.set_xlabel("trials drawn (k)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
    axes[0].legend(frameon=False)
    fig.suptitle(dataset)
    fig.tight_layout()
    units = int(part["units"].max()) if len(part) else 0
    caption = (f"{dataset}: for each optimizer, the dev accuracy of the configuration the selection rule would choose "
               f"from k of the K trials drawn at random (expected over every k-subset), and the test accuracy of "
               f"that configuration, each averaged over the {units} tuning units (initializers x regularizers) "
               f"of the optimizer; bands: 95% bootstrap intervals, trials resampled within each unit. "
               f"Data: budget_summary.csv.")
    return fig, caption


def probability_figure(probability):
    """P(each optimizer is the best) against the budget k, one panel per dataset."""
    datasets = list(dict.fromkeys(probability["dataset"]))
    styles = _styles(list(dict.fromkeys(probability["optimizer"])))
    fig, axes = plt.subplots(1, len(datasets), figsize=(2.4 * len(datasets) + 0.6, 2.4), sharey=True,
                             squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        part = probability[probability["dataset"] == dataset]
        for optimizer, group in part.groupby("optimizer", sort=False):
            colour, dash, marker = styles[optimizer]
            ax.plot(group["k"], group["probability"], color=colour, linestyle=dash, marker=marker, markersize=2.5,
                    label=optimizer)
        ax.set_title(dataset)
        ax.set_xlabel("trials drawn (k)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(-0.02, 1.02)
    axes[0][0].set_ylabel("P(best optimizer)")
    axes[0][-1].legend(frameon=False)
    fig.tight_layout()
    caption = ("The probability that each optimizer's choice from k random trials has the highest dev accuracy, "
               "exact for independent draws with ties split evenly, averaged over the (initializer, regularizer) "
               "blocks of each dataset. Data: best_optimizer_probability.csv.")
    return fig, caption


def trial_means(trials):
    """One row per (unit, trial): mean dev accuracy over tuning seeds, the hyperparameters, diverged."""
    keys = ["dataset", "initializer", "regularizer", "optimizer", "trial"]
    positions = [c for c in trials.columns if c.startswith(POSITION_PREFIX)]
    values = [c[len(POSITION_PREFIX):] for c in positions]
    grouped = trials.assign(diverged=trials["status"] == "diverged").groupby(keys, sort=False)
    out = grouped[[*values, *positions]].first()
    out["dev_accuracy"] = grouped["dev_accuracy"].mean()
    out["diverged"] = grouped["diverged"].any()
    return out.reset_index(), values


def searched_dimensions(trials):
    """The hyperparameters with a position in at least one of these trials, in table order."""
    return [c[len(POSITION_PREFIX):] for c in trials.columns
            if c.startswith(POSITION_PREFIX) and trials[c].notna().any()]


def hyperparameter_figure(trials, chosen, dataset):
    """Each searched dimension against dev accuracy: every trial, diverged at the bottom, choices ringed."""
    part = trials[trials["dataset"] == dataset]
    means, _ = trial_means(part)
    names = searched_dimensions(part)
    picked = chosen[chosen["dataset"] == dataset]
    styles = _styles(list(dict.fromkeys(means["optimizer"])))
    columns = min(4, len(names))
    rows = -(-len(names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.9 * columns + 0.4, 1.8 * rows + 0.4), sharey=True,
                             squeeze=False)
    finite = means.loc[~means["diverged"], "dev_accuracy"]
    floor = float(finite.min()) - 0.05 if len(finite) else 0.0
    for ax, name in zip(axes.flat, names):
        position = POSITION_PREFIX + name
        for optimizer, group in means.groupby("optimizer", sort=False):
            colour, _, marker = styles[optimizer]
            ok = group[~group["diverged"] & group[position].notna()]
            bad = group[group["diverged"] & group[position].notna()]
            ax.scatter(ok[position], ok["dev_accuracy"], s=5, color=colour, marker=marker, alpha=0.5,
                       linewidths=0, label=optimizer)
            ax.scatter(bad[position], np.full(len(bad), floor), s=9, color=colour, marker="x", linewidths=0.6)
            mine = picked[(picked["optimizer"] == optimizer) & picked[position].notna()]
            ax.scatter(mine[position], mine["dev_accuracy"], s=28, facecolors="none", edgecolors=colour,
                       linewidths=1.0)
        # The axis is the dimension's own scale; its ends are labelled with the trials' extreme values.
        searched = means[means[position].notna()]
        ends = searched.loc[[searched[position].idxmin(), searched[position].idxmax()]]
        ax.set_xticks(list(ends[position]), [f"{v:.3g}" for v in ends[name]])
        ax.set_xlim(-0.05, 1.05)
        ax.set_title(name)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("dev accuracy")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, frameon=False, markerscale=2, loc="upper right")
    fig.suptitle(dataset)
    fig.tight_layout(rect=(0, 0, 0.88, 1))
    caption = (f"{dataset}: every trial of every tuning unit, its mean dev accuracy over the tuning seeds against "
               f"each searched dimension, placed on the dimension's scale (log, log of 1 - beta, linear or integer; "
               f"ticks: the extreme values searched). Crosses at the bottom: diverged trials (never chosen). "
               f"Rings: the configuration chosen for each unit. Data: tuning_trials.csv, tuning_chosen.csv.")
    return fig, caption


def draw(make, folder, name, title):
    """Draw ``make()`` in the report's style and save it; the report's figure record."""
    with plt.rc_context(STYLE):
        fig, caption = make()
        png, svg = save(fig, folder, name)
    return {"name": name, "title": title, "caption": caption, "png": str(png), "svg": str(svg)}
