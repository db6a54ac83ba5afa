"""The lecture stages' part of the report: claims, the numbers that answer them, figures, tables.

:func:`sections` reads every enabled stage's tables (``results/tables/lectures/``)
and figure (``results/lectures/figures/``) and returns one plain record per
stage: its title, the lecture's claim, findings (sentences whose numbers
come from the tables), the figure with its caption, and a few small tables
to show. :func:`html` renders those records as self-contained ``<section>``
blocks (figures embedded as PNG), so that a report page can include them as
they are. Nothing here trains or draws.
"""

import base64
import html as html_module
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from nnstudy import paths
from nnstudy.lectures import STAGES, enabled, table_path
from nnstudy.report import classic_sections
from nnstudy.report.lecture_figures import read_table

# stage -> the lecture's claim that the stage tests
CLAIMS = {
    "depth": (
        "In a deep network every layer multiplies the signal's scale by a factor set by the weights' "
        "variance, so weights a little above or below the right scale make activations and gradients "
        "grow or shrink exponentially with depth. He weights keep deep ReLU networks trainable; "
        "Xavier-scaled ones slow down, and all-zero weights never move."
    ),
    "normalization": (
        "With features on very different scales the cost surface is an elongated valley: gradient "
        "descent needs a small learning rate to stay stable and many steps to travel along it. "
        "Standardizing the inputs with the training set's statistics makes the surface round."
    ),
    "bias_variance": (
        "Compare the training error with the best achievable error (avoidable bias) and the dev error "
        "with the training error (variance). High bias: a bigger network or longer training. "
        "High variance: more data or regularization."
    ),
    "learning_curves": (
        "With high variance, adding training data lowers the dev error while the training error rises "
        "to meet it; with high bias, both curves flatten at a high error."
    ),
    "augmentation": (
        "Distorted copies of the training images (small shifts and rotations) act as a regularizer, "
        "like L2, dropout and early stopping."
    ),
    "gradcheck": (
        "A gradient check names the parameter block whose gradient is wrong; run it at random "
        "initialization and again after some training, since a backward pass can be right only while "
        "the weights are close to zero."
    ),
    "signal_propagation": (
        "Why the right scale is the right scale: in a wide random network a signal's length settles at a fixed "
        "point and two signals' correlation either converges to 1 (ordered phase, chi_1 < 1: gradients vanish "
        "with depth) or to a value below 1 (chaotic phase, chi_1 > 1: they explode). Information survives about "
        "xi_c = -1/ln chi_c layers, which diverges on the critical line chi_1 = 1: sigma_w^2 = 2 for ReLU (He), "
        "1 for linear units and for tanh without bias (Xavier), higher for tanh with bias "
        "(Poole et al. 2016; Schoenholz et al. 2017)."
    ),
    "trainability": (
        "A deep network trains only when its depth is below about six correlation depth scales 6 xi_c: the "
        "trainable region in the plane of weight variance and depth is a ridge centred on the critical line, "
        "and dropout, which keeps correlations from reaching 1, caps the depth even there "
        "(Schoenholz et al. 2017)."
    ),
    "init_failures": (
        "All-zero weights and a constant initialization fail for different reasons: with zeros every hidden "
        "activation is exactly 0 under ReLU or tanh, so every weight gradient is 0 and only the output bias can "
        "learn; with a constant the units of a layer are symmetric and stay copies of one another. The x10 "
        "initialization's infinite cost is a floating-point artifact: beyond |z| of about 37 the sigmoid rounds "
        "to exactly 1 in float64, and the cost computed from probabilities takes log(0); computed from the "
        "logits it is finite."
    ),
    "classic_init": classic_sections.CLAIM,
}


def _g(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}g}"


# ---------------------------------------------------------------------------
# Findings and display tables per stage: (tables, config) -> (sentences, {caption: frame})


