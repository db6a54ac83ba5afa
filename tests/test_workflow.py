"""The Snakemake workflow: lint, format, dry run of the full study, a real smoke run."""

import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, snakemake, tool, write_config

DEFAULT = REPO / "config" / "config.yaml"
TABLES = ("runs", "summary", "learning_rates", "gradcheck", "curves", "variance_decomposition")


def test_lint_reports_nothing():
    result = subprocess.run(
        [tool("snakemake"), "--lint"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_is_clean():
    result = subprocess.run(
        [tool("snakefmt"), "--check", "."], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dry_run_lists_every_job_of_the_default_study(shipped_dry_run):
    result = shipped_dry_run(DEFAULT.name)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(DEFAULT.read_text())
    # Without the course files (none beside tmp_path) cat is skipped, as the study says up front.
    skipped = [line for line in result.stderr.splitlines()
               if line.startswith("nnstudy: dataset ") and line.endswith("; skipped")]
    assert [line.split("'")[1] for line in skipped] == ["cat"], result.stderr[-2000:]
    # One training job per (dataset, optimizer), each training every regularizer's cell.
    jobs = (len(config["datasets"]) - 1) * len(config["optimizers"])
    assert f"train {jobs} " in " ".join(result.stdout.split())


# Every bad value goes through the one validation the Snakefile calls, whose
# messages test_config.py checks value by value; here two of them show that
# the workflow stops on it before any job.
@pytest.mark.parametrize(
    "change, expected",
    [
        ({"initializers.bogus": {}}, "bogus"),
        ({"regularizers.l2.lambd": -1}, "-1"),
    ],
)
def test_bad_config_fails_before_any_job_with_one_clear_message(tmp_path, change, expected):
    config = write_config(tmp_path, **change)
    result = snakemake("--cores", "1", "--configfile", str(config), workdir=tmp_path, timeout=120)
    assert result.returncode != 0
    assert "invalid configuration" in result.stderr or "not allowed" in result.stderr
    assert expected in result.stderr
    assert not (tmp_path / "results").exists()


def test_smoke_study_writes_every_table(smoke_study):
    workdir, _ = smoke_study
    for name in TABLES:
        frame = pd.read_csv(workdir / "results" / "tables" / f"{name}.csv")
        assert len(frame) > 0, name
        assert (workdir / "results" / "tables" / f"{name}.csv.meta.json").is_file()
    assert (workdir / "results" / "tables" / "summary.md").read_text().startswith("| dataset")


def test_runs_table_has_one_row_per_combination_and_seed(smoke_study):
    workdir, config = smoke_study
    runs = pd.read_csv(workdir / "results" / "tables" / "runs.csv")
    expected = (
        len(config["datasets"])
        * len(config["initializers"])
        * len(config["regularizers"])
        * len(config["optimizers"])
        * len(config["seeds"])
    )
    assert len(runs) == expected
    keys = ["dataset", "initializer", "regularizer", "optimizer", "seed"]
    assert not runs.duplicated(keys).any()
    unexplained = runs["test_accuracy"].isna() & (runs["status"] != "diverged")
    assert not unexplained.any()


def test_every_rule_wrote_its_log(smoke_study):
    workdir, _ = smoke_study
    logs = list((workdir / "logs").rglob("*.log"))
    assert any("train" in str(p) for p in logs)
    assert all(p.stat().st_size > 0 for p in logs if "train" in str(p))


def test_second_run_has_nothing_to_do(smoke_study):
    workdir, _ = smoke_study
    config = workdir / "config.yaml"
    result = snakemake("-n", "--configfile", str(config), workdir=workdir, timeout=120)
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def _job_counts(stdout):
    """{rule: count} from the 'Job stats' table of a dry run."""
    lines = stdout.split("Job stats:")[1].splitlines()
    counts = {}
    for line in lines[3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    counts.pop("total", None)
    return counts


def test_changing_one_hyperparameter_reruns_only_the_jobs_it_affects(smoke_study, tmp_path):
    workdir, config = smoke_study
    changed = write_config(tmp_path, **{"regularizers.l2.lambd": 0.1})
    result = snakemake("-n", "--configfile", str(changed), workdir=workdir, timeout=120)
    assert result.returncode == 0, result.stderr
    counts = _job_counts(result.stdout)
    # Every (dataset, optimizer) job, as each trains all of its regularizers' cells.
    n_jobs = len(config["datasets"]) * len(config["optimizers"])
    assert counts.pop("train") == n_jobs
    if config["tuning"]["protocol"] == "search":
        assert counts.pop("search") == n_jobs  # and their tuning
    # The jobs the protocol comparison trains again, one per optimizer of each of its datasets.
    sensitivity = config["tuning"].get("sensitivity_datasets") or []
    assert counts.pop("train_other_protocol", 0) == len(sensitivity) * len(config["optimizers"])
    assert counts.pop("gradcheck") == len(config["datasets"])  # only the L2 variant
    assert counts.pop("network_config") == len(config["datasets"])  # what the L2 cells share with it
    # Stages that train with L2 or read runs.csv follow, and the variance
    # decomposition, whose chosen table its (dataset, optimizer) search job
    # writes again; nothing else does.
    downstream = {"lecture_bias_variance", "lecture_augmentation", "lecture_figures",
                  "variance_decomposition", "variance_table"}
    tables = {"aggregate", "tuning_tables", "budget_tables", "protocol_sensitivity"}
    assert set(counts) <= tables | {"report", "provenance", "all"} | downstream


def test_training_logs_name_their_cell_and_say_how_far_it_is(smoke_study):
    workdir, config = smoke_study
    # One job trains every regularizer of (circles, adam); each line names its cell.
    lines = (workdir / "logs" / "train" / "circles" / "adam.log").read_text().splitlines()
    for regularizer in config["regularizers"]:
        progress = [line for line in lines if f" train circles/adam/{regularizer} models " in line]
        assert progress, lines
        assert "(100%)" in progress[-1]


def test_smoke_variance_decomposition_has_every_source_per_dataset(smoke_study):
    workdir, config = smoke_study
    table = pd.read_csv(workdir / "results" / "tables" / "variance_decomposition.csv")
    sources = ["split", "init", "shuffle", "dropout", "all"]
    for dataset in config["datasets"]:
        part = table[table["dataset"] == dataset]
        assert part["source"].tolist() == sources
        assert (part["seeds"] == len(config["seeds"])).all()
    singles = table[table["source"] != "all"].groupby("dataset")["share"].sum(min_count=1).dropna()
    assert np.allclose(singles, 1.0)


def test_changing_the_gradient_check_samples_reruns_the_gate_but_retrains_nothing(smoke_study, tmp_path):
    workdir, config = smoke_study
    changed = write_config(tmp_path, **{"gradcheck.samples": config["gradcheck"]["samples"] + 4})
    result = snakemake("-n", "--configfile", str(changed), workdir=workdir, timeout=120)
    assert result.returncode == 0, result.stderr
    counts = _job_counts(result.stdout)
    # Every gate reruns: each regularizer of each dataset, and "none" for tuning.
    variants = set(config["regularizers"]) | {"none"}
    assert counts.pop("gradcheck") == len(config["datasets"]) * len(variants)
    # Its table is aggregated again; no tuning or training job follows.
    downstream = {"lecture_bias_variance", "lecture_figures"}
    assert set(counts) <= {"aggregate", "report", "provenance", "all"} | downstream


def test_a_local_run_selects_jobs_only_when_one_ends(tmp_path):
    # Without scheduling.smk, Snakemake's job-start limit re-arms a timer after
    # every selection, so each finished job adds a selection a second: 40
    # selections for these 8 jobs, against 8 with it.
    config = write_config(tmp_path)
    targets = [
        f"results/gradcheck/{d}/{r}.csv"
        for d in ("circles", "digits")
        for r in ("none", "dropout", "early_stopping")
    ]
    result = snakemake(
        *targets, "--cores", "1", "--verbose", "--configfile", str(config), workdir=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    jobs = log.count("Finished job")
    assert jobs >= len(targets)
    assert log.count("Ready jobs") <= jobs + 1
