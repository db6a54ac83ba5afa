"""The study: from the configuration to batches of models and back to rows.

The configuration (``config/config.yaml``, validated against
``workflow/schemas/config.schema.yaml`` and by :func:`check_config`) names
datasets, initializers, regularizers, optimizers and seeds. A training cell is
one (dataset, optimizer, regularizer): every initializer and seed of it trains
as one batch (the workflow's job for a (dataset, optimizer) trains its cells
one after another).

A seed is a replicate of the whole experiment: seed number ``k`` of a dataset
draws its own stratified train/dev/test split of the dataset's pool, its own
initial weights, mini-batch orders and dropout masks, each from its own stream
of :func:`model_seed` (see :mod:`nnstudy.core.rng`). Model seeds derive from the
dataset name and the seed number only, so matched seeds share all these draws
across initializers, regularizers and optimizers (paired comparisons), and no
result depends on the order jobs run in.

Training jobs import only numpy and h5py; tables (pandas) are built later.
"""

import zlib

import numpy as np

from nnstudy.core import batches, engines, network, optimizers, rng, snapshots
from nnstudy.data import datasets
from nnstudy.errors import check_choice, invalid
from nnstudy.study import search
from nnstudy.study.experiment import OPTIMIZER_FIELDS, ModelSpec, architecture_for, run_batch
from nnstudy.core.gradcheck import Packing, checked_coordinates, gradient_check
from nnstudy.core.initializers import INITIALIZERS, initialize
from nnstudy.core.optimizers import OPTIMIZERS
from nnstudy.core.regularizers import REGULARIZERS, regularizer_settings
from nnstudy.core.training import TrainConfig


def check_config(config):
    """Semantic checks the JSON schema cannot express; ConfigError otherwise."""
    for section in ("datasets", "initializers", "regularizers", "optimizers"):
        if not config.get(section):
            raise invalid(section, config.get(section), "at least one entry")
    for name in config["initializers"]:
        check_choice("initializers", name, INITIALIZERS)
    for name in config["regularizers"]:
        check_choice("regularizers", name, REGULARIZERS)
        regularizer_settings(name, **config["regularizers"][name])
    for name, entry in config["optimizers"].items():
        check_choice(f"optimizers.{name}.method", entry["method"], OPTIMIZERS)
    for name, entry in config["datasets"].items():
        check_choice(
            f"datasets.{name}.source", entry["source"], datasets.SOURCES
        )
        if entry["source"] in datasets.FILE_SOURCES:
            if not entry.get("path"):
                raise invalid(f"datasets.{name}.path", entry.get("path"), "a path for a file source")
            # Read and check the file now, so a bad file stops the study
            # before any job runs (DataError names the file and the key).
            build_pool(config, name)
    seeds = config["seeds"]
    if len(set(seeds)) != len(seeds):
        raise invalid("seeds", seeds, "distinct seeds")
    decomposition = config.get("variance_decomposition")
    if decomposition:
        for key, section in (("initializer", "initializers"), ("regularizer", "regularizers"),
                             ("optimizer", "optimizers")):
            check_choice(f"variance_decomposition.{key}", decomposition[key], config[section])
        if len(decomposition.get("seeds") or seeds) < 2:
            raise invalid("variance_decomposition.seeds", decomposition.get("seeds") or seeds,
                          "at least two seeds (the study's seeds when not given)")
    _check_tuning(config)
    rates = config["learning_rates"]
    if not rates["tune"]:
        missing = [o for o in config["optimizers"] if o not in rates.get("fixed", {})]
        if missing:
            raise invalid("learning_rates.fixed", rates.get("fixed"), f"a rate for {missing}")
    return config


def _check_tuning(config):
    tuning = config.get("tuning")
    if not tuning:
        return
    for name in tuning["sensitivity_datasets"]:
        check_choice("tuning.sensitivity_datasets", name, config["datasets"])
    if tuning["protocol"] != "search":
        return
    search.dimensions(tuning["space"])  # each range checked against its scale
    shared = sorted(set(tuning["seeds"]) & set(config["seeds"]))
    if shared:
        raise invalid("tuning.seeds", tuning["seeds"], f"seeds disjoint from the study's seeds (both have {shared})")
    if not tuning["per_initializer"]:
        check_choice("tuning.reference_initializer", tuning["reference_initializer"], config["initializers"])


