"""One figure per lecture stage, drawn from that stage's tables only.

Long module: one short function per lecture stage's figure, sharing the
stage-independent helpers; the classic experiments' figure lives apart.

Each ``*_figure`` function takes the stage's tables (pandas frames, as
written to ``results/tables/lectures/``) and returns ``(figure, caption)``;
:func:`draw` reads the tables, draws, and saves PNG and SVG. Every number on
a figure is in a table. Colours are the Okabe-Ito palette, and lines also
differ by marker so that the figures survive grey-scale printing.
"""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from nnstudy.report import classic_figures
from nnstudy.report.style import OKABE_ITO as COLOURS
from nnstudy.report.style import STYLE as REPORT_STYLE

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
# The report's look, with a salt of our own for the SVG element ids.
STYLE = {**REPORT_STYLE, "svg.hashsalt": "nnstudy-lectures"}


# The norms' axis: wide enough for a factor of 1.25 per layer over 50 layers,
# narrow enough that the lines near 1 stay apart; larger and smaller values
# leave the panel (they are in the table).
LOG_RANGE = (1e-12, 1e12)


def _line(i):
    return {"color": COLOURS[i % len(COLOURS)], "marker": MARKERS[i % len(MARKERS)], "markersize": 3}


def _positive(values):
    """Values fit for a log axis: non-finite and non-positive ones become NaN."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


# ---------------------------------------------------------------------------
# Depth


def depth_figure(tables, config):
    """Per activation: activation RMS and gradient norm against layer, and trainability."""
    medians, cells, training = tables["depth_medians"], tables["depth_cells"], tables["depth_training"]
    activations = list(dict.fromkeys([*medians["activation"], *cells["activation"]]))
    deepest = int(medians["depth"].max())
    fig, axes = plt.subplots(len(activations), 3, figsize=(10, 2.6 * len(activations)), squeeze=False)
    for row, activation in enumerate(activations):
        part = medians[(medians["activation"] == activation) & (medians["depth"] == deepest)]
        initializers = list(dict.fromkeys(part["initializer"]))
        for column, (metric, quantity) in enumerate(
            (("activation_rms", "RMS activation"), ("gradient_norm", "||dJ/dW_l||"))
        ):
            ax = axes[row, column]
            # The last layer's output is the logit (one unit, not squashed): only
            # hidden layers show the per-layer factor.
            rows = part[part["layer"] < deepest] if metric == "activation_rms" else part
            for i, init in enumerate(initializers):
                line = rows[rows["initializer"] == init]
                name = init if (line[metric] > 0).any() else f"{init} (0: not drawn)"
                ax.plot(line["layer"], _positive(line[metric]), label=name, **_line(i))
            ax.set_yscale("log")
            ax.set_ylim(*LOG_RANGE)
            ax.set_xlabel("hidden layer l" if metric == "activation_rms" else "layer l")
            ax.set_ylabel(quantity)
            ax.set_title(f"{activation}, depth {deepest}: {quantity} at initialization")
        axes[row, 0].legend(ncol=2, frameon=False, loc="best", fontsize=6)
        _trainability_panel(axes[row, 2], cells[cells["activation"] == activation],
                            training[training["activation"] == activation], activation)
    fig.tight_layout()
    caption = (
        f"Depth sweep. Left and middle: the root-mean-square activation of every hidden layer and the "
        f"norm of the weight gradient of every layer of a {deepest}-layer network at initialization "
        "(median over seeds; the axis spans 1e-12 to 1e12, and zero or overflowing values are not "
        "drawn, so all-zero weights leave no line). Weights a "
        "little below or above the matched scale (He for ReLU, Xavier otherwise) shrink or grow the "
        "signal by a constant factor per layer, hence exponentially in depth. Right: best training "
        "accuracy within the budget (one fixed learning rate); the text is the step the target "
        "accuracy was first reached, '-' if never, 'div' for a diverged run. Tables depth_norms, "
        "depth_growth, depth_training, depth_medians and depth_cells."
    )
    return fig, caption


def _trainability_panel(ax, part, training, activation):
    """``part``: the activation's rows of depth_cells; ``training``: of depth_training (its budget)."""
    ax.grid(False)
    if part.empty:
        ax.set_axis_off()
        ax.set_title(f"{activation}: not trained")
        return
    initializers = list(dict.fromkeys(part["initializer"]))
    depths = sorted(part["depth"].unique())
    grid = np.full((len(initializers), len(depths)), np.nan)
    text = [["" for _ in depths] for _ in initializers]
    for i, init in enumerate(initializers):
        for j, depth in enumerate(depths):
            cell = part[(part["initializer"] == init) & (part["depth"] == depth)]
            if len(cell):
                grid[i, j] = cell["best_train_accuracy"].iloc[0]
                text[i][j] = cell["mark"].iloc[0]
    low = 0.5  # chance for balanced classes; lower values share its colour
    image = ax.imshow(grid, vmin=low, vmax=1.0, cmap="cividis", aspect="auto")
    for i in range(len(initializers)):
        for j in range(len(depths)):
            value = grid[i, j]
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=6,
                    color="black" if np.isfinite(value) and value > (low + 1.0) / 2 else "white")
    ax.set_xticks(range(len(depths)), [str(d) for d in depths])
    ax.set_yticks(range(len(initializers)), initializers)
    ax.set_xlabel("depth L")
    steps = int(training["steps"].iloc[0])
    rate = training["learning_rate"].iloc[0]
    ax.set_title(f"{activation}: best train accuracy in {steps} GD steps (rate {rate:g})")
    plt.colorbar(image, ax=ax, fraction=0.05)


