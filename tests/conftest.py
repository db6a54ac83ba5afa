"""Shared fixtures: where the course data and the workflow live."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def course_data_dir():
    """The folder of the course files: $NNSTUDY_DATA_DIR, else ../shared/datasets."""
    return Path(os.environ.get("NNSTUDY_DATA_DIR", REPO.parent / "shared" / "datasets"))


def course_data_required():
    """Whether missing course files fail the tests instead of skipping them.

    They are required in CI (``CI=true``), where they lie beside the clone,
    unless ``NNSTUDY_COURSE_DATA=optional`` says they cannot be there (the
    forge's CI: the course's files are not in the repository).
    """
    default = "required" if os.environ.get("CI") == "true" else "optional"
    return os.environ.get("NNSTUDY_COURSE_DATA", default) == "required"


@pytest.fixture
def course_data():
    """The course data folder; skipped when absent, except in CI where it must exist."""
    folder = course_data_dir()
    if not (folder / "data.mat").is_file():
        if course_data_required():
            pytest.fail(f"course data files not found in {folder} (required in CI)")
        pytest.skip("course data files not found: set NNSTUDY_DATA_DIR")
    return folder


def tool(name):
    """A command-line tool from this environment (the venv) or the PATH."""
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name) or name


def snakemake(*args, workdir, timeout=900):
    """Run Snakemake on the repository's Snakefile in ``workdir``."""
    command = [tool("snakemake"), "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO)


def write_config(folder, base="smoke.yaml", **changes):
    """Copy a shipped config into ``folder`` with dotted-key changes (None deletes)."""
    import yaml

    config = yaml.safe_load((REPO / "config" / base).read_text())
    config["course_data_dir"] = str(course_data_dir())
    for dotted, value in changes.items():
        target = config
        *parents, last = dotted.split(".")
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    path = folder / "config.yaml"
    # The study's own order of keys, as in the shipped file: results list levels in that order.
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_smoke(workdir, cores=2, **changes):
    """Run the smoke study in ``workdir``; return the completed process."""
    config = write_config(workdir, **changes)
    return snakemake("--cores", str(cores), "--configfile", str(config), workdir=workdir)


@pytest.fixture(scope="session")
def smoke_study(tmp_path_factory):
    """The smoke study, run once with 4 cores: (workdir, config)."""
    import yaml

    workdir = tmp_path_factory.mktemp("smoke")
    result = run_smoke(workdir, cores=4)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir, yaml.safe_load((workdir / "config.yaml").read_text())


@pytest.fixture(scope="session")
def shipped_dry_run(tmp_path_factory):
    """``dry_run(name)``: the dry run of ``config/<name>`` in an empty folder, made once per session.

    Several tests read the default study's plan; building its DAG takes a
    while, and the plan of an unchanged file in an empty folder is the same
    every time.
    """
    runs = {}

    def dry_run(name):
        if name not in runs:
            workdir = tmp_path_factory.mktemp("dry-run")
            config = REPO / "config" / name
            runs[name] = snakemake("-n", "--configfile", str(config), workdir=workdir, timeout=300)
        return runs[name]

    return dry_run


def result_bytes(workdir, skip=("timings", "report")):
    """{relative path: bytes} of every result file except wall-time records.

    The report page and the RO-Crate metadata state their date and commit,
    and a few report tables (and their figures) are built from wall times:
    those are left out.
    """
    from nnstudy.provenance import METADATA
    from nnstudy.report.table_names import TIMING_OUTPUTS

    root = workdir / "results"
    timed = ("timings", *TIMING_OUTPUTS, METADATA) if skip else ()
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not any(part in skip for part in p.relative_to(root).parts)
        and not p.name.startswith(timed)
    }


def xor_data(m, noise, seed):
    """A 2-D XOR-like task: label 1 where x1 * x2 > 0, a fraction ``noise`` flipped."""
    g = np.random.default_rng(seed)
    X = g.uniform(-1.0, 1.0, (2, m))
    y = (X[0] * X[1] > 0).astype(np.int64)
    y = np.where(g.random(m) < noise, 1 - y, y)
    return X, y[None].astype(float), y
