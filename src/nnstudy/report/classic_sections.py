"""The classic initialization experiments' part of the report: the claim and the findings read from the tables."""

import numpy as np
import pandas as pd

CLAIM = (
    "Three classic experiments behind today's initializers. Glorot and Bengio (2010): with the standard "
    "uniform weights U(-1/sqrt(n), 1/sqrt(n)) a tanh network's activations shrink layer after layer and the "
    "back-propagated gradients shrink towards the input, while the normalized rule keeps both about level. "
    "He et al. (2015): a 30-layer ReLU network does not learn from Xavier weights (variance 1/n, halved at "
    "every ReLU) but does from He weights (2/n). Saxe et al. (2014): from orthogonal weights the learning time "
    "of a deep linear network hardly depends on its depth; from scaled Gaussian weights it grows."
)


def _ratio(stats, rule, quantity):
    part = stats[(stats["rule"] == rule) & (stats["quantity"] == quantity)].sort_values("layer")
    return part["std"].iloc[-1] / part["std"].iloc[0], int(part["layer"].iloc[-1])


def findings(tables, config):
    """(sentences, {caption: frame}) for the report's section."""
    stats, curves, linear = tables["classic_layer_stats"], tables["classic_relu_curves"], tables["classic_linear_depth"]
    sentences = []
    for rule in ("standard", "normalized"):
        activation, last = _ratio(stats, rule, "activation")
        gradient, _ = _ratio(stats, rule, "gradient")
        sentences.append(
            f"{rule} uniform weights: the standard deviation of the activations at hidden layer {last} is "
            f"{activation:.3g} times that at layer 1; that of the back-propagated gradients at layer 1 is "
            f"{1 / gradient:.3g} times that at layer {last}."
        )
    depth = int(curves["depth"].iloc[0])
    ends = curves.sort_values("step").groupby(["initializer", "seed"], sort=False).agg(
        first=("cost", "first"), last=("cost", "last"), accuracy=("train_accuracy", "last"))
    for name, group in ends.groupby(level="initializer", sort=False):
        sentences.append(
            f"{depth}-layer ReLU network from {name} weights: training cost {group['first'].median():.3g} at the "
            f"start and {group['last'].median():.3g} at the end (median over {len(group)} seed(s)), training "
            f"accuracy {group['accuracy'].median():.3f}."
        )
    target = linear["target_cost"].iloc[0]
    learning_time = linear.pivot_table(index="depth", columns="initializer", values="steps_to_target",
                                       aggfunc="mean", dropna=False)
    for name in linear["initializer"].unique():
        part = linear[linear["initializer"] == name]
        by_depth = part.groupby("depth")["steps_to_target"].mean()
        missed = int(part["steps_to_target"].isna().sum())
        sentences.append(
            f"Deep linear networks from {name} weights: mean steps to a training cost of {target:g}: "
            + ", ".join(f"{v:.0f} at depth {d}" if np.isfinite(v) else f"not reached at depth {d}"
                        for d, v in by_depth.items())
            + f" ({missed} of {len(part)} networks did not reach it within {int(part['budget'].iloc[0])} steps)."
        )
    shown = {
        "Spread of each hidden layer's activations and back-propagated gradients at initialization": stats,
        "Deep linear networks: mean steps to the target cost": pd.DataFrame(learning_time).reset_index(),
    }
    return sentences, shown
