"""Input normalization: the same problem with raw and with standardized features.

The lecture's claim: when features live on very different scales, the cost
surface is a long narrow valley, gradient descent must take small steps to
stay stable across it, and it needs many of them to travel along it;
standardizing the inputs (with the training split's mean and standard
deviation) makes the surface round, so larger steps are stable and fewer
are needed.

Every problem is trained twice, raw and standardized, from the same initial
weights, over one grid of learning rates: full-batch gradient descent, the
same budget of steps. For problems without hidden layers and with two
features (a two-weight logistic model) the cost surface itself is tabulated
around the optimum, with the Hessian's eigenvalues there.
"""

import math

import numpy as np

from nnstudy.core import basics, network
from nnstudy.data import datasets
from nnstudy.errors import ConfigError, check_choice
from nnstudy.study.experiment import architecture_for, train_data
from nnstudy.core.initializers import initialize
from nnstudy.core.optimizers import make_optimizer
from nnstudy.core.training import TrainConfig, train

SCALINGS = ("raw", "standardized")

# A step-to-step rise of the training cost larger than this fraction marks
# a run unstable (rounding alone moves a converged cost far less).
RISE_TOLERANCE = 1e-9


def scales(seed, n_samples=400, low=1.0, high=1000.0, sharpness=2.0):
    """Two features on very different scales, equally informative.

    ``x1`` is uniform in ``[low, high]`` and ``x2`` uniform in ``[0, 1]``;
    with ``z`` each feature centred and scaled by its population standard
    deviation, ``P(y = 1) = sigmoid(sharpness * (z1 + z2))``. Standardized,
    the two features play symmetric roles; raw, ``x1`` is about a thousand
    times larger.
    """
    gen = np.random.default_rng(seed)
    x1 = gen.uniform(low, high, n_samples)
    x2 = gen.uniform(0.0, 1.0, n_samples)
    z1 = (x1 - (low + high) / 2) / ((high - low) / math.sqrt(12.0))
    z2 = (x2 - 0.5) / (1.0 / math.sqrt(12.0))
    y = (gen.uniform(size=n_samples) < basics.sigmoid(sharpness * (z1 + z2))).astype(np.int64)
    return np.stack([x1, x2]), y


# Problem sources besides the package's generators (which all work too).
SOURCES = {"scales": scales}


def check_problem(name, entry):
    """Raise ConfigError unless the problem's source and parameters are known."""
    import inspect

    from nnstudy.errors import invalid

    source = entry["source"]
    check_choice(f"lectures.normalization.problems.{name}.source", source, tuple(SOURCES) + tuple(datasets.GENERATORS))
    if source in datasets.GENERATORS:
        try:
            datasets.generator_params(source, entry.get("params"))
        except ConfigError as err:
            # The message starts with the parameter's name: prefix its path.
            raise ConfigError(f"lectures.normalization.problems.{name}.params.{err}") from None
        return
    known = [p for p in inspect.signature(SOURCES[source]).parameters if p != "seed"]
    for key, value in (entry.get("params") or {}).items():
        if key not in known:
            raise invalid(f"lectures.normalization.problems.{name}.params.{key}", value,
                          "a known parameter (" + ", ".join(map(repr, known)) + ")")


def raw_splits(entry):
    """The unstandardized train / dev / test split of one problem.

    entry : {"source", "params", "seed", "dev_fraction", "test_fraction"}.
    """
    source = entry["source"]
    check_choice("source", source, tuple(SOURCES) + tuple(datasets.GENERATORS))
    seed = entry["seed"]
    dev, test = entry["dev_fraction"], entry["test_fraction"]
    if source in datasets.GENERATORS:
        return datasets.make_dataset(source, seed, entry.get("params") or None, dev, test, standardize=False)
    X, y = SOURCES[source](seed, **(entry.get("params") or {}))
    X, y = datasets.validate_arrays(X, y, f"problem {source!r}")
    return datasets.split(X, y, seed, dev, test)


def both_scalings(entry):
    """{"raw": splits, "standardized": splits} (standardized with training statistics)."""
    raw = raw_splits(entry)
    return {"raw": raw, "standardized": datasets.standardize(raw)[0]}