def _depth(tables, config):
    growth, training = tables["depth_growth"], tables["depth_training"]
    findings, shown = [], {}
    deepest = int(growth["depth"].max())
    top = growth[growth["depth"] == deepest]
    for activation, part in top.groupby("activation", sort=False):
        pieces = [
            f"{r.initializer} {_g(r.activation_factor)}"
            + ("" if math.isnan(r.predicted_factor) else f" (predicted {_g(r.predicted_factor)})")
            for r in part.itertuples()
            if not math.isnan(r.activation_factor)
        ]
        findings.append(f"{activation}, depth {deepest}: per-layer factor of the hidden activations' RMS: "
                        + "; ".join(pieces) + ".")
    shown[f"Per-layer factors at depth {deepest} (medians over seeds)"] = top[
        ["activation", "initializer", "predicted_factor", "activation_factor", "gradient_factor",
         "last_hidden_rms", "first_gradient_norm"]
    ]
    if len(training):
        deep = int(training["depth"].max())
        for activation, part in training[training["depth"] == deep].groupby("activation", sort=False):
            rate = part.groupby("initializer", sort=False)["succeeded"].mean()
            moved = part.groupby("initializer", sort=False)["weight_change"].max()
            trained = [name for name, share in rate.items() if share > 0]
            still = [name for name, change in moved.items() if change == 0]
            findings.append(
                f"{activation}, depth {deep}: reached the target within the budget: "
                + (", ".join(trained) if trained else "none")
                + (f"; weights never moved: {', '.join(still)}" if still else "") + "."
            )
        cells = training.assign(
            result=np.where(training["status"] == "diverged", "diverged",
                            np.where(training["succeeded"], training["steps_to_target"].map(_g), "-"))
        )
        pivot = cells.pivot_table(index=["activation", "initializer"], columns="depth", values="result",
                                  aggfunc="first", sort=False).reset_index()
        pivot.columns = [c if isinstance(c, str) else f"depth {c}" for c in pivot.columns]
        shown["Steps to the target training accuracy ('-' never, seed 0 of each cell)"] = pivot
    return findings, shown


def _normalization(tables, config):
    summary, curvature = tables["normalization"], tables["normalization_curvature"]
    findings = []
    for problem, part in summary.groupby("problem", sort=False):
        pieces = []
        for r in part.itertuples():
            reached = ("target never reached at a stable rate" if math.isnan(r.best_rate)
                       else f"target after {_g(r.steps_to_target)} step(s) at rate {_g(r.best_rate)}")
            pieces.append(f"{r.scaling}: largest stable rate {_g(r.largest_stable_rate)}, {reached}")
        findings.append(f"{problem}: " + "; ".join(pieces) + ".")
    for problem, part in curvature.groupby("problem", sort=False):
        by = dict(zip(part["scaling"], part["condition"]))
        findings.append(f"{problem}: Hessian condition number at the optimum {_g(by.get('raw'))} raw against "
                        f"{_g(by.get('standardized'))} standardized.")
    shown = {"Largest stable rate and steps to target": summary,
             "Curvature at the optimum of the two-weight model": curvature}
    return findings, shown


def _bias_variance(tables, config):
    table = tables["bias_variance"]
    section = config["lectures"]["bias_variance"]
    counts = table["reading"].value_counts()
    findings = [
        f"{len(table)} combinations (tolerances {section['bias_tolerance']:g} bias, "
        f"{section['variance_tolerance']:g} variance): "
        + ", ".join(f"{reading} {n}" for reading, n in counts.items()) + "."
    ]
    crosstab = pd.crosstab(table["dataset"], table["reading"]).reset_index()
    crosstab.columns.name = None
    return findings, {"Readings per dataset": crosstab}


def _learning_curves(tables, config):
    summary = tables["learning_curve_summary"]
    findings = []
    for (dataset, regularizer), part in summary.groupby(["dataset", "regularizer"], sort=False):
        part = part.sort_values("train_size")
        first, last = part.iloc[0], part.iloc[-1]
        findings.append(
            f"{dataset}, {regularizer}: dev - train error {_g(first.dev_error - first.train_error, 2)} with "
            f"{first.train_size} examples, {_g(last.dev_error - last.train_error, 2)} with {last.train_size}; "
            f"dev error {_g(first.dev_error, 2)} -> {_g(last.dev_error, 2)}."
        )
    return findings, {"Mean errors over seeds": summary}


def _augmentation(tables, config):
    summary = tables["augmentation_summary"]
    best = summary.loc[summary["dev_mean"].idxmax()]
    findings = [
        "Mean dev accuracy: " + ", ".join(f"{r.method} {r.dev_mean:.3f}" for r in summary.itertuples())
        + f". Best on dev: {best['method']} ({best['kind']}).",
        "Train (original images) - dev gap: "
        + ", ".join(f"{r.method} {r.train_mean - r.dev_mean:.3f}" for r in summary.itertuples()) + ".",
    ]
    return findings, {"Accuracy per method (mean and std over seeds)": summary}


MOMENTS = {"initialization": "at initialization", "trained": "after training"}


def _gradcheck(tables, config):
    table = tables["gradcheck_practice"]
    overall = table[table["block"] == "all"]
    findings = []
    for bug, part in overall.groupby("bug", sort=False):
        verdicts = [
            f"{'passes' if r.passed else 'fails'} {MOMENTS.get(r.moment, r.moment)} ({_g(r.difference, 2)}"
            + ("" if r.passed else f", worst block {r.worst_block}") + ")"
            for r in part.itertuples()
        ]
        findings.append(f"{bug}: " + "; ".join(verdicts) + ".")
    shown = overall[["bug", "moment", "difference", "passed", "worst_block", "weight_rms"]]
    return findings, {"Overall relative difference per backward pass": shown}


