"""Tables read from the run files: time to target, gradient and weight norms, decision boundaries.

Each run file holds one (dataset, optimizer, regularizer) cell: every
initializer x seed trained as one batch, with its history and final
parameters (:func:`nnstudy.io.write_run`).
"""

import math

import numpy as np
import pandas as pd

from nnstudy import io
from nnstudy.analysis import tables
from nnstudy.core import network

# A run reaches its target when its dev accuracy first covers this fraction
# of the way from chance to the best combination's mean dev accuracy.
TARGET_FRACTION = 0.9
# Points per axis of the decision-boundary grid, and its margin around the data.
BOUNDARY_GRID = 48
BOUNDARY_MARGIN = 0.15
# The columns naming a combination, in the order of every table.
KEYS = ["dataset", "initializer", "regularizer", "optimizer"]


def stored_architecture(params, config):
    """The network of a run file, read from its parameter shapes (``W{l}``: models x n_l x n_{l-1}).

    config : the configuration stored with the run file (its hidden activation).
    One output unit is a sigmoid output, more are a softmax: the only two outputs.
    """
    weights = sorted((k for k in params if k.startswith("W")), key=lambda k: int(k[1:]))
    sizes = (params[weights[0]].shape[2], *(params[k].shape[1] for k in weights))
    options = {"hidden_activation": config["hidden_activation"]} if "hidden_activation" in config else {}
    return network.Architecture(sizes, output="sigmoid" if sizes[-1] == 1 else "softmax", **options)


def read_run_files(run_files, seed_numbers):
    """Per run file: its cell, per-model specs with seed numbers, history, parameters and network.

    seed_numbers : {(dataset, model seed): seed number}; a run file stores each
        model's own seed, the tables name its seed number.
    """
    runs = []
    for path in run_files:
        arrays, meta = io.read_run(path)
        dataset, optimizer, regularizer = meta["cell"]
        runs.append(
            {
                "dataset": dataset,
                "optimizer": optimizer,
                "regularizer": regularizer,
                "initializer": np.asarray(arrays["specs"]["initializer"]),
                "seed": np.array([seed_numbers[(dataset, int(s))] for s in arrays["specs"]["seed"]]),
                "status": np.asarray(arrays["status"]),
                "history": arrays["history"],
                "steps_per_epoch": int(arrays["steps_per_epoch"]),
                "params": arrays["params"],
                "architecture": stored_architecture(arrays["params"], meta["config"]),
            }
        )
    return runs


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
            arch = run["architecture"]
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
    grid_columns = ["dataset", "initializer", "regularizer", "optimizer", "seed", "x1", "x2", "label", "probability"]
    grid = pd.concat(grid_rows, ignore_index=True) if grid_rows else pd.DataFrame(columns=grid_columns)
    points = pd.DataFrame(point_rows, columns=["dataset", "x1", "x2", "label"])
    models = pd.DataFrame(model_rows, columns=[*KEYS, "seed", "status", "train_accuracy", "test_accuracy"])
    return grid, points, models
