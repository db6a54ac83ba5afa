"""The derived tables as the report shows them: formatted text cells, Markdown and LaTeX.

:func:`display_tables` turns each table of :data:`TEXT_TABLES` into text cells
(numbers rounded, intervals as "mean [low, high]", p-values as "< 0.001");
:func:`write_tables` writes every derived table as CSV and the shown ones as
Markdown and LaTeX too.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd

from nnstudy import io
from nnstudy.analysis.derived import KEYS
from nnstudy.report.table_names import TABLES, TEXT_TABLES

# Rows of the combination ranking shown in the report (all are in the CSV).
TOP_COMBINATIONS = 15


def number(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if value != 0 and (abs(value) < 10 ** -digits or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.{digits}f}"


def p_value(value):
    if value is None or math.isnan(value):
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def interval(mean, low, high, digits=3):
    if math.isnan(low) or math.isnan(high):
        return number(mean, digits)
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def plain(frame, digits=3):
    """Every cell as text, numbers with ``digits`` decimals."""
    out = frame.copy().astype(object)
    for column in frame.columns:
        out[column] = [v if isinstance(v, str) else number(v, digits) for v in frame[column]]
    return out


def display_tables(derived, config):
    """{name: text frame} for every table in :data:`TEXT_TABLES`.

    The overview is wide, one block per dataset: rows initializer /
    regularizer, columns optimizers, cells "mean [95% interval]".
    """
    d = derived
    shown = {}
    shown["datasets"] = plain(d["datasets"][
        ["dataset", "source", "n_features", "n_classes", "architecture", "n_train", "n_dev", "n_test",
         "chance_test", "epochs", "batch_size", "origin", "best_test_mean", "published_test", "published_model"]])
    rep = d["replication_check"].copy()
    rep["difference"] = [number(v, 4) if not math.isnan(v) else "–" for v in rep["difference"]]
    rep["published"] = [number(v, 4) for v in rep["published"]]
    rep["ours"] = [number(v, 4) for v in rep["ours"]]
    rep["verdict"] = rep["verdict"].map(lambda v: {"match": "✔ match", "mismatch": "✘ mismatch"}.get(v, v))
    shown["replication_check"] = rep.astype(object)

    overview = d["overview"]
    blocks = []
    for dataset in config["datasets"]:
        part = overview[overview["dataset"] == dataset]
        if not len(part):
            continue
        cells = part.assign(
            cell=[interval(m, lo, hi) for m, lo, hi in zip(part["test_mean"], part["test_ci_low"], part["test_ci_high"])]
        )
        wide = cells.pivot_table(index=["initializer", "regularizer"], columns="optimizer", values="cell",
                                 aggfunc="first", sort=False)
        wide = wide[[o for o in config["optimizers"] if o in wide.columns]]
        wide.columns.name = None
        wide = wide.reset_index()
        wide.insert(0, "dataset", dataset)
        blocks.append(wide)
    shown["overview"] = pd.concat(blocks, ignore_index=True).astype(object) if blocks else pd.DataFrame()

    rec = d["recommendations"]
    shown["recommendations"] = pd.DataFrame(
        {
            **{k: rec[k] for k in KEYS},
            "runs": rec["runs"].astype(int).astype(str),
            "dev mean": [number(v) for v in rec["dev_mean"]],
            "test mean [95% CI]": [interval(m, lo, hi) for m, lo, hi in
                                   zip(rec["test_mean"], rec["test_ci_low"], rec["test_ci_high"])],
            "overlapping": [f"{c} of {n - 1}" for c, n in zip(rec["contenders"], rec["combinations"])],
        }
    ).astype(object)

    sh = d["interaction_shares"]
    shown["interaction_shares"] = pd.DataFrame(
        {"factors": sh["factor_a"] + " × " + sh["factor_b"], "SS first": [number(v, 4) for v in sh["ss_a"]],
         "SS second": [number(v, 4) for v in sh["ss_b"]], "SS interaction": [number(v, 4) for v in sh["ss_interaction"]],
         "interaction share": [number(v, 3) for v in sh["share"]]}
    ).astype(object)
    cr = d["combination_ranks"].head(TOP_COMBINATIONS)
    shown["combination_ranks"] = plain(cr, 3)
    ps = d["profile_summary"]
    shown["profile_summary"] = plain(ps, 2)
    shown["time_to_target_summary"] = plain(d["time_to_target_summary"], 3)
    shown["chosen_learning_rates"] = plain(d["chosen_learning_rates"], 4)
    shown["gradcheck_summary"] = plain(d["gradcheck_summary"])
    ns = d["norm_summary"]
    shown["norm_summary"] = plain(ns, 3)
    shown["regularizer_weight_norms"] = plain(d["regularizer_weight_norms"], 3)
    shown["failure_counts"] = plain(d["failure_counts"])
    bv = d["bias_variance"]
    shown["bias_variance"] = plain(bv[[*KEYS, "runs", "train_error", "dev_error", "bayes_error",
                                       "avoidable_bias", "variance", "reading"]], 3)
    shown["stage_times"] = plain(d["stage_times"], 2)
    shown["versions"] = d["versions"].astype(object)
    shown["verdicts"] = verdicts_display(d["verdict_details"])
    shown["verdicts_without_failing"] = verdicts_display(d["verdicts_without_failing"])
    for name in ("failing_levels", "interaction_tests", "level_aggregates", "improvement", "critical_differences",
                 "power"):
        shown[name] = plain(d[name], 3)
    assert set(shown) == set(TEXT_TABLES), set(shown) ^ set(TEXT_TABLES)
    return shown


def headline_claims(details):
    """The Summary's lead: each verdict across datasets (scope all) with its blocks, estimate, interval and verdict."""
    overall = details[details["scope"] == "all"].reset_index(drop=True) if len(details) else details
    shown = verdicts_display(overall)
    if "note" in shown:
        return shown
    return shown[["factor", "comparison", "scope", "blocks", "estimate [95% CI]", "verdict"]]


