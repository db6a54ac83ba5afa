"""The lectures' experiments that the grid alone does not test.

Each stage turns one claim of the course into tables (``results/tables/lectures/``)
and a figure (``results/lectures/figures/``):

* :mod:`~nnstudy.lectures.depth` -- depth sweep: per-layer activation and
  gradient norms at initialization, and whether deep networks train.
* :mod:`~nnstudy.lectures.normalization` -- features on very different
  scales against standardized ones: steps to a target accuracy, the largest
  stable learning rate, and the cost surface of a two-weight model.
* :mod:`~nnstudy.lectures.bias_variance` -- the basic recipe's reading of
  every combination of the grid, and learning curves.
* :mod:`~nnstudy.lectures.augmentation` -- shifted (and rotated) digits as a
  regularizer, against L2, dropout and early stopping on the same budget.
* :mod:`~nnstudy.lectures.gradcheck_practice` -- gradient checking at
  initialization and after training, with deliberately broken backward passes.
* :mod:`~nnstudy.lectures.signal_propagation` -- the mean-field theory of
  initialization (lengths, correlations, chi_1, depth scales, the critical
  line) beside random networks of finite width.
* :mod:`~nnstudy.lectures.trainability` -- the trainability phase diagram:
  test accuracy over weight variance and depth beside ``6 xi_c``.
* :mod:`~nnstudy.lectures.init_failures` -- zeros against a constant
  (dead units against symmetry), and the x10 initialization's infinite cost.
* :mod:`~nnstudy.lectures.classic_init` -- the classic experiments: Glorot
  and Bengio's per-layer histograms, He et al.'s 30-layer ReLU network,
  Saxe et al.'s deep linear networks.

A stage runs when its section is present under ``lectures`` in the
configuration. :data:`STAGES` names each stage's tables; the workflow and
the report read them from here. Array conventions are the package's
(samples on the last axis, models on the first).

In the workflow (``workflow/rules/lectures.smk``) every stage is one rule,
``lecture_{stage}``, and ``lecture_figures`` draws the figures; for example
``snakemake --cores 2 results/tables/lectures/depth_growth.csv`` runs the
depth sweep alone. Stages that train on a study dataset (learning curves,
augmentation) use the learning rate the study chose for it
(:func:`nnstudy.records.study_rate`), so they wait for its tuning; the bias / variance reading waits for ``runs.csv``.
"""

from nnstudy import paths
from nnstudy.errors import ConfigError, invalid

# stage -> its tables, in results/tables/lectures/{name}.csv (its summaries
# over seeds, nnstudy.lectures.summaries, included); each stage also draws one figure, results/lectures/figures/{stage}.png and .svg, with
# its caption in {stage}.json.
STAGES = {
    "depth": ("depth_norms", "depth_growth", "depth_training", "depth_medians", "depth_cells"),
    "normalization": ("normalization_runs", "normalization", "normalization_surface", "normalization_curvature",
                      "normalization_rates"),
    "bias_variance": ("bias_variance",),
    "learning_curves": ("learning_curves", "learning_curve_summary"),
    "augmentation": ("augmentation", "augmentation_summary"),
    "gradcheck": ("gradcheck_practice",),
    "signal_propagation": ("signal_theory", "signal_critical", "signal_layers"),
    "trainability": ("trainability", "trainability_summary"),
    "init_failures": ("init_symmetry", "init_saturation", "init_diagnostics"),
    "classic_init": ("classic_histograms", "classic_layer_stats", "classic_relu_curves", "classic_linear_depth"),
}


def enabled(config):
    """The stages the configuration switches on, in :data:`STAGES` order."""
    lectures = config.get("lectures") or {}
    return [stage for stage in STAGES if stage in lectures]


def table_path(name):
    return paths.lecture_table(name)


def figure_paths(stage):
    """The stage's figure (PNG, SVG) and its caption (JSON)."""
    return [paths.lecture_figure(stage, ext) for ext in ("png", "svg", "json")]


