"""Where the study keeps its results: the only module that spells a ``results/`` path.

Every function returns a path relative to the workflow's working directory.
Called with no arguments, a function with wildcards returns the Snakemake
pattern (``tuning_curve()`` is ``results/tuning/{dataset}/{optimizer}.csv``);
called with values, the concrete file. The rules (``workflow/rules/*.smk``),
their input functions and the package all take their paths from here, so a
file moves by editing one line.
"""

RESULTS = "results"
# The RO-Crate specification names this file; it lies at the root of the crate.
CRATE_METADATA = "ro-crate-metadata.json"


def dataset_file(dataset="{dataset}"):
    """The dataset's pool and first-seed split (HDF5)."""
    return f"{RESULTS}/data/{dataset}.h5"


def gradcheck_table(dataset="{dataset}", regularizer="{regularizer}"):
    """The gradient-check gate of one (dataset, regularizer)."""
    return f"{RESULTS}/gradcheck/{dataset}/{regularizer}.csv"


def network_settings(dataset="{dataset}", regularizer="{regularizer}"):
    """What a gradient check shares with training, as JSON."""
    return f"{RESULTS}/gradcheck/{dataset}/{regularizer}.network.json"


def tuning_curve(dataset="{dataset}", optimizer="{optimizer}"):
    """One row per (rate, tuning seed) of the learning-rate grid."""
    return f"{RESULTS}/tuning/{dataset}/{optimizer}.csv"


def chosen_rate(dataset="{dataset}", optimizer="{optimizer}"):
    """The learning rate the tuning job chose (see :mod:`nnstudy.records`)."""
    return f"{RESULTS}/tuning/{dataset}/{optimizer}.chosen.json"


def trial_table():
    """The search protocol's trials of every (optimizer, regularizer), drawn once for the study."""
    return f"{RESULTS}/tuning/trials.csv"


def search_trials(dataset="{dataset}", optimizer="{optimizer}", regularizer="{regularizer}"):
    """One row per (unit, trial, tuning seed) of a search tuning job."""
    return f"{RESULTS}/tuning/{dataset}/{optimizer}/{regularizer}.trials.csv"


def search_chosen(dataset="{dataset}", optimizer="{optimizer}", regularizer="{regularizer}"):
    """The configuration a search tuning job chose for each of its units: what training reads."""
    return f"{RESULTS}/tuning/{dataset}/{optimizer}/{regularizer}.chosen.csv"


def search_timing(dataset="{dataset}", optimizer="{optimizer}", regularizer="{regularizer}"):
    return f"{RESULTS}/timings/search/{dataset}/{optimizer}/{regularizer}.json"


def tune_timing(dataset="{dataset}", optimizer="{optimizer}"):
    return f"{RESULTS}/timings/tune/{dataset}/{optimizer}.json"


def run_file(dataset="{dataset}", optimizer="{optimizer}", regularizer="{regularizer}"):
    """One training cell's trained models (HDF5)."""
    return f"{RESULTS}/runs/{dataset}/{optimizer}/{regularizer}.h5"


def run_rows(dataset="{dataset}", optimizer="{optimizer}", regularizer="{regularizer}"):
    """One training cell's rows (CSV), one per initializer x seed."""
    return f"{RESULTS}/runs/{dataset}/{optimizer}/{regularizer}.csv"


def train_timing(dataset="{dataset}", optimizer="{optimizer}", regularizer="{regularizer}"):
    return f"{RESULTS}/timings/train/{dataset}/{optimizer}/{regularizer}.json"


def protocol_run_rows(protocol="{protocol}", dataset="{dataset}", optimizer="{optimizer}",
                      regularizer="{regularizer}"):
    """One training cell's rows trained under the other tuning protocol (protocol sensitivity)."""
    return f"{RESULTS}/protocols/{protocol}/runs/{dataset}/{optimizer}/{regularizer}.csv"


def protocol_run_file(protocol="{protocol}", dataset="{dataset}", optimizer="{optimizer}",
                      regularizer="{regularizer}"):
    return f"{RESULTS}/protocols/{protocol}/runs/{dataset}/{optimizer}/{regularizer}.h5"


def protocol_train_timing(protocol="{protocol}", dataset="{dataset}", optimizer="{optimizer}",
                          regularizer="{regularizer}"):
    return f"{RESULTS}/timings/protocols/{protocol}/{dataset}/{optimizer}/{regularizer}.json"


def variance_rows(dataset="{dataset}"):
    """One dataset's variance decomposition."""
    return f"{RESULTS}/variance/{dataset}.csv"


def table(name="{name}", ext="csv"):
    """A table of the study (``runs``, ``summary``, ...) as CSV, Markdown (md) or LaTeX (tex)."""
    return f"{RESULTS}/tables/{name}.{ext}"


def lecture_table(name="{name}"):
    return f"{RESULTS}/tables/lectures/{name}.csv"


def lecture_figure(stage="{stage}", ext="png"):
    """A lecture stage's figure (png, svg) or its caption (json)."""
    return f"{RESULTS}/lectures/figures/{stage}.{ext}"


def vectorization_timings():
    return f"{RESULTS}/timings/vectorization.csv"


def report_page():
    return f"{RESULTS}/report/index.html"


def report_config():
    """The configuration the report was rendered from, copied beside it."""
    return f"{RESULTS}/report/config.yaml"


def figures_dir():
    return f"{RESULTS}/figures"


def crate_metadata():
    """The RO-Crate description of the whole results folder (:mod:`nnstudy.provenance`)."""
    return f"{RESULTS}/{CRATE_METADATA}"