def _signal_propagation(tables, config):
    theory, critical, layers = tables["signal_theory"], tables["signal_critical"], tables["signal_layers"]
    findings = []
    for activation, rows in critical.groupby("activation", sort=False):
        pieces = [f"{_g(r.sigma_w2, 4)} at sigma_b^2 = {_g(r.sigma_b2)}" for r in rows.itertuples()]
        findings.append(f"{activation}: chi_1 = 1 at sigma_w^2 = " + ", ".join(pieces) + ".")
    coverage = []
    for name in ("q", "c", "chi"):
        valid = layers[layers[f"{name}_theory"].notna()]
        inside = (valid[f"{name}_theory"] >= valid[f"{name}_low"]) & (valid[f"{name}_theory"] <= valid[f"{name}_high"])
        relative = ((valid[f"{name}_mean"] - valid[f"{name}_theory"]).abs() / valid[f"{name}_theory"].abs()).median()
        coverage.append(f"{name} {inside.mean():.0%} (median relative gap {_g(relative, 2)})")
    findings.append(
        f"Random networks of width {int(layers['width'].iloc[0])} ({int(layers['seeds'].iloc[0])} seeds): the "
        "theory lies inside the 95% interval of the measured mean for " + ", ".join(coverage)
        + " of the layers."
    )
    finite = theory[np.isfinite(theory["xi_c"])]
    if len(finite):
        top = finite.loc[finite["xi_c"].idxmax()]
        findings.append(
            f"Largest finite xi_c on the grid: {_g(top['xi_c'])} layers ({top['activation']}, sigma_w^2 = "
            f"{_g(top['sigma_w2'])}, sigma_b^2 = {_g(top['sigma_b2'])}, chi_1 = {_g(top['chi_1'], 4)})."
        )
    shown = {
        "The theory over the grid": theory[["activation", "sigma_w2", "sigma_b2", "fixed_point", "q_star", "chi_1",
                                             "c_star", "chi_c", "xi_c", "phase"]],
        "The critical line chi_1 = 1": critical,
        "Theory and measurement per layer": layers,
    }
    return findings, shown


def _trainability(tables, config):
    table = tables["trainability_summary"]
    findings = []
    for (activation, keep), part in table.groupby(["activation", "keep_prob"], sort=False):
        deepest = part[part["depth"] == part["depth"].max()]
        best = deepest.loc[deepest["mean_test_accuracy"].idxmax()]
        beyond = part["depth"] > part["trainable_depth"]
        within = part["depth"] <= part["trainable_depth"]
        dropout = "no dropout" if keep == 1 else f"keep {keep:g}"
        findings.append(
            f"{activation}, {dropout}: at depth {int(best['depth'])} the best weight variance is "
            f"{_g(best['sigma_w2'])} (test accuracy {best['mean_test_accuracy']:.2f}); mean accuracy "
            f"{_g(part.loc[within, 'mean_test_accuracy'].mean(), 2)} within 6 xi_c ({int(within.sum())} cells) "
            f"and {_g(part.loc[beyond, 'mean_test_accuracy'].mean(), 2)} beyond it ({int(beyond.sum())} cells); "
            f"{int(part['diverged'].sum())} diverged runs."
        )
    pivot = table.pivot_table(index=["activation", "keep_prob", "depth"], columns="sigma_w2",
                              values="mean_test_accuracy", sort=False).reset_index()
    pivot.columns = [c if isinstance(c, str) else f"sigma_w2 {c:g}" for c in pivot.columns]
    depth_scales = table.drop_duplicates(["activation", "keep_prob", "sigma_w2"])[
        ["activation", "keep_prob", "sigma_w2", "chi_1", "xi_c", "trainable_depth"]]
    return findings, {"Mean test accuracy (rows: depth; columns: sigma_w^2)": pivot,
                      "The theory's depth scales": depth_scales}