def model_seed(dataset, seed):
    """The seed of every model of ``dataset`` with seed number ``seed``.

    A CRC of the name, not Python's ``hash``, which changes between processes.
    """
    return zlib.crc32(f"{dataset}/{seed}".encode()) & 0x7FFFFFFF


def build_pool(config, name):
    """Generate (or read) the samples of dataset ``name`` of the configuration, unsplit.

    The dataset's ``seed`` seeds its data (a generator's noise); splits come
    from the seed numbers of the study (:func:`replicate_split`).
    """
    entry = config["datasets"][name]  # validated: the schema filled its defaults
    return datasets.make_pool(
        entry["source"],
        entry["seed"],
        entry.get("params") or None,
        entry["dev_fraction"],
        entry["test_fraction"],
        standardize=entry["standardize"],
        path=entry.get("path"),
    )


def replicate_split(pool, name, seed):
    """The train/dev/test split of replicate ``seed`` of dataset ``name``.

    Stratified and standardized with its own training statistics; it
    depends on the dataset name and the seed number only (the "split"
    stream of :func:`model_seed`), never on which models or jobs use it.
    """
    split_seed = rng.stream_seed(model_seed(name, seed), "split")
    return datasets.split_pool(pool, split_seed, {"replicate": seed})


def reference_split(config, name, pool):
    """The split of the study's first seed: the one stored as the dataset's file.

    Stages that need one split of a dataset (gradient checks, lectures,
    dataset sizes, decision-boundary panels of the first seed) read it.
    """
    return replicate_split(pool, name, config["seeds"][0])


def build_dataset(config, name):
    """The split of the study's first seed of dataset ``name``, built from the configuration."""
    return reference_split(config, name, build_pool(config, name))


def replicate_splits(pool, name, seeds):
    """One split per model: ``[replicate_split(pool, name, s) for s in seeds]``, each built once."""
    built = {s: replicate_split(pool, name, s) for s in dict.fromkeys(seeds)}
    return [built[s] for s in seeds]


def architecture(config, name, splits):
    entry = config["datasets"][name]
    return architecture_for(splits, entry["hidden_layers"], config["hidden_activation"])


# Schedule keys of the configuration -> fields of TrainConfig. Without a
# schedule section TrainConfig's own values apply: a constant rate.
SCHEDULE_FIELDS = {"name": "schedule", "decay_rate": "decay_rate", "decay_interval": "decay_interval"}


def train_config(config, name, optimizer, splits):
    """The TrainConfig of one dataset and optimizer: budget in epochs, records per epochs."""
    entry = config["datasets"][name]
    mini_batch = config["optimizers"][optimizer]["mini_batch"]
    batch_size = entry["batch_size"] if mini_batch else None
    steps_per_epoch = batches.steps_per_epoch(splits.X_train.shape[-1], batch_size)
    schedule = config.get("schedule") or {}
    return TrainConfig(
        epochs=entry["epochs"],
        batch_size=batch_size,
        eval_every=entry["eval_every"] * steps_per_epoch,
        **{SCHEDULE_FIELDS[key]: value for key, value in schedule.items()},
    )


def optimizer_params(config, optimizer):
    entry = config["optimizers"][optimizer]
    return {k: v for k, v in entry.items() if k not in ("method", "mini_batch")}


def cell_runs(config):
    """The (initializer, seed number) of every run of a cell, in batch order."""
    return [(init, seed) for init in config["initializers"] for seed in config["seeds"]]


# The regularizer strengths a unit's values may set (the rest of ModelSpec's
# per-model settings come from the regularizer's configuration).
REGULARIZER_FIELDS = ("lambd", "keep_prob", "patience")


