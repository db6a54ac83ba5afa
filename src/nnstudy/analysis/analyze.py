"""Every statistics table of a runs table, and ``nnstudy analyze``.

:func:`analysis_tables` takes runs with the columns of
``results/tables/runs.csv`` (prepared by :func:`nnstudy.analysis.verdicts.prepare_runs`)
and returns the tables below; :func:`write_analysis` writes them with the
critical-difference figures. The report stage calls the same function, so the
report and ``nnstudy analyze`` agree to the digit.

Tables (``blocks`` says what each test counts):

* ``verdicts``: :data:`nnstudy.analysis.verdicts.VERDICT_COLUMNS` only;
* ``verdict_details``: the same rows with blocks, n_blocks and raw p;
* ``verdicts_without_failing``: the same, each factor compared on the runs
  at no failing level of another factor;
* ``failing_levels``: failure counts charged to the level that predicts them;
* ``interaction_tests``: factor x factor (across datasets and within each dataset) and
  factor x dataset heterogeneity tests, each with the smallest interaction it detects
  at 80% power after Holm (``detectable_shift``);
* ``level_aggregates``: IQM, mean and median per level, stratified bootstrap
  intervals (seeds resampled within datasets);
* ``improvement``: P(A > B) for every pair with stratified bootstrap intervals;
* ``critical_differences`` and ``pairwise_wilcoxon``: Friedman with the
  Iman-Davenport F on datasets as blocks, mean ranks, cliques from pairwise
  Wilcoxon tests (zero differences dropped) with Holm's correction;
* ``power``: smallest paired effect detectable at 80% power across
  datasets and within a dataset, and datasets / seeds a target effect needs.
"""

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd

from nnstudy.analysis import comparisons, verdicts

TARGET_EFFECT = 0.02


def level_matrices(frame, factor, levels):
    """{level: (n_seeds, n_datasets) matrix} of each unit's mean score at that level."""
    wide = frame.pivot_table(index="seed", columns=["dataset", factor], values="score", aggfunc="mean",
                             observed=True)
    datasets = list(dict.fromkeys(frame["dataset"]))
    out = {}
    for name in levels[factor]:
        columns = [(d, name) for d in datasets if (d, name) in wide.columns]
        if columns:
            out[name] = wide[columns].to_numpy()
    return out


def _complete(matrix):
    return matrix[~np.isnan(matrix).any(axis=1)]


def level_aggregates(frame, levels, samples=comparisons.BOOTSTRAP_SAMPLES):
    rows = []
    for factor in verdicts.FACTORS:
        for name, matrix in level_matrices(frame, factor, levels).items():
            matrix = _complete(matrix)
            for aggregate, function in comparisons.AGGREGATES.items():
                low, high = comparisons.stratified_bootstrap(function, [matrix], samples=samples)
                rows.append({"factor": factor, "level": name, "aggregate": aggregate, "value": float(function(matrix)),
                             "ci_low": low, "ci_high": high, "seeds": matrix.shape[0], "datasets": matrix.shape[1],
                             "blocks": "seeds within datasets"})
    return pd.DataFrame(rows, columns=["factor", "level", "aggregate", "value", "ci_low", "ci_high", "seeds",
                                       "datasets", "blocks"])


def improvement(frame, levels, samples=comparisons.BOOTSTRAP_SAMPLES):
    rows = []
    for factor in verdicts.FACTORS:
        matrices = {k: _complete(v) for k, v in level_matrices(frame, factor, levels).items()}
        for a, b in itertools.permutations(matrices, 2):
            x, y = matrices[a], matrices[b]
            low, high = comparisons.stratified_bootstrap(comparisons.probability_of_improvement, [x, y],
                                                         samples=samples)
            rows.append({"factor": factor, "level_a": a, "level_b": b,
                         "p_improvement": float(comparisons.probability_of_improvement(x, y)), "ci_low": low,
                         "ci_high": high, "blocks": "seeds within datasets"})
    return pd.DataFrame(rows, columns=["factor", "level_a", "level_b", "p_improvement", "ci_low", "ci_high",
                                       "blocks"])