def rate_sweep(problem, splits, scaling, entry, learning_rates, seeds, *, steps):
    """Train every learning rate x seed on one scaling; one row per model.

    Models with the same seed start from the same weights on both scalings.
    Every step is recorded. A run is ``stable`` when gradient descent
    behaves as a descent method: the training cost is finite and never rises
    from one step to the next (beyond a relative :data:`RISE_TOLERANCE`).
    A step that overshoots, even once (for example the step that silences
    every ReLU unit of a network fed raw features), makes the run unstable.
    ``steps_to_target`` is the first step with training accuracy at or
    above the entry's ``target_accuracy`` (NaN if never reached within
    ``steps``).
    """
    arch = architecture_for(splits, entry["hidden_layers"], entry["hidden_activation"])
    rates = [r for r in learning_rates for _ in seeds]
    model_seeds = [s for _ in learning_rates for s in seeds]
    params = initialize(arch.layer_sizes, entry["initializer"], model_seeds, inputs=splits.X_train,
                        hidden_activation=arch.hidden_activation)
    result = train(
        params,
        arch,
        make_optimizer("gd"),
        train_data(splits),
        TrainConfig(epochs=steps, batch_size=None, eval_every=1),
        learning_rate=rates,
        seeds=model_seeds,
    )
    cost = result.history["cost"]
    accuracy = result.history["train_accuracy"]
    with np.errstate(invalid="ignore"):
        rises = np.diff(cost, axis=1) > RISE_TOLERANCE * np.abs(cost[:, :-1])
        stable = np.isfinite(cost).all(axis=1) & ~rises.any(axis=1)
    stable &= result.status != "diverged"
    target_accuracy = entry["target_accuracy"]
    reached = np.nan_to_num(accuracy, nan=-1.0) >= target_accuracy
    first = np.where(reached.any(axis=1), result.history["step"][np.argmax(reached, axis=1)], -1)
    rows = []
    for i, (rate, seed) in enumerate(zip(rates, model_seeds)):
        rows.append(
            {
                "problem": problem,
                "scaling": scaling,
                "learning_rate": float(rate),
                "seed": int(seed),
                "status": str(result.status[i]),
                "initial_cost": float(cost[i, 0]),
                "final_cost": float(cost[i, -1]),
                "stable": bool(stable[i]),
                "target_accuracy": float(target_accuracy),
                "steps_to_target": float(first[i]) if first[i] >= 0 else math.nan,
                "final_train_accuracy": float(accuracy[i, -1]),
                "final_dev_accuracy": float(result.history["dev_accuracy"][i, -1]),
            }
        )
    return rows


def summarize(rows):
    """Per (problem, scaling): the largest stable rate and the fastest rate.

    ``largest_stable_rate`` is the largest rate at which every seed is
    stable. Among stable rates at which every seed reaches the target,
    ``best_rate`` has the smallest median ``steps_to_target`` (ties go to
    the larger rate); NaN where no rate does. ``steps_to_target`` and
    ``dev_accuracy`` are the medians over seeds at ``best_rate``.
    """
    groups = {}
    for row in rows:
        groups.setdefault((row["problem"], row["scaling"]), {}).setdefault(row["learning_rate"], []).append(row)
    out = []
    for (problem, scaling), by_rate in groups.items():
        stable = [r for r, g in by_rate.items() if all(x["stable"] for x in g)]
        fast = []
        for rate in stable:
            steps = [x["steps_to_target"] for x in by_rate[rate]]
            if not any(math.isnan(s) for s in steps):
                fast.append((float(np.median(steps)), -rate))
        best = -min(fast)[1] if fast else math.nan
        group = by_rate.get(best, [])
        out.append(
            {
                "problem": problem,
                "scaling": scaling,
                "rates": len(by_rate),
                "seeds": len(next(iter(by_rate.values()))),
                "largest_stable_rate": max(stable) if stable else math.nan,
                "best_rate": best,
                "steps_to_target": float(np.median([x["steps_to_target"] for x in group])) if group else math.nan,
                "dev_accuracy": float(np.median([x["final_dev_accuracy"] for x in group])) if group else math.nan,
            }
        )
    return out


def logistic_optimum(X, y, ridge=1e-8, iterations=100):
    """Weights and bias minimizing the mean cross-entropy of a logistic model.

    X : (n, m); y : (m,) in {0, 1}. Newton's method with a tiny ridge
    (the data must not be separable). Returns ``(w (n,), b)``.
    """
    n, m = X.shape
    Xa = np.vstack([X, np.ones((1, m))])
    theta = np.zeros(n + 1)
    for _ in range(iterations):
        p = basics.sigmoid(theta @ Xa)
        gradient = Xa @ (p - y) / m + ridge * theta
        hessian = (Xa * (p * (1 - p))) @ Xa.T / m + ridge * np.eye(n + 1)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-12 * max(1.0, np.abs(theta).max()):
            break
    return theta[:n], float(theta[n])


def to_raw(w, b, stats):
    """The raw-feature model equal to ``(w, b)`` on standardized features.

    ``w . (x - mean) / std + b = (w / std) . x + (b - w . mean / std)``.
    """
    mean, std = stats["mean"][:, 0], stats["std"][:, 0]
    return w / std, float(b - np.sum(w * mean / std))