def unit_spec(config, name, initializer, seed, regularizer, values):
    """The ModelSpec of one model: seed number ``seed``, trained with ``values``.

    values : {learning_rate, and any of lambd, keep_prob, patience, beta,
        beta1, beta2, epsilon}; what it leaves out comes from the
        configuration of the regularizer and the optimizer.
    """
    settings = regularizer_settings(regularizer, **config["regularizers"][regularizer])
    settings.update({k: values[k] for k in REGULARIZER_FIELDS if k in values})
    own = {k: values[k] for k in OPTIMIZER_FIELDS if k in values}
    scale = (config["initializers"][initializer] or {}).get("scale")
    return ModelSpec(initializer, model_seed(name, seed), values["learning_rate"], scale, **settings, **own)


def one_rate(config, learning_rate):
    """Hyperparameters that give every initializer ``learning_rate`` and the configured rest."""
    return {init: {"learning_rate": learning_rate} for init in config["initializers"]}


def grid_specs(config, name, regularizer, hyperparameters):
    """Every initializer x seed of one (dataset, regularizer) cell.

    hyperparameters : {initializer: values} (see :func:`unit_spec`).
    """
    return [
        unit_spec(config, name, init, seed, regularizer, hyperparameters[init])
        for init, seed in cell_runs(config)
    ]


def train_specs(config, name, optimizer, splits, specs, probe=None):
    """Train ``specs`` as one batch on a dataset with one optimizer of the study.

    splits : one Splits per model (its replicate's split).
    probe : None, or raw grid points to record probabilities on (see :func:`boundary_probe`).
    """
    return run_batch(
        splits,
        architecture(config, name, splits[0]),
        config["optimizers"][optimizer]["method"],
        optimizer_params(config, optimizer),
        train_config(config, name, optimizer, splits[0]),
        specs,
        probe=probe,
    )


def boundary_probe(pool):
    """(axes (2, G), points (2, G * G)) of the decision-boundary grid of a 2-D pool, else None.

    The grid spans every sample of the pool, in its raw coordinates, so each
    seed's snapshots cover the same plane.
    """
    if pool.X.shape[0] != 2:
        return None
    X = pool.X if pool.X_test is None else np.concatenate([pool.X, pool.X_test], axis=1)
    return snapshots.boundary_grid(X)


def train_cell(config, name, optimizer, regularizer, pool, hyperparameters):
    """Train one (dataset, optimizer, regularizer) cell; return (outcome, rows).

    hyperparameters : {initializer: values} (see :func:`unit_spec`), from
        the cell's tuning (:func:`nnstudy.study.tuning.study_hyperparameters`).
    Every model trains on the split of its seed number, drawn from ``pool``.
    rows: one dict per run, keyed by :data:`nnstudy.records.RUN_KEYS` plus the metrics.
    """
    specs = grid_specs(config, name, regularizer, hyperparameters)
    seed_numbers = [seed for _, seed in cell_runs(config)]
    splits = replicate_splits(pool, name, seed_numbers)
    grid = boundary_probe(pool)
    outcome = train_specs(config, name, optimizer, splits, specs, probe=None if grid is None else grid[1])
    rows = []
    for (_, seed), spec, row in zip(cell_runs(config), specs, outcome.rows()):
        rows.append(
            {
                "dataset": name,
                "initializer": spec.initializer,
                "regularizer": regularizer,
                "optimizer": optimizer,
                "seed": seed,
                "learning_rate": spec.learning_rate,
                "status": row["status"],
                "train_accuracy": row["train_accuracy"],
                "dev_accuracy": row["dev_accuracy"],
                "test_accuracy": row["test_accuracy"],
                "final_cost": row["final_cost"],
                "steps": row["steps"],
                "stop_step": row["stop_step"],
                "best_epoch": row["best_epoch"],
            }
        )
    return outcome, rows