def outputs(config):
    """Every table and figure file of the enabled stages (the workflow's targets)."""
    files = []
    for stage in enabled(config):
        files += [table_path(name) for name in STAGES[stage]] + figure_paths(stage)
    return files


def _dataset(config, key, name):
    if name not in config["datasets"]:
        raise invalid(f"lectures.{key}", name, "a dataset of the study: one of " + ", ".join(config["datasets"]))


def _members(config, key, names, section):
    for name in names:
        if name not in config[section]:
            raise invalid(f"lectures.{key}", name, f"a key of '{section}': one of " + ", ".join(config[section]))


def check_lectures(config):
    """Cross-references the schema cannot express; ConfigError otherwise.

    Datasets, optimizers and regularizers named by a stage must be those of
    the study (a stage reuses their settings and, where it trains, the
    learning rate the study chose for them).
    """
    from nnstudy.lectures.gradcheck_practice import BUGS, NEEDS_TANH

    lectures = config.get("lectures") or {}
    if "depth" in lectures:
        _dataset(config, "depth.dataset", lectures["depth"]["dataset"])
    if "trainability" in lectures:
        _dataset(config, "trainability.dataset", lectures["trainability"]["dataset"])
    if "init_failures" in lectures:
        _dataset(config, "init_failures.dataset", lectures["init_failures"]["dataset"])
    if "classic_init" in lectures:
        _dataset(config, "classic_init.dataset", lectures["classic_init"]["dataset"])
    if "bias_variance" in lectures:
        for name in lectures["bias_variance"]["bayes_error"]:
            _dataset(config, "bias_variance.bayes_error", name)
    if "learning_curves" in lectures:
        section = lectures["learning_curves"]
        for name in section["datasets"]:
            _dataset(config, "learning_curves.datasets", name)
        _members(config, "learning_curves.optimizer", [section["optimizer"]], "optimizers")
        _members(config, "learning_curves.regularizers", section["regularizers"], "regularizers")
    if "augmentation" in lectures:
        section = lectures["augmentation"]
        _dataset(config, "augmentation.dataset", section["dataset"])
        source = config["datasets"][section["dataset"]]["source"]
        if source != "digits":
            raise invalid("lectures.augmentation.dataset", section["dataset"], "a dataset of source 'digits' (8x8 images)")
        _members(config, "augmentation.optimizer", [section["optimizer"]], "optimizers")
        _members(config, "augmentation.regularizers", section["regularizers"], "regularizers")
        clash = sorted(set(section["augmentations"]) & set(section["regularizers"]))
        if clash:
            raise invalid("lectures.augmentation.augmentations", clash, "names other than the regularizers'")
    if "normalization" in lectures:
        from nnstudy.lectures.normalization import check_problem

        for name, entry in lectures["normalization"]["problems"].items():
            check_problem(name, entry)
    if "gradcheck" in lectures:
        section = lectures["gradcheck"]
        _dataset(config, "gradcheck.dataset", section["dataset"])
        for bug in section["bugs"]:
            if bug not in BUGS:
                raise invalid("lectures.gradcheck.bugs", bug, "one of " + ", ".join(BUGS))
            if bug in NEEDS_TANH and section["hidden_activation"] != "tanh":
                raise ConfigError(
                    f"lectures.gradcheck.bugs={bug!r} is not allowed with hidden_activation="
                    f"{section['hidden_activation']!r}: expected hidden_activation 'tanh'"
                )
    return config


def write_tables(tables, outputs, metadata):
    """Write each {name: rows or frame} to ``outputs[name]`` as CSV with its metadata sidecar."""
    import pandas as pd

    from nnstudy import io

    for name, rows in tables.items():
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
        io.write_table(frame, outputs[name], metadata)
    return {name: len(rows) for name, rows in tables.items()}
