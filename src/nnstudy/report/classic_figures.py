"""The classic initialization experiments' figure, drawn from the stage's tables only.

Top row: Glorot and Bengio's per-layer histograms of activations and of
back-propagated gradients (standard against normalized uniform weights).
Bottom row: He et al.'s 30-layer ReLU training curves (Xavier against He),
and Saxe et al.'s steps to a target cost against depth for deep linear
networks (orthogonal against scaled Gaussian).
"""

import numpy as np
from matplotlib import pyplot as plt

from nnstudy.report.style import OKABE_ITO as COLOURS

RULE_STYLE = {"standard": "--", "normalized": "-"}
QUANTITY_LABEL = {"activation": "activation value", "gradient": "back-propagated gradient dJ/dZ"}


def _layer_colour(layer, n_layers):
    return plt.get_cmap("viridis")(0.1 + 0.8 * (layer - 1) / max(n_layers - 1, 1))


def _histogram_panel(ax, histograms, quantity):
    part = histograms[histograms["quantity"] == quantity]
    n_layers = int(part["layer"].max())
    for (rule, layer), group in part.groupby(["rule", "layer"], sort=True):
        centres = (group["left"] + group["right"]) / 2
        ax.plot(centres, group["fraction"], linestyle=RULE_STYLE[rule], color=_layer_colour(layer, n_layers),
                linewidth=1, label=f"{rule}, layer {layer}")
    ax.set_yscale("log")
    ax.set_xlabel(QUANTITY_LABEL[quantity])
    ax.set_ylabel("fraction of values per bin")
    ax.set_title(f"{quantity}s per layer: dashed standard, solid normalized", fontsize=8)


def _spread_panel(ax, stats):
    for i, quantity in enumerate(("activation", "gradient")):
        for rule in ("standard", "normalized"):
            part = stats[(stats["quantity"] == quantity) & (stats["rule"] == rule)].sort_values("layer")
            spread = part["std"] / part["std"].iloc[0]
            ax.plot(part["layer"], spread, linestyle=RULE_STYLE[rule], color=COLOURS[i], marker="os"[i],
                    markersize=3, label=f"{quantity}, {rule}")
    ax.set_yscale("log")
    ax.set_xlabel("hidden layer")
    ax.set_xticks(sorted(stats["layer"].unique()))
    ax.set_ylabel("std relative to layer 1")
    ax.set_title("Spread per layer", fontsize=8)
    ax.legend(frameon=False, fontsize=6)


def _relu_panel(ax, curves):
    for i, (name, group) in enumerate(curves.groupby("initializer", sort=False)):
        for j, (_, run) in enumerate(group.groupby("seed")):
            ax.plot(run["epoch"], run["cost"], color=COLOURS[i], linewidth=1,
                    label=name if j == 0 else None)
    depth = int(curves["depth"].iloc[0])
    ax.set_xlabel("epoch")
    ax.set_ylabel("training cost")
    ax.set_title(f"{depth}-layer ReLU network", fontsize=8)
    ax.legend(frameon=False, fontsize=7)


def _linear_panel(ax, linear):
    budget = int(linear["budget"].iloc[0])
    for i, (name, group) in enumerate(linear.groupby("initializer", sort=False)):
        summary = group.groupby("depth")["steps_to_target"]
        mean = summary.mean()
        ax.plot(mean.index, mean.values, color=COLOURS[i], marker="os^D"[i % 4], markersize=4, label=name)
        ax.scatter(group["depth"], group["steps_to_target"], color=COLOURS[i], s=6, alpha=0.5)
        missed = group[group["steps_to_target"].isna()]
        ax.scatter(missed["depth"], np.full(len(missed), budget), color=COLOURS[i], marker="^", s=18)
    ax.axhline(budget, color="grey", linewidth=0.6, linestyle=":")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("weight layers")
    ax.set_ylabel("steps to target cost")
    ax.set_title(f"Deep linear networks (cost {linear['target_cost'].iloc[0]:g}; triangles: not reached)",
                 fontsize=8)
    ax.legend(frameon=False, fontsize=7)


def classic_init_figure(tables, config):
    """Glorot and Bengio's histograms, He et al.'s deep ReLU curves, Saxe et al.'s learning times."""
    histograms, stats = tables["classic_histograms"], tables["classic_layer_stats"]
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.4))
    _histogram_panel(axes[0, 0], histograms, "activation")
    _histogram_panel(axes[0, 1], histograms, "gradient")
    _spread_panel(axes[0, 2], stats)
    _relu_panel(axes[1, 0], tables["classic_relu_curves"])
    _linear_panel(axes[1, 1], tables["classic_linear_depth"])
    axes[1, 2].axis("off")
    fig.tight_layout()
    caption = (
        "The classic initialization experiments. Top: a 5-hidden-layer tanh network at initialization with "
        "standard uniform weights U(-1/sqrt(n), 1/sqrt(n)) (dashed) and normalized ones (Glorot and Bengio "
        "2010; solid), one line per layer (dark: first); the right panel gives each layer's standard deviation "
        "relative to the first hidden layer. Bottom left: training cost of a deep ReLU network from Xavier and "
        "He weights, one line per seed (He et al. 2015). Bottom middle: gradient-descent steps until the "
        "training cost of a deep linear network reaches the target, from orthogonal and scaled Gaussian "
        "weights, per seed and their mean (Saxe et al. 2014). Tables classic_histograms, classic_layer_stats, "
        "classic_relu_curves and classic_linear_depth."
    )
    return fig, caption


def run_count(tables):
    """The networks the figure summarizes: two at initialization, the trained ReLU and linear ones."""
    curves, linear = tables["classic_relu_curves"], tables["classic_linear_depth"]
    return 2 + len(curves.drop_duplicates(["initializer", "seed"])) + len(linear)
