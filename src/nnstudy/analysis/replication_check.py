"""The course's published numbers beside the replication's: one verdict per number."""

import math
from fractions import Fraction
from importlib import resources

import pandas as pd

# Published and replicated numbers agree when they differ by less than this.
MATCH_TOLERANCE = 1e-6
# Gradient-check differences (1e-10 to 1e-7) sit below that absolute
# tolerance, so they are compared relative to the published value instead.
RELATIVE_MATCH_TOLERANCE = {"difference": 1e-9}


def published_values():
    """The course's published numbers (package data): experiment, variant, metric, value.

    Values may be written as fractions ("207/209"), as the course reports them.
    """
    text = resources.files("nnstudy").joinpath("analysis/published.csv").read_text()
    frame = pd.read_csv(pd.io.common.StringIO(text), dtype=str)
    frame["value"] = [float(Fraction(v)) for v in frame["value"]]
    return frame



def replication_check(replication, selection=True, skipped=()):
    """Published course numbers beside ours, with a verdict per number.

    replication : our replication table (experiment, variant, metric,
        value), or None when the stage did not run.
    selection : the configuration's ``replication``: True (every
        experiment), False (none) or a list of experiment names.
    skipped : (experiment, reason) pairs of selected experiments that could
        not run (e.g. missing course files).
    verdict: match, mismatch, ours only (a number the course does not
    publish) or "not run: <why>".
    """
    published = published_values().rename(columns={"value": "published"})
    if replication is None or not len(replication):
        merged = published.assign(ours=math.nan)
    else:
        ours = replication.rename(columns={"value": "ours"})[["experiment", "variant", "metric", "ours"]]
        merged = published.merge(ours, how="outer", on=["experiment", "variant", "metric"], sort=False)
    merged["difference"] = merged["ours"] - merged["published"]
    reasons = dict(skipped)

    def why(experiment):
        if selection is False:
            return "not run: stage disabled"
        if selection is not True and experiment not in selection:
            return "not run: not selected"
        return f"not run: {reasons[experiment]}" if experiment in reasons else "not run"

    verdict = []
    for row in merged.itertuples():
        if math.isnan(row.published):
            verdict.append("ours only")
        elif math.isnan(row.ours):
            verdict.append(why(row.experiment))
        else:
            relative = RELATIVE_MATCH_TOLERANCE.get(row.metric)
            tolerance = MATCH_TOLERANCE if relative is None else relative * abs(row.published)
            verdict.append("match" if abs(row.difference) <= tolerance else "mismatch")
    merged["verdict"] = verdict
    # Published order first (experiment, then variant, then metric), our extra numbers after theirs.
    sources = [published] if replication is None else [published, replication]
    ranks = {}
    for column in ("experiment", "variant", "metric"):
        seen = list(dict.fromkeys(v for source in sources for v in source[column]))
        ranks[column] = merged[column].map({v: i for i, v in enumerate(seen)})
    order = pd.DataFrame(ranks).sort_values(["experiment", "variant", "metric"], kind="stable").index
    merged = merged.loc[order]
    return merged[["experiment", "variant", "metric", "published", "ours", "difference", "verdict"]].reset_index(
        drop=True
    )

