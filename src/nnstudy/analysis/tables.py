"""The study's tables, built with pandas from the rows every job wrote.

Every table is tidy, sorted by the configuration's order of datasets and grid
levels, and free of wall times (those go to ``timings.csv``), so that two runs
of the same configuration give byte-identical files.
"""

import json
import math
import platform
import warnings
from importlib import metadata as importlib_metadata

import numpy as np
import pandas as pd

from nnstudy import io, records
from nnstudy.records import RUN_KEYS

ACCURACIES = ("train_accuracy", "dev_accuracy", "test_accuracy")
PACKAGES = ("nnstudy", "numpy", "scipy", "scikit-learn", "pandas", "h5py", "matplotlib", "snakemake")


def package_versions():
    """Versions of Python and the packages that shape the numbers."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def order_rows(frame, config):
    """Sort rows by the configuration's order of each key, not alphabetically."""
    levels = {
        "dataset": list(config["datasets"]),
        "initializer": list(config["initializers"]),
        "regularizer": list(config["regularizers"]),
        "optimizer": list(config["optimizers"]),
    }
    keys = [k for k in ("dataset", "initializer", "regularizer", "optimizer") if k in frame]
    rank = {k: frame[k].map({v: i for i, v in enumerate(levels[k])}) for k in keys}
    extra = [k for k in ("seed", "learning_rate", "metric", "step") if k in frame]
    sort = pd.DataFrame({**{f"_{k}": rank[k] for k in keys}, **{k: frame[k] for k in extra}})
    order = sort.sort_values(list(sort.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def confidence_interval(values, level=0.95):
    """Mean and the two-sided Student-t interval of the mean: (mean, low, high)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if n == 1:
        return mean, math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def runs_table(row_files, config):
    frame = pd.concat([pd.read_csv(f) for f in row_files], ignore_index=True)
    return order_rows(frame, config)


def summary_table(runs, config):
    """Per combination: runs, diverged count, mean / std / 95% CI of each accuracy."""
    records = []
    for key, group in runs.groupby(list(RUN_KEYS[:-1]), sort=False):
        record = dict(zip(RUN_KEYS[:-1], key))
        record["learning_rate"] = group["learning_rate"].iloc[0]
        record["runs"] = len(group)
        record["diverged"] = int((group["status"] == "diverged").sum())
        record["stopped_early"] = int((group["status"] == "stopped_early").sum())
        for column in ACCURACIES:
            mean, low, high = confidence_interval(group[column])
            name = column.removesuffix("_accuracy")
            record[f"{name}_mean"] = mean
            record[f"{name}_std"] = float(group[column].std(ddof=1)) if len(group) > 1 else math.nan
            record[f"{name}_ci_low"] = low
            record[f"{name}_ci_high"] = high
        records.append(record)
    return order_rows(pd.DataFrame(records), config)


def learning_rates_table(tuning_files, chosen_files, config):
    """The tuning curves (mean over tuning seeds per rate) with the chosen rate flagged.

    chosen_files : the tuning jobs' chosen-rate files (:mod:`nnstudy.records`);
    the flag repeats their choice, it does not make one.
    """
    if not tuning_files:
        fixed = config["learning_rates"].get("fixed", {})
        return pd.DataFrame(
            [
                {"dataset": d, "optimizer": o, "learning_rate": fixed[o], "chosen": True}
                for d in config["datasets"]
                for o in config["optimizers"]
            ]
        )
    chosen = {}
    for path in chosen_files:
        record = records.read_chosen_rate(path)
        chosen[record["dataset"], record["optimizer"]] = record["learning_rate"]
    rows = []
    for path in tuning_files:
        raw = pd.read_csv(path)
        for rate, group in raw.groupby("learning_rate", sort=True):
            key = (group["dataset"].iloc[0], group["optimizer"].iloc[0])
            rows.append(
                {
                    "dataset": group["dataset"].iloc[0],
                    "optimizer": group["optimizer"].iloc[0],
                    "learning_rate": rate,
                    "seeds": len(group),
                    "diverged": int((group["status"] == "diverged").sum()),
                    "train_accuracy_mean": group["train_accuracy"].mean(),
                    "dev_accuracy_mean": group["dev_accuracy"].mean(),
                    "dev_cost_mean": group["dev_cost"].mean(),
                    "chosen": bool(rate == chosen[key]),
                }
            )
    return order_rows(pd.DataFrame(rows), config)


def curves_table(run_files, config):
    """Learning curves: per combination and record, median and quartiles over seeds."""
    records = []
    for path in run_files:
        arrays, meta = io.read_h5(path)
        dataset, optimizer, regularizer = meta["cell"]
        history = arrays["history"]
        steps_per_epoch = int(arrays["steps_per_epoch"])
        initializers = arrays["specs"]["initializer"]
        for init in dict.fromkeys(initializers):
            chosen = initializers == init
            for metric in ("cost", "train_accuracy", "dev_accuracy"):
                # Diverged runs are NaN; a record where every seed diverged stays NaN.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    q25, median, q75 = np.nanpercentile(history[metric][chosen], [25, 50, 75], axis=0)
                for r, step in enumerate(history["step"]):
                    records.append(
                        {
                            "dataset": dataset,
                            "initializer": init,
                            "regularizer": regularizer,
                            "optimizer": optimizer,
                            "metric": metric,
                            "step": int(step),
                            "epoch": int(step) // steps_per_epoch,
                            "median": median[r],
                            "q25": q25[r],
                            "q75": q75[r],
                        }
                    )
    return order_rows(pd.DataFrame(records), config)


def gradcheck_table(files):
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def tuning_table(files, config):
    """The search tuning jobs' trial rows (or chosen rows), in the configuration's order."""
    frame = pd.concat([pd.read_csv(f, keep_default_na=False, na_values=["nan"]) for f in files], ignore_index=True)
    return order_rows(frame, config)


def timings_table(files):
    return pd.DataFrame([json.loads(open(f).read()) for f in files])


def to_markdown(frame, float_format="{:.4f}"):
    """A GitHub-flavoured Markdown table (no extra dependency)."""
    def cell(value):
        if isinstance(value, float):
            return "" if math.isnan(value) else float_format.format(value)
        return str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def to_latex(frame, float_format="{:.4f}"):
    """A booktabs LaTeX tabular."""
    def cell(value):
        if isinstance(value, float):
            return "--" if math.isnan(value) else float_format.format(value)
        return str(value).replace("_", r"\_")

    columns = " & ".join(c.replace("_", r"\_") for c in frame.columns)
    body = [" & ".join(cell(v) for v in row) + r" \\" for row in frame.itertuples(index=False)]
    spec = "l" * 4 + "r" * (len(frame.columns) - 4)
    return "\n".join(
        [rf"\begin{{tabular}}{{{spec}}}", r"\toprule", columns + r" \\", r"\midrule", *body, r"\bottomrule", r"\end{tabular}"]
    ) + "\n"


def _write_text(path, text):
    with io.atomic_path(path) as tmp:
        tmp.write_text(text)


def write_all(runs, run_files, tuning, chosen, gradcheck, timings, outputs, config):
    """Build and write every table; return {name: number of rows}.

    The caller cross-checks every cell's rows and run file first
    (:func:`nnstudy.study.integrity.check_cells`), so that nothing is written
    from results that disagree with the configuration or with each other.
    """
    meta = {"config": config, "versions": package_versions()}
    built = {
        "runs": runs_table(runs, config),
        "learning_rates": learning_rates_table(tuning, chosen, config),
        "gradcheck": gradcheck_table(gradcheck),
        "curves": curves_table(run_files, config),
    }
    built["summary"] = summary_table(built["runs"], config)
    for name, frame in built.items():
        io.write_table(frame, outputs[name], meta)
    compact = built["summary"][
        ["dataset", "initializer", "regularizer", "optimizer", "runs", "diverged", "test_mean", "test_ci_low", "test_ci_high"]
    ]
    _write_text(outputs["summary_md"], to_markdown(compact))
    _write_text(outputs["summary_tex"], to_latex(compact))
    timing_frame = timings_table(timings)
    io.write_table(timing_frame, outputs["timings"], None)
    return {name: len(frame) for name, frame in built.items()} | {"timings": len(timing_frame)}