# ---------------------------------------------------------------------------
# Normalization


def normalization_figure(tables, config):
    """Cost contours raw against standardized; steps to target and stability against the rate."""
    surface, runs = tables["normalization_surface"], tables["normalization_rates"]
    curvature, summary = tables["normalization_curvature"], tables["normalization"]
    problems = list(dict.fromkeys(runs["problem"]))
    with_surface = list(dict.fromkeys(surface["problem"])) if len(surface) else []
    n_panels = 2 * len(with_surface[:1]) + len(problems)
    fig, axes = plt.subplots(1, n_panels, figsize=(3.2 * n_panels, 3.1), squeeze=False)
    axes = list(axes[0])
    if with_surface:
        problem = with_surface[0]
        for scaling in ("raw", "standardized"):
            ax = axes.pop(0)
            part = surface[(surface["problem"] == problem) & (surface["scaling"] == scaling)]
            d1 = np.sort(part["d1"].unique())
            d2 = np.sort(part["d2"].unique())
            cost = part.pivot(index="d2", columns="d1", values="cost").loc[d2, d1].to_numpy()
            excess = cost - np.nanmin(cost)
            levels = np.geomspace(1e-3, max(1e-2, np.nanmax(excess)), 12)
            ax.contour(d1, d2, np.maximum(excess, 1e-12), levels=levels, cmap="cividis", linewidths=0.8)
            ax.plot([0], [0], marker="*", color=COLOURS[3])
            ax.set_aspect("equal")
            ax.set_xlabel("w1 - w1*")
            ax.set_ylabel("w2 - w2*")
            row = curvature[(curvature["problem"] == problem) & (curvature["scaling"] == scaling)]
            condition = row["condition"].iloc[0] if len(row) else math.nan
            ax.set_title(f"{problem}, {scaling}: J(w) - J(w*)\nHessian condition number {condition:.3g}")
    for problem in problems:
        ax = axes.pop(0)
        part = runs[runs["problem"] == problem]
        for i, scaling in enumerate(("raw", "standardized")):
            rows = part[part["scaling"] == scaling]
            if rows.empty:
                continue
            rows = rows.sort_values("learning_rate")
            steps = rows.set_index("learning_rate")["steps_to_target"]
            stable = rows.set_index("learning_rate")["stable"].astype(bool)
            style = _line(i)
            ax.plot(steps.index, steps.values, label=scaling, color=style["color"], linewidth=1)
            ax.scatter(steps.index[stable.values], steps.values[stable.values], color=style["color"],
                       marker=style["marker"], s=14, zorder=3)
            ax.scatter(steps.index[~stable.values], steps.values[~stable.values], facecolors="none",
                       edgecolors=style["color"], marker=style["marker"], s=14, zorder=3)
            largest = stable[stable].index.max() if stable.any() else None
            if largest is not None:
                ax.axvline(largest, color=style["color"], linestyle=":", linewidth=1)
        notes = []
        for _, row in summary[summary["problem"] == problem].iterrows():
            stable = "no stable rate" if math.isnan(row["largest_stable_rate"]) else (
                f"stable up to {row['largest_stable_rate']:g}")
            reached = "target never reached" if math.isnan(row["best_rate"]) else (
                f"target at step {row['steps_to_target']:g} (rate {row['best_rate']:g})")
            notes.append(f"{row['scaling']}: {stable}, {reached}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("steps to target accuracy (median)")
        target = tables["normalization_runs"].query("problem == @problem")["target_accuracy"].iloc[0]
        ax.set_title(f"{problem}: steps to train accuracy {target:g}\n" + "\n".join(notes), fontsize=7)
        ax.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    caption = (
        "Input normalization. Contours: the cross-entropy of the two-weight logistic model around "
        "its optimum, with raw features (x1 in [1, 1000], x2 in [0, 1]) and standardized ones, on "
        "axes of equal scale; raw, the surface is a narrow valley. Right: full-batch gradient descent "
        "from the same initial weights (zero for the logistic model, so its first step follows the "
        "gradient alone), median steps to the target training accuracy per learning "
        "rate (no point: never reached); filled markers are stable rates (the cost never rose), "
        "hollow ones unstable; the dotted line is the largest stable rate. Tables normalization_runs, "
        "normalization_rates, normalization, normalization_surface and normalization_curvature."
    )
    return fig, caption


# ---------------------------------------------------------------------------
# Bias and variance, learning curves


def bias_variance_figure(tables, config):
    """Avoidable bias against variance for every combination, with the recipe's quadrants."""
    table = tables["bias_variance"]
    section = config["lectures"]["bias_variance"]
    bias_tol, variance_tol = section["bias_tolerance"], section["variance_tolerance"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, dataset in enumerate(dict.fromkeys(table["dataset"])):
        part = table[table["dataset"] == dataset]
        style = _line(i)
        ax.scatter(part["avoidable_bias"], part["variance"], s=12, color=style["color"],
                   marker=style["marker"], label=dataset, alpha=0.8)
    ax.axvline(bias_tol, color="grey", linestyle="--", linewidth=0.8)
    ax.axhline(variance_tol, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel("avoidable bias: train error - Bayes-error proxy")
    ax.set_ylabel("variance: dev error - train error")
    ax.set_title("The basic recipe's reading of every combination (mean over seeds)")
    ax.text(0.99, 0.99, "high bias and\nhigh variance", transform=ax.transAxes, ha="right", va="top", fontsize=7)
    ax.text(0.01, 0.99, "high variance", transform=ax.transAxes, ha="left", va="top", fontsize=7)
    ax.text(0.99, 0.01, "high bias", transform=ax.transAxes, ha="right", va="bottom", fontsize=7)
    ax.text(0.01, 0.01, "neither", transform=ax.transAxes, ha="left", va="bottom", fontsize=7)
    ax.legend(frameon=False, fontsize=6, loc="center right")
    fig.tight_layout()
    counts = table["reading"].value_counts().to_dict()
    caption = (
        f"Bias and variance of every combination of the grid: dashed lines at the tolerances "
        f"({bias_tol:g} bias, {variance_tol:g} variance). Readings: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + ". Table bias_variance."
    )
    return fig, caption


def learning_curves_figure(tables, config):
    """Train (dashed) and dev (solid) error against training-set size, per dataset."""
    table, runs = tables["learning_curve_summary"], tables["learning_curves"]
    datasets = list(dict.fromkeys(table["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.6 * len(datasets), 3.0), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        part = table[table["dataset"] == dataset]
        for i, regularizer in enumerate(dict.fromkeys(part["regularizer"])):
            rows = part[part["regularizer"] == regularizer].sort_values("train_size")
            style = _line(i)
            ax.plot(rows["train_size"], rows["dev_error"], label=f"{regularizer}: dev", **style)
            ax.plot(rows["train_size"], rows["train_error"], label=f"{regularizer}: train", linestyle="--", **style)
        ax.set_xlabel("training examples")
        ax.set_ylabel("error (mean over seeds)")
        optimizer = runs.loc[runs["dataset"] == dataset, "optimizer"].iloc[0]
        ax.set_title(f"{dataset}: learning curves ({optimizer})")
        ax.legend(frameon=False)
    fig.tight_layout()
    caption = (
        "Learning curves: every size trains for the full set's number of steps. A wide gap that "
        "narrows as examples are added is variance (more data helps); curves that meet at a high "
        "error are bias (more data does not). Tables learning_curves and learning_curve_summary."
    )
    return fig, caption


# ---------------------------------------------------------------------------
# Augmentation and gradient checking


def augmentation_figure(tables, config):
    """Train, dev and test accuracy per method, every seed and the mean."""
    table, summary = tables["augmentation"], tables["augmentation_summary"]
    methods = list(dict.fromkeys(summary["method"]))
    fig, ax = plt.subplots(figsize=(7.6, 0.45 * len(methods) + 1.4))
    parts = (("train_accuracy", "train (original images)"), ("dev_accuracy", "dev"), ("test_accuracy", "test"))
    for k, (column, label) in enumerate(parts):
        style = _line(k)
        offset = (k - 1) * 0.22
        for i, method in enumerate(methods):
            values = table.loc[table["method"] == method, column].to_numpy(dtype=float)
            ax.scatter(values, np.full(len(values), i + offset), s=8, color=style["color"], alpha=0.5,
                       marker=style["marker"])
            mean = summary.loc[summary["method"] == method, column.replace("accuracy", "mean")].iloc[0]
            ax.plot([mean], [i + offset], marker="|", markersize=10, color=style["color"],
                    label=label if i == 0 else None)
    ax.set_yticks(range(len(methods)), [f"{r.method} ({r.kind})" for r in summary.itertuples()])
    ax.invert_yaxis()
    ax.set_xlabel("accuracy")
    low, high = int(summary["steps"].min()), int(summary["steps"].max())
    # The summary's per-method median steps, as a range when the methods differ.
    steps = f"{low} steps each" if low == high else f"{low} to {high} steps, median per method"
    ax.set_title(f"{summary['dataset'].iloc[0]}: augmentation against regularizers ({steps})")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    caption = (
        "Data augmentation as a regularizer: each method trains the same network with the same "
        "optimizer, learning rate and number of steps; points are seeds, bars their mean. Training "
        "accuracy is on the original images for every method. Tables augmentation and augmentation_summary."
    )
    return fig, caption


def gradcheck_figure(tables, config):
    """Overall relative difference per bug, at initialization and after training."""
    table = tables["gradcheck_practice"]
    overall = table[table["block"] == "all"]
    bugs = list(dict.fromkeys(overall["bug"]))
    moments = list(dict.fromkeys(overall["moment"]))
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    width = 0.8 / len(moments)
    for k, moment in enumerate(moments):
        rows = overall[overall["moment"] == moment].set_index("bug").loc[bugs]
        x = np.arange(len(bugs)) + (k - (len(moments) - 1) / 2) * width
        values = np.maximum(rows["difference"].to_numpy(dtype=float), 1e-16)
        ax.bar(x, values, width=width, color=COLOURS[k], label=moment)
        for xi, value, block, passed in zip(x, values, rows["worst_block"], rows["passed"]):
            ax.text(xi, value * 1.5, f"{'pass' if passed else 'FAIL'}\n{'' if passed else block}",
                    ha="center", va="bottom", fontsize=6)
    config_section = config["lectures"]["gradcheck"]
    ax.axhline(config_section["threshold"], color="grey", linestyle="--", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(bugs)), bugs)
    ax.set_ylabel("relative difference, backprop against\ncentral differences")
    ax.set_ylim(top=max(10.0, ax.get_ylim()[1]))
    ax.set_title("Gradient checks at initialization and after training")
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    caption = (
        "Gradient checking in practice: the overall relative difference of each backward pass, "
        "at a small initialization and after training; the dashed line is the threshold, and a "
        "failing check names the block that disagrees most. The derivative written in terms of z "
        "passes near zero and fails once the weights have grown. Table gradcheck_practice."
    )
    return fig, caption


# ---------------------------------------------------------------------------
# Signal propagation


def signal_propagation_figure(tables, config):
    """Depth scales and the critical line from the theory; q^l, c^l, chi^l measured beside it."""
    theory, critical, layers = tables["signal_theory"], tables["signal_critical"], tables["signal_layers"]
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.2))
    activations = list(dict.fromkeys(theory["activation"]))
    # xi_c against sigma_w^2: one line per (activation, sigma_b^2) where it is finite.
    ax = axes[0, 0]
    i = 0
    for activation in activations:
        part = theory[theory["activation"] == activation]
        for sigma_b2, rows in part.groupby("sigma_b2"):
            values = _positive(rows["xi_c"].replace(np.inf, np.nan))
            if np.isfinite(values).any():
                ax.plot(rows["sigma_w2"], values, label=f"{activation}, sigma_b2 {sigma_b2:g}", **_line(i))
                i += 1
    ax.set_yscale("log")
    ax.set_xlabel("sigma_w^2")
    ax.set_ylabel("xi_c (layers)")
    ax.set_title("Correlation depth scale (theory)")
    ax.legend(frameon=False, fontsize=6)
    # chi_1 against sigma_w^2, the line chi_1 = 1 marks the critical point.
    ax = axes[0, 1]
    i = 0
    for activation in activations:
        part = theory[theory["activation"] == activation]
        for sigma_b2, rows in part.groupby("sigma_b2"):
            ax.plot(rows["sigma_w2"], rows["chi_1"], label=f"{activation}, sigma_b2 {sigma_b2:g}", **_line(i))
            i += 1
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel("sigma_w^2")
    ax.set_ylabel("chi_1")
    ax.set_title("chi_1 = sigma_w^2 E[phi'(h)^2] at q*: ordered < 1 < chaotic")
    # The critical line.
    ax = axes[0, 2]
    for i, (activation, rows) in enumerate(critical.groupby("activation", sort=False)):
        ax.plot(rows["sigma_w2"], rows["sigma_b2"], label=activation, **_line(i))
    ax.set_xlabel("sigma_w^2")
    ax.set_ylabel("sigma_b^2")
    ax.set_title("Critical line chi_1 = 1 (ordered to its left)")
    ax.legend(frameon=False, fontsize=7)
    # Theory (lines) against random networks (mean and interval over seeds).
    settings = layers.drop_duplicates(["activation", "sigma_w2", "sigma_b2"])
    for ax, (name, label) in zip(axes[1], (("q", "q^l (mean square pre-activation)"),
                                           ("c", "c^l (correlation of two inputs)"),
                                           ("chi", "chi^l (gradient norm ratio)"))):
        for i, setting in enumerate(settings.itertuples()):
            rows = layers[(layers["activation"] == setting.activation) & (layers["sigma_w2"] == setting.sigma_w2)
                          & (layers["sigma_b2"] == setting.sigma_b2)]
            style = _line(i)
            ax.plot(rows["layer"], rows[f"{name}_theory"], color=style["color"], linewidth=1,
                    label=f"{setting.activation} {setting.sigma_w2:g}/{setting.sigma_b2:g}")
            ax.errorbar(rows["layer"], rows[f"{name}_mean"],
                        yerr=[rows[f"{name}_mean"] - rows[f"{name}_low"], rows[f"{name}_high"] - rows[f"{name}_mean"]],
                        fmt=style["marker"], color=style["color"], markersize=2.5, elinewidth=0.7, linestyle="none")
        ax.set_xlabel("layer l")
        ax.set_ylabel(label)
        if name == "q":
            ax.set_yscale("log")
    width, seeds = int(layers["width"].iloc[0]), int(layers["seeds"].iloc[0])
    axes[1, 0].set_title(f"Theory (lines) and width-{width} networks ({seeds} seeds)")
    axes[1, 0].legend(frameon=False, fontsize=6, title="activation sigma_w2/sigma_b2", title_fontsize=6)
    fig.tight_layout()
    caption = (
        "Signal propagation. Top: the mean-field theory by quadrature (nnstudy.lectures.meanfield): the correlation depth scale "
        "xi_c = -1/ln chi_c (at c*; no line where the length vanishes or explodes), chi_1 at the fixed length q*, "
        "and the critical line chi_1 = 1 (ReLU and linear: sigma_w^2 = 2 and 1 at every bias variance; tanh: "
        "1 without bias, rising with it). Bottom: layer by layer, the theory's length, correlation and gradient "
        f"ratio (lines) and random networks of width {width} (markers: mean over {seeds} seeds with its 95% "
        "interval). Tables signal_theory, signal_critical and signal_layers."
    )
    return fig, caption


# ---------------------------------------------------------------------------
# Trainability


def _edges(values, log=False):
    """Cell edges around sorted ``values``: midpoints inside, half a step beyond the ends."""
    v = np.log(values) if log else np.asarray(values, dtype=float)
    if len(v) == 1:
        inner, first, last = np.array([]), v[0] - 0.5, v[0] + 0.5
    else:
        inner = (v[1:] + v[:-1]) / 2
        first, last = v[0] - (v[1] - v[0]) / 2, v[-1] + (v[-1] - v[-2]) / 2
    edges = np.concatenate([[first], inner, [last]])
    return np.exp(edges) if log else edges


def trainability_figure(tables, config):
    """Mean test accuracy over (sigma_w^2, depth) per activation and keep probability, with 6 xi_c."""
    table = tables["trainability_summary"]
    activations = list(dict.fromkeys(table["activation"]))
    keeps = sorted(table["keep_prob"].unique(), reverse=True)
    fig, axes = plt.subplots(len(activations), len(keeps), figsize=(4.2 * len(keeps), 3.2 * len(activations)),
                             squeeze=False)
    chance = float(table["chance"].iloc[0])
    for row, activation in enumerate(activations):
        for column, keep in enumerate(keeps):
            ax = axes[row, column]
            ax.grid(False)
            part = table[(table["activation"] == activation) & (table["keep_prob"] == keep)]
            sigmas = np.sort(part["sigma_w2"].unique())
            depths = np.sort(part["depth"].unique())
            grid = part.pivot(index="depth", columns="sigma_w2", values="mean_test_accuracy").loc[depths, sigmas]
            image = ax.pcolormesh(_edges(sigmas), _edges(depths, log=True), grid.to_numpy(), vmin=chance, vmax=1.0,
                                  cmap="cividis", shading="flat")
            theory = part.drop_duplicates("sigma_w2").sort_values("sigma_w2")
            reach = _positive(theory["trainable_depth"].replace(np.inf, np.nan))
            ax.plot(theory["sigma_w2"], reach, color="white", linewidth=1.5, marker="o", markersize=3,
                    label="6 xi_c (theory)")
            ax.set_yscale("log", base=2)
            ax.set_ylim(_edges(depths, log=True)[[0, -1]])
            ax.set_yticks(depths, [str(d) for d in depths])
            ax.set_xlabel("sigma_w^2")
            ax.set_ylabel("depth L")
            dropout = "no dropout" if keep == 1 else f"dropout, keep {keep:g}"
            ax.set_title(f"{activation}, {dropout}", fontsize=8)
            ax.legend(frameon=False, fontsize=6, loc="upper right", labelcolor="white")
            plt.colorbar(image, ax=ax, fraction=0.05, label="test accuracy")
    fig.tight_layout()
    first = table.iloc[0]
    trained = tables["trainability"]
    caption = (
        f"Trainability phase diagram: mean test accuracy over seeds after {int(trained['epochs'].iloc[0])} epochs "
        f"of mini-batch gradient descent (rate {trained['learning_rate'].iloc[0]:g}, width "
        f"{int(trained['width'].iloc[0])}, biases of variance {first['sigma_b2']:g}); a diverged run counts as "
        f"chance ({chance:g}). The white line is six correlation depth scales of the mean-field theory at the "
        "same setting (with the dropout keep probability): networks deeper than it should not train; it "
        "leaves the panel near the critical line, where xi_c diverges, and has no point where the length "
        "explodes. Tables trainability and trainability_summary."
    )
    return fig, caption


# ---------------------------------------------------------------------------
# Initialization failures


def init_failures_figure(tables, config):
    """Zeros against a constant against He; the course's cost and ours along the x10 run."""
    symmetry, saturation = tables["init_symmetry"], tables["init_saturation"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    ax = axes[0]
    labels = [f"{r.activation}, {r.initializer}" for r in symmetry.itertuples()]
    y = np.arange(len(symmetry))
    ax.barh(y - 0.2, symmetry["zero_weight_gradients_at_init"], height=0.4, color=COLOURS[0],
            label="weight gradients exactly 0 at init")
    ax.barh(y + 0.2, symmetry["train_accuracy"], height=0.4, color=COLOURS[1], label="train accuracy after training")
    for yi, r in zip(y, symmetry.itertuples()):
        ax.text(1.02, yi, f"distinct units {r.distinct_units} of {r.hidden_units}", va="center", fontsize=6)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.6)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel("fraction")
    ax.set_title("Zeros: nothing moves; a constant: every unit a copy")
    ax.legend(frameon=False, fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    ax = axes[1]
    ax.plot(saturation["step"], saturation["cost_from_logits"], label="from the logits (ours)", **_line(0))
    finite = np.isfinite(saturation["cost_from_probabilities"])
    ax.plot(saturation["step"][finite], saturation["cost_from_probabilities"][finite],
            label="from the probabilities (course)", linestyle="--", **_line(1))
    top = float(np.nanmax(saturation["cost_from_logits"])) * 3
    for step in saturation["step"][~finite]:
        ax.annotate("course: inf", (step, top), textcoords="offset points", xytext=(4, -10), fontsize=7,
                    color=COLOURS[1])
        ax.plot([step], [top], marker="^", color=COLOURS[1])
    ax.set_yscale("log")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("training cost")
    first = saturation.iloc[0]
    ax.set_title(f"x{first['scale']:g} weights: largest |logit| {first['max_abs_logit']:.4g} at step 0; "
                 f"p rounds to 1 beyond {first['threshold']:.4g}", fontsize=7)
    ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    caption = (
        "Initialization failures. Left: with all-zero weights every hidden activation and every weight gradient "
        "is exactly zero, so the weights never move; with a constant every hidden unit of a layer stays a copy "
        "of the others (distinct units per hidden layer after training); He weights are the control. Right: "
        "the course's x10 run on its circles: its cost from the probabilities is infinite (triangle) while some "
        "sample of label 0 has a logit beyond the float64 saturation point of the sigmoid; the same cost from "
        "the logits is finite throughout and equal once no probability rounds to 0 or 1. Tables init_symmetry "
        "and init_saturation."
    )
    return fig, caption


TITLES = {
    "depth": "Depth: vanishing and exploding signals",
    "normalization": "Input normalization",
    "bias_variance": "Bias and variance of every combination",
    "learning_curves": "Learning curves",
    "augmentation": "Data augmentation as a regularizer",
    "gradcheck": "Gradient checking in practice",
    "signal_propagation": "Signal propagation: the mean-field theory of initialization",
    "trainability": "The trainability phase diagram",
    "init_failures": "Why zeros, constants and x10 weights fail",
    "classic_init": "The classic initialization experiments",
}

FIGURES = {
    "depth": depth_figure,
    "normalization": normalization_figure,
    "bias_variance": bias_variance_figure,
    "learning_curves": learning_curves_figure,
    "augmentation": augmentation_figure,
    "gradcheck": gradcheck_figure,
    "signal_propagation": signal_propagation_figure,
    "trainability": trainability_figure,
    "init_failures": init_failures_figure,
    "classic_init": classic_figures.classic_init_figure,
}


def read_table(path):
    """A table written by the stage, or an empty frame for an empty file."""
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()



def _networks(frame, keys):
    return 0 if frame.empty else len(frame.drop_duplicates(list(keys)))


# stage -> the number of training runs (or checked networks) its figure summarizes
RUN_COUNTS = {
    "depth": lambda t: _networks(t["depth_norms"], ("activation", "depth", "initializer", "seed")),
    "normalization": lambda t: len(t["normalization_runs"]),
    "bias_variance": lambda t: int(t["bias_variance"]["runs"].sum()) if len(t["bias_variance"]) else 0,
    "learning_curves": lambda t: len(t["learning_curves"]),
    "augmentation": lambda t: len(t["augmentation"]),
    "gradcheck": lambda t: _networks(t["gradcheck_practice"], ("dataset", "bug", "moment")),
    "signal_propagation": lambda t: int(
        t["signal_layers"].drop_duplicates(["activation", "sigma_w2", "sigma_b2"])["seeds"].sum()),
    "trainability": lambda t: len(t["trainability"]),
    "init_failures": lambda t: len(t["init_symmetry"]) + 1,
    "classic_init": classic_figures.run_count,
}

def draw(stage, inputs, outputs, config):
    """Draw ``stage``'s figure from ``inputs`` {table: path}.

    outputs : {"png", "svg", "caption"} paths; the caption file is JSON
    ``{"stage", "title", "caption"}``, for a report to show beside the image.
    Returns the caption.
    """
    import json

    from nnstudy import io

    tables = {name: read_table(path) for name, path in inputs.items()}
    with plt.rc_context(STYLE):
        fig, caption = FIGURES[stage](tables, config)
        caption = f"{caption} It summarizes {RUN_COUNTS[stage](tables)} runs."
        for kind in ("png", "svg"):
            with io.atomic_path(outputs[kind]) as tmp:
                fig.savefig(tmp, format=kind, metadata={"Date": None} if kind == "svg" else {"Software": None})
        plt.close(fig)
    with io.atomic_path(outputs["caption"]) as tmp:
        tmp.write_text(json.dumps({"stage": stage, "title": TITLES[stage], "caption": caption}, indent=1) + "\n")
    return caption


def draw_all(config, inputs, folder):
    """Draw the figure of every enabled stage from ``inputs`` {table: path} into ``folder``.

    Returns {stage: caption}.
    """
    from pathlib import Path

    from nnstudy.lectures import STAGES, enabled

    captions = {}
    for stage in enabled(config):
        base = Path(folder) / stage
        outputs = {kind: base.with_suffix(f".{ext}") for kind, ext in
                   (("png", "png"), ("svg", "svg"), ("caption", "json"))}
        captions[stage] = draw(stage, {name: inputs[name] for name in STAGES[stage]}, outputs, config)
    return captions