def gradcheck_cell(config, name, splits):
    """Gradient-check every regularizer variant of a dataset's network, through every engine.

    For each training engine (:data:`nnstudy.core.engines.ENGINES`) the gradient
    that one of its training steps computes (its own forward and backward
    passes, L2 term and dropout) is compared with central differences of the
    cost that step descends: He weights, small random biases (so no ReLU unit
    sits exactly on its kink), a fixed batch of the training set with the L2
    penalty of the whole training set, the configured L2 strength and dropout
    under fixed draws. Blocks larger than ``gradcheck.coordinates_per_block``
    are checked on a seeded sample of that many entries (the same sample for
    every engine and regularizer), the others whole. Returns ``(rows, threshold)``: one row per
    (regularizer, engine, block), "all" being the whole vector, each with its
    relative difference and the tolerance it must stay below
    (:meth:`nnstudy.core.gradcheck.GradientCheck.tolerance`).
    """
    options = config["gradcheck"]  # the schema fills every key
    arch = architecture(config, name, splits)
    regs = list(config["regularizers"])
    settings = [regularizer_settings(r, **config["regularizers"][r]) for r in regs]
    seed = model_seed(name, "gradcheck")
    params = initialize(arch.layer_sizes, "he", [seed] * len(regs))
    gen = np.random.default_rng(seed)
    for key in params:
        if key[0] == "b":
            params[key] = gen.normal(0.0, 0.1, size=params[key].shape)
    m_train = splits.X_train.shape[-1]
    n = min(options["samples"], m_train)
    X = splits.X_train[:, :n]
    Y = datasets.one_hot_targets(splits.y_train[:n], splits.n_classes)
    lambd = np.array([s["lambd"] for s in settings], dtype=float)
    keep = np.array([s["keep_prob"] for s in settings], dtype=float)
    uniforms = [gen.random((len(regs), size, n)) for size in arch.layer_sizes[1:-1]]
    threshold = options["threshold"]
    coordinates = checked_coordinates(Packing.of(arch).slices, options["coordinates_per_block"], seed)
    rows = []
    for engine, engine_class in engines.ENGINES.items():
        if engine_class.refusal(arch, optimizers.identity()) is not None:
            continue  # training never takes an engine that refuses the network

        def step(p, engine_class=engine_class):
            return engines.step_gradients(engine_class, p, X, Y, arch, lambd, keep, uniforms, m_train)

        check = gradient_check(
            params, X, Y, arch, lambd, network.per_model(keep, len(regs)), uniforms,
            epsilon=options["epsilon"], gradients=step, n_train=m_train, coordinates=coordinates,
        )
        for block in ["all", *check.blocks]:
            values = check.difference if block == "all" else check.blocks[block]
            tolerances = check.tolerance(threshold, block)
            for s, regularizer in enumerate(regs):
                rows.append(
                    {
                        "dataset": name,
                        "architecture": "-".join(map(str, arch.layer_sizes)),
                        "output": arch.output,
                        "regularizer": regularizer,
                        "engine": engine,
                        "block": block,
                        "difference": float(values[s]),
                        "tolerance": float(tolerances[s]),
                        "passed": bool(values[s] < tolerances[s]),
                    }
                )
    rows.sort(key=lambda row: regs.index(row["regularizer"]))
    return rows, threshold


def gradcheck_failures(rows, threshold):
    """A message naming each failing (dataset, regularizer, engine) and its worst block, or None.

    The worst block is the parameter block whose difference exceeds its
    tolerance by the largest factor; "all" (the whole vector) only when no
    single block fails.
    """
    failures = {}
    for row in rows:
        if row["passed"]:
            continue
        key = (row["dataset"], row["architecture"], row["output"], row["regularizer"], row["engine"])
        rank = (row["block"] != "all", row["difference"] / row["tolerance"])
        if key not in failures or rank > failures[key][0]:
            failures[key] = (rank, row)
    if not failures:
        return None
    return "; ".join(
        f"gradient check failed for dataset {d} ({a}, {o} output, regularizer {r}, engine {e}): "
        f"block {row['block']} differs by {row['difference']:.3g} "
        f"(tolerance {row['tolerance']:.3g}, threshold {threshold:g})"
        for (d, a, o, r, e), (_, row) in failures.items()
    )