def dataset_matrix(frame, factor, levels):
    """(n_datasets, n_levels) mean score per dataset and level, datasets with every level only."""
    wide = frame.pivot_table(index="dataset", columns=factor, values="score", aggfunc="mean", observed=True)
    return wide[[l for l in levels[factor] if l in wide.columns]].dropna()


def critical_differences(frame, levels, alpha=verdicts.ALPHA):
    """(per-level table, pairwise table) of each factor's critical-difference diagram."""
    rows, pairs = [], []
    for factor in verdicts.FACTORS:
        matrix = dataset_matrix(frame, factor, levels)
        names = list(matrix.columns)
        if len(names) < 2 or len(matrix) < 2:
            continue
        values = matrix.to_numpy()
        ranks = comparisons.average_ranks(values)
        test = comparisons.friedman_iman_davenport(values)
        p_holm = comparisons.pairwise_wilcoxon_holm(values)
        cliques = comparisons.cd_cliques(ranks, p_holm, alpha)
        for j, name in enumerate(names):
            member = [i for i, c in enumerate(cliques) if j in c]
            rows.append({"factor": factor, "level": name, "mean_rank": float(ranks[j]), "datasets": len(matrix),
                         "friedman_chi2": test["chi2"], "iman_davenport_f": test["f"], "df1": test["df1"],
                         "df2": test["df2"], "p_value": test["p"],
                         "cliques": " ".join(str(i + 1) for i in member), "blocks": "datasets"})
        for i, j in itertools.combinations(range(len(names)), 2):
            pairs.append({"factor": factor, "level_a": names[i], "level_b": names[j],
                          "p_value": comparisons.wilcoxon_p(values[:, i] - values[:, j]),
                          "p_holm": float(p_holm[i, j]), "significant": bool(p_holm[i, j] <= alpha),
                          "blocks": "datasets"})
    return (pd.DataFrame(rows, columns=["factor", "level", "mean_rank", "datasets", "friedman_chi2",
                                        "iman_davenport_f", "df1", "df2", "p_value", "cliques", "blocks"]),
            pd.DataFrame(pairs, columns=["factor", "level_a", "level_b", "p_value", "p_holm", "significant",
                                         "blocks"]))


def power_table(frame, levels, target=TARGET_EFFECT, alpha=verdicts.ALPHA):
    """Detectable effects and needed blocks, per factor pair, across datasets and within them.

    Across datasets the sd is that of the per-dataset mean differences;
    within a dataset, the pooled sd of per-seed differences (pooled over
    datasets). Two-sided t test at ``alpha`` without multiplicity correction,
    so the numbers are optimistic for Holm-corrected verdicts.
    """
    rows = []
    for factor in verdicts.FACTORS:
        wide = verdicts.matched_differences(frame, factor, levels)
        for a, b in itertools.combinations(wide.columns, 2):
            d = (wide[a] - wide[b]).dropna()
            per_dataset = d.groupby(level="dataset").mean()
            per_seed = d.groupby(level=["dataset", "seed"]).mean()
            centred = per_seed - per_seed.groupby(level="dataset").transform("mean")
            seeds = per_seed.groupby(level="dataset").size()
            dof = int((seeds - 1).sum())
            sd_within = math.sqrt(float((centred**2).sum()) / dof) if dof > 0 else math.nan
            sd_across = float(per_dataset.std(ddof=1)) if len(per_dataset) > 1 else math.nan
            n_seeds = int(seeds.min()) if len(seeds) else 0
            rows.append({"factor": factor, "level_a": a, "level_b": b, "blocks": "datasets",
                         "n_blocks": len(per_dataset), "sd": sd_across,
                         "detectable_effect": comparisons.detectable_effect(sd_across, len(per_dataset), alpha),
                         "target_effect": target, "blocks_needed": comparisons.blocks_needed(target, sd_across,
                                                                                               alpha)})
            rows.append({"factor": factor, "level_a": a, "level_b": b, "blocks": "seeds", "n_blocks": n_seeds,
                         "sd": sd_within, "detectable_effect": comparisons.detectable_effect(sd_within, n_seeds,
                                                                                              alpha),
                         "target_effect": target, "blocks_needed": comparisons.blocks_needed(target, sd_within,
                                                                                               alpha)})
    return pd.DataFrame(rows, columns=["factor", "level_a", "level_b", "blocks", "n_blocks", "sd",
                                       "detectable_effect", "target_effect", "blocks_needed"])