def _init_failures(tables, config):
    symmetry, saturation = tables["init_symmetry"], tables["init_saturation"]
    findings = []
    for r in symmetry.itertuples():
        findings.append(
            f"{r.activation}, {r.initializer}: {r.zero_activations_at_init:.0%} of hidden activations and "
            f"{r.zero_weight_gradients_at_init:.0%} of weight gradients exactly 0 at initialization; largest "
            f"weight change {_g(r.weight_change)}, output bias change {_g(r.output_bias_change)}; distinct units "
            f"{r.distinct_units} of {r.hidden_units} (largest difference between units {_g(r.unit_spread, 2)}); "
            f"train accuracy {r.train_accuracy:.3f}."
        )
    first = saturation.iloc[0]
    infinite = saturation[~np.isfinite(saturation["cost_from_probabilities"])]
    findings.append(
        f"float64 sigmoid: 1 / (1 + exp(-z)) == 1 for z >= {first['threshold']:.10g}. The x{first['scale']:g} "
        f"run starts with largest |logit| {_g(first['max_abs_logit'], 5)}: {int(first['saturated_at_one'])} of "
        f"{int(first['samples'])} probabilities are exactly 1, {int(first['saturated_at_one_with_label_0'])} of "
        f"them for label 0; cost from the probabilities {_g(first['cost_from_probabilities'])}, from the logits "
        f"{_g(first['cost_from_logits'], 5)}. The course's cost is infinite at "
        + (", ".join(str(int(s)) for s in infinite["step"]) if len(infinite) else "no")
        + " recorded step(s)."
    )
    diagnostics = tables["init_diagnostics"]
    last = diagnostics[diagnostics["step"] == diagnostics["step"].max()]
    for (activation, initializer), part in last.groupby(["activation", "initializer"], sort=False):
        findings.append(
            f"{activation}, {initializer}, after {int(part['step'].iloc[0])} steps: effective rank of the weights "
            + ", ".join(f"{r.effective_rank:.3g} of {r.full_rank}" for r in part.itertuples())
            + " (layer 1 first); of the hidden representations on the training inputs "
            + ", ".join(f"{r.representation_rank:.3g} of {r.representation_full_rank}"
                        for r in part.itertuples() if r.representation_full_rank > 0)
            + "; exactly-zero weight gradients "
            + ", ".join(f"{r.zero_gradients:.0%}" for r in part.itertuples()) + "."
        )
    return findings, {"Zeros, constant and He at initialization and after training": symmetry,
                      "Both costs along the x10 run": saturation,
                      "Effective rank of each layer's weights and hidden representation, and exactly-zero gradients, over training": diagnostics}


FINDINGS = {
    "depth": _depth,
    "normalization": _normalization,
    "bias_variance": _bias_variance,
    "learning_curves": _learning_curves,
    "augmentation": _augmentation,
    "gradcheck": _gradcheck,
    "signal_propagation": _signal_propagation,
    "trainability": _trainability,
    "init_failures": _init_failures,
    "classic_init": classic_sections.findings,
}


def sections(config, root="."):
    """One record per enabled stage, in :data:`STAGES` order.

    root : the folder holding ``results/`` (the workflow's working directory).
    Each record: ``id``, ``title``, ``claim``, ``findings`` (sentences),
    ``figure`` ({png, svg, caption}), ``tables`` ({caption: frame}) and
    ``files`` (the stage's table paths).
    """
    root = Path(root)
    out = []
    for stage in enabled(config):
        tables = {name: read_table(root / table_path(name)) for name in STAGES[stage]}
        figure_base = (root / paths.lecture_figure(stage)).with_suffix("")
        meta = json.loads(figure_base.with_suffix(".json").read_text())
        findings, shown = FINDINGS[stage](tables, config)
        out.append(
            {
                "id": f"lecture-{stage}",
                "title": meta["title"],
                "claim": CLAIMS[stage],
                "findings": findings,
                "figure": {"png": str(figure_base.with_suffix(".png")), "svg": str(figure_base.with_suffix(".svg")),
                           "caption": meta["caption"]},
                "tables": shown,
                "files": [table_path(name) for name in STAGES[stage]],
            }
        )
    return out


def _table_html(frame):
    # Wide tables scroll inside their box instead of widening the page.
    table = frame.to_html(index=False, border=0, classes="data lecture-table", na_rep="",
                          float_format=lambda v: f"{v:.4g}")
    return f'<div class="table-wrap">{table}</div>'


def section_html(record):
    """One stage's ``<section>``: claim, findings, the embedded figure and its tables."""
    escape = html_module.escape
    png = base64.b64encode(Path(record["figure"]["png"]).read_bytes()).decode()
    items = "".join(f"<li>{escape(sentence)}</li>" for sentence in record["findings"])
    tables = "".join(
        f"<details><summary>{escape(caption)}</summary>{_table_html(frame)}</details>"
        for caption, frame in record["tables"].items()
    )
    files = ", ".join(escape(f) for f in record["files"])
    return (
        f'<section id="{record["id"]}">\n<h2>{escape(record["title"])}</h2>\n'
        f'<p class="claim">{escape(record["claim"])}</p>\n<ul class="points">{items}</ul>\n'
        f'<figure><img src="data:image/png;base64,{png}" alt="{escape(record["title"])}">'
        f"<figcaption>{escape(record['figure']['caption'])}</figcaption></figure>\n"
        f'{tables}\n<p class="files lecture-files">Tables: {files}</p>\n</section>'
    )


def html(config, root="."):
    """The lecture sections as HTML: one ``<section>`` per enabled stage, figures embedded."""
    return "\n".join(section_html(record) for record in sections(config, root))