def verdicts_display(details):
    """verdicts.csv as the report shows it: one row per pair and scope, with what the test counted."""
    if not len(details):
        return pd.DataFrame({"note": ["no factor has two levels: nothing to compare"]})
    return pd.DataFrame(
        {
            "factor": details["factor"],
            "comparison": details["level_a"] + " − " + details["level_b"],
            "scope": details["scope"],
            "blocks": [f"{n} {b}" for n, b in zip(details["n_blocks"], details["blocks"])],
            "estimate [95% CI]": [interval(m, lo, hi) for m, lo, hi in
                                  zip(details["estimate"], details["ci_low"], details["ci_high"])],
            "p (Holm)": [p_value(v) for v in details["p_holm"]],
            "P(a better)": [number(v, 2) for v in details["p_a_better"]],
            "P(equivalent)": [number(v, 2) for v in details["p_equivalent"]],
            "P(b better)": [number(v, 2) for v in details["p_b_better"]],
            "verdict": details["verdict"],
        }
    ).astype(object)


# ---------------------------------------------------------------------------
# Text formats


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "−": "--", "×": r"$\times$", "✔": r"\checkmark", "✘": r"$\times$", "–": "--"}


def _latex_escape(text):
    return "".join(_LATEX_ESCAPES.get(c, c) for c in str(text))


def to_markdown(frame):
    """A GitHub-flavoured Markdown table of text cells."""
    def cell(v):
        return str(v).replace("|", r"\|")

    lines = ["| " + " | ".join(map(cell, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def to_latex(frame):
    """A booktabs tabular of text cells (needs \\usepackage{booktabs}, amssymb for the check mark)."""
    spec = "".join("l" if frame[c].map(lambda v: not _looks_numeric(v)).any() else "r" for c in frame.columns)
    head = " & ".join(_latex_escape(c) for c in frame.columns) + r" \\"
    body = [" & ".join(_latex_escape(v) for v in row) + r" \\" for row in frame.itertuples(index=False)]
    return "\n".join([rf"\begin{{tabular}}{{{spec}}}", r"\toprule", head, r"\midrule", *body,
                      r"\bottomrule", r"\end{tabular}"]) + "\n"


def _looks_numeric(value):
    try:
        float(str(value).split(" ")[0])
        return True
    except ValueError:
        return str(value) == "–"


def write_tables(derived, shown, outputs, metadata):
    """Write the derived tables to exactly the declared paths.

    outputs : paths ending in .csv (one per :data:`TABLES`), .md and .tex (one
    each per :data:`TEXT_TABLES`). A declared path without a table, or a
    table without a declared path, is an error naming them.
    """
    by_kind = {"csv": {}, "md": {}, "tex": {}}
    for path in map(Path, outputs):
        by_kind[path.suffix[1:]][path.stem] = path
    for kind, names in (("csv", TABLES), ("md", TEXT_TABLES), ("tex", TEXT_TABLES)):
        if set(by_kind[kind]) != set(names):
            raise ValueError(
                f"declared .{kind} report tables {sorted(by_kind[kind])} differ from the built ones "
                f"{sorted(names)}"
            )
    if set(derived) != set(TABLES):
        raise ValueError(f"derived tables {sorted(derived)} differ from TABLES {sorted(TABLES)}")
    for name, path in by_kind["csv"].items():
        io.write_table(derived[name], path, metadata)
    for name in TEXT_TABLES:
        with io.atomic_path(by_kind["md"][name]) as tmp:
            tmp.write_text(to_markdown(shown[name]))
        with io.atomic_path(by_kind["tex"][name]) as tmp:
            tmp.write_text(to_latex(shown[name]))