def hessian(X, y, w, b):
    """Hessian of the mean cross-entropy over (w_1, ..., w_n, b): (n+1, n+1)."""
    m = X.shape[1]
    Xa = np.vstack([X, np.ones((1, m))])
    p = basics.sigmoid(w @ X + b)
    return (Xa * (p * (1 - p))) @ Xa.T / m


def surface(problem, pair, points, radius):
    """The cost surface of the two-weight logistic model around its optimum.

    pair : {"raw": splits, "standardized": splits} of a two-feature problem.
    The optimum is found on the standardized features and mapped to the raw
    ones (the same classifier, so the same minimum cost). The grid spans
    ``w* +- radius`` on both weights, in each scaling's own units, the bias
    held at its optimum; all ``points**2`` costs are one batched evaluation.
    Returns ``(surface_rows, curvature_rows)``: the grid (``w1``, ``w2``,
    offsets ``d1``, ``d2`` and ``cost``), and per scaling the Hessian's
    eigenvalues over (w1, w2, b) at the optimum, its condition number and
    ``2 / lambda_max``, the largest stable gradient-descent rate there.
    """
    standardized = pair["standardized"]
    w_std, b_std = logistic_optimum(standardized.X_train, standardized.y_train)
    optimum = {"standardized": (w_std, b_std), "raw": to_raw(w_std, b_std, standardized.stats)}
    offsets = np.linspace(-radius, radius, points)
    d1, d2 = (a.ravel() for a in np.meshgrid(offsets, offsets, indexing="ij"))
    arch = network.Architecture((2, 1))
    surface_rows, curvature_rows = [], []
    for scaling in SCALINGS:
        splits = pair[scaling]
        w, b = optimum[scaling]
        X, y = splits.X_train, splits.y_train
        W = np.stack([w[0] + d1, w[1] + d2], axis=-1)[:, None, :]
        params = {"W1": W, "b1": np.full((len(d1), 1, 1), b)}
        cost = network.cost(params, X, y[None, :].astype(float), arch)
        for i in range(len(d1)):
            surface_rows.append(
                {
                    "problem": problem,
                    "scaling": scaling,
                    "d1": float(d1[i]),
                    "d2": float(d2[i]),
                    "w1": float(W[i, 0, 0]),
                    "w2": float(W[i, 0, 1]),
                    "cost": float(cost[i]),
                }
            )
        best = {"W1": w.reshape(1, 1, 2), "b1": np.full((1, 1, 1), b)}
        optimum_cost = network.cost(best, X, y[None, :].astype(float), arch)[0]
        eigenvalues = np.linalg.eigvalsh(hessian(X, y, w, b))
        curvature_rows.append(
            {
                "problem": problem,
                "scaling": scaling,
                "w1": float(w[0]),
                "w2": float(w[1]),
                "b": float(b),
                "optimum_cost": float(optimum_cost),
                "lambda_min": float(eigenvalues[0]),
                "lambda_max": float(eigenvalues[-1]),
                "condition": float(eigenvalues[-1] / eigenvalues[0]),
                "rate_bound": float(2.0 / eigenvalues[-1]),
            }
        )
    return surface_rows, curvature_rows


def has_surface(entry, n_features):
    """Whether a problem is a two-weight model (no hidden layer, two features)."""
    return not entry["hidden_layers"] and n_features == 2


def run(problems, learning_rates, seeds, *, steps, surface_points, surface_radius):
    """The whole stage: {"runs", "summary", "surface", "curvature"} lists of rows.

    problems : {name: entry} (see :func:`raw_splits`; plus ``hidden_layers``,
    ``hidden_activation`` and ``initializer`` for the network, and
    ``target_accuracy``).
    """
    runs, surface_rows, curvature_rows = [], [], []
    for name, entry in problems.items():
        pair = both_scalings(entry)
        for scaling in SCALINGS:
            runs += rate_sweep(
                name, pair[scaling], scaling, entry, learning_rates, seeds,
                steps=steps,
            )
        if has_surface(entry, pair["raw"].n_features) and pair["raw"].n_classes == 2:
            grid, curvature = surface(name, pair, surface_points, surface_radius)
            surface_rows += grid
            curvature_rows += curvature
    return {"runs": runs, "summary": summarize(runs), "surface": surface_rows, "curvature": curvature_rows}


def stage(config):
    """The normalization stage of the configuration: {table name: rows}."""
    section = config["lectures"]["normalization"]
    out = run(
        section["problems"], section["learning_rates"], section["seeds"], steps=section["steps"],
        surface_points=section["surface"]["points"], surface_radius=section["surface"]["radius"],
    )
    return {
        "normalization_runs": out["runs"],
        "normalization": out["summary"],
        "normalization_surface": out["surface"],
        "normalization_curvature": out["curvature"],
    }