def analysis_tables(frame, levels, rope=verdicts.ROPE, target=TARGET_EFFECT, alpha=verdicts.ALPHA,
                    bootstrap_samples=comparisons.BOOTSTRAP_SAMPLES, bayes_samples=comparisons.BAYES_SAMPLES):
    """Every statistics table of prepared runs: {name: frame} (see the module docstring)."""
    levels = {f: [l for l in levels[f] if l in set(frame[f])] for f in verdicts.FACTORS}
    details, interactions, failing, clean = verdicts.analyze_runs(frame, levels, rope, alpha, bayes_samples)
    cd, pairwise = critical_differences(frame, levels, alpha)
    return {
        "verdicts": details[list(verdicts.VERDICT_COLUMNS)],
        "verdict_details": details,
        "verdicts_without_failing": clean,
        "failing_levels": failing,
        "interaction_tests": interactions,
        "level_aggregates": level_aggregates(frame, levels, bootstrap_samples),
        "improvement": improvement(frame, levels, bootstrap_samples),
        "critical_differences": cd,
        "pairwise_wilcoxon": pairwise,
        "power": power_table(frame, levels, target, alpha),
    }


def cd_diagram(cd, factor):
    """A critical-difference diagram: levels on the mean-rank axis, cliques as bars. Returns the figure."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    part = cd[cd["factor"] == factor].sort_values("mean_rank")
    k = len(part)
    fig, ax = plt.subplots(figsize=(6.4, 1.2 + 0.35 * k))
    ax.set_xlim(0.8, k + 0.2)
    ax.set_ylim(-k - 1, 1)
    ax.axhline(0, color="black", lw=1)
    for r in range(1, k + 1):
        ax.plot([r, r], [0, 0.15], color="black", lw=1)
        ax.text(r, 0.3, str(r), ha="center", va="bottom", fontsize=8)
    for i, row in enumerate(part.itertuples()):
        y = -(i + 1)
        ax.plot([row.mean_rank, row.mean_rank], [0, y], color="0.4", lw=0.8)
        ax.text(row.mean_rank + 0.03, y, f"{row.level} ({row.mean_rank:.2f})", va="center", fontsize=8)
    cliques = sorted({c for text in part["cliques"] for c in str(text).split() if c and c != "nan"}, key=int)
    for j, clique in enumerate(cliques):
        members = part[part["cliques"].astype(str).str.split().map(lambda c, q=clique: q in c)]
        y = -0.35 - 0.25 * j
        ax.plot([members["mean_rank"].min() - 0.03, members["mean_rank"].max() + 0.03], [y, y], color="C3", lw=3)
    ax.axis("off")
    first = part.iloc[0] if k else None
    p = ""
    if first is not None and not math.isnan(first["p_value"]):
        p = ", Iman-Davenport p " + ("< 0.001" if first["p_value"] < 0.001 else f"= {first['p_value']:.3f}")
    ax.set_title(f"{factor}: mean rank over {int(first['datasets']) if k else 0} datasets (1 = best){p}",
                 fontsize=9)
    ax.text(0.8, -k - 0.8, "bars join levels that no pairwise Wilcoxon test (Holm) separates", fontsize=7,
            color="C3")
    fig.tight_layout()
    return fig


def write_analysis(tables, out_dir):
    """Write every table as CSV and each factor's critical-difference diagram as PNG; return the paths."""
    from nnstudy import io

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        path = out_dir / f"{name}.csv"
        io.write_table(table, path)
        written.append(path)
    from matplotlib import pyplot as plt

    for factor in dict.fromkeys(tables["critical_differences"]["factor"]):
        fig = cd_diagram(tables["critical_differences"], factor)
        path = out_dir / f"critical_difference-{factor}.png"
        fig.savefig(path, dpi=120, metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    return written
