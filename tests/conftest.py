"""Shared fixtures: where the course data and the workflow live."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def course_data_dir():
    """The folder of the course files: $NNSTUDY_DATA_DIR, else ../shared/datasets."""
    return Path(os.environ.get("NNSTUDY_DATA_DIR", REPO.parent / "shared" / "datasets"))


@pytest.fixture
def course_data():
    """The course data folder; skipped when absent, except in CI where it must exist."""
    folder = course_data_dir()
    if not (folder / "data.mat").is_file():
        if os.environ.get("CI") == "true":
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
