"""Reliability of the whole study: determinism, kill and resume, bad input, locking.

These run the smoke study several times (a few minutes in all); they are
marked slow but the README's test command and CI run them.
"""

import os
import random
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest
import scipy.io

from conftest import REPO, result_bytes, run_smoke, snakemake, tool, write_config

pytestmark = pytest.mark.slow


def test_rerun_with_one_core_gives_identical_bytes(smoke_study, tmp_path):
    reference, _ = smoke_study
    result = run_smoke(tmp_path, cores=1)
    assert result.returncode == 0, result.stderr[-3000:]
    expected, got = result_bytes(reference), result_bytes(tmp_path)
    assert sorted(got) == sorted(expected)
    different = [name for name in expected if got[name] != expected[name]]
    assert different == []


def _start(workdir, config, *extra, stderr=subprocess.PIPE):
    command = [
        tool("snakemake"), "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
        "--cores", "4", "--configfile", str(config), *extra,
    ]
    # A session of its own, so that SIGKILL reaches every job it started.
    return subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr, text=True,
        start_new_session=True,
    )


def _stage(path, root):
    """The stage a log or benchmark file belongs to: its rule (lectures: lectures/<stage>)."""
    parts = path.relative_to(root).with_suffix("").parts
    return "/".join(parts[:2]) if parts[0] == "lectures" else parts[0]


def _stage_seconds(workdir):
    """{stage: the shortest wall time of its jobs}, from a finished study's benchmarks."""
    root = workdir / "benchmarks"
    seconds = {}
    for path in root.rglob("*.tsv"):
        value = float(path.read_text().splitlines()[1].split("\t")[0])
        stage = _stage(path, root)
        seconds[stage] = min(value, seconds.get(stage, value))
    return seconds


def _written_since(path, moment):
    try:
        return path.stat().st_mtime >= moment
    except FileNotFoundError:  # removed by Snakemake between listing and looking
        return False


def _rules(stage):
    """The rules whose jobs make up a stage (see _stage)."""
    if stage.startswith("lectures/"):
        return ["lecture_" + stage.split("/", 1)[1]]
    if stage == "variance":
        return ["variance_decomposition", "variance_table"]
    return [stage]


def _kill_when_a_stage_starts(workdir, config, spared, seconds, rng, *extra):
    """Run the study until a job of a stage not in ``spared`` is under way, then SIGKILL it all.

    A job's log appears when its script starts; the kill comes a random part
    of that stage's usual wall time later, so it lands inside the job's work
    (for the report and lecture figures: while figures are drawn and written).
    Returns the stage killed, or None if the study finished first.
    """
    logs = workdir / "logs"
    started = time.time()
    # To a file: a pipe nobody reads while polling would fill up and stall Snakemake.
    errors = workdir / "snakemake-stderr.txt"
    with errors.open("w") as stderr:
        process = _start(workdir, config, "--rerun-incomplete", *extra, stderr=stderr)
    while process.poll() is None:
        fresh = [
            path for path in (logs.rglob("*.log") if logs.exists() else [])
            if _written_since(path, started) and _stage(path, logs) in seconds.keys() - spared
        ]
        if fresh:
            stage = _stage(fresh[0], logs)
            time.sleep(rng.uniform(0.2, 0.5) * seconds[stage])
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return stage
        time.sleep(0.05)
    assert process.returncode == 0, errors.read_text()[-3000:]
    return None


def test_killed_during_every_stage_then_resumed_gives_identical_results(smoke_study, tmp_path):
    reference, _ = smoke_study
    seconds = _stage_seconds(reference)
    config = write_config(tmp_path)
    rng = random.Random(20261122)
    killed = []
    forced = []
    while len(killed) < len(seconds):
        stage = _kill_when_a_stage_starts(tmp_path, config, set(killed), seconds, rng, *forced)
        if stage is None:
            # The last jobs of a short stage ended while another stage was being
            # killed, so nothing of it is left to run: run its jobs again.
            assert not forced, f"the study finished before a kill in {sorted(set(seconds) - set(killed))}"
            forced = ["--forcerun", *(rule for left in set(seconds) - set(killed) for rule in _rules(left))]
            continue
        forced = []
        killed.append(stage)
        if len(killed) == 1:
            # A killed run leaves its lock behind: clear it, as a user would.
            unlock = snakemake("--unlock", "--configfile", str(config), workdir=tmp_path, timeout=120)
            assert unlock.returncode == 0, unlock.stderr
        else:
            # What --unlock does, without starting Snakemake once more per kill.
            for lock in (tmp_path / ".snakemake" / "locks").iterdir():
                lock.unlink()
    assert sorted(killed) == sorted(seconds)
    result = snakemake(
        "--cores", "4", "--rerun-incomplete", "--configfile", str(config), workdir=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    expected, got = result_bytes(reference), result_bytes(tmp_path)
    assert sorted(got) == sorted(expected)
    assert [name for name in expected if got[name] != expected[name]] == []
    leftovers = [p for p in (tmp_path / "results").rglob("*.tmp")]
    assert leftovers == []


def test_a_second_run_on_the_same_directory_is_refused(tmp_path):
    config = write_config(tmp_path)
    first = _start(tmp_path, config)
    try:
        deadline = time.time() + 60
        locks = tmp_path / ".snakemake" / "locks"
        while time.time() < deadline and not (locks.exists() and any(locks.iterdir())):
            time.sleep(0.2)
        second = snakemake("--cores", "1", "--configfile", str(config), workdir=tmp_path, timeout=300)
        assert second.returncode != 0
        # Snakemake refuses with its lock error, or, when it looks while a job
        # of the first run has just written its output, with the files that
        # job has not marked complete yet: either way nothing runs twice.
        message = second.stderr.lower()
        assert "lock" in message or "incomplete files" in message, message[-2000:]
    finally:
        _, stderr = first.communicate(timeout=600)
    assert first.returncode == 0, stderr[-3000:]


def _good_mat(path, n=40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    y = (X[:, :1] > 0).astype(float)
    scipy.io.savemat(path, {"X": X, "y": y, "Xval": X[:10], "yval": y[:10]})
    return X, y


def _bad_files(folder):
    """(name, path, words the message must contain) for each kind of bad file."""
    cases = []
    missing = folder / "missing.mat"
    cases.append(("missing", missing, ["missing.mat"]))

    truncated = folder / "truncated.mat"
    _good_mat(truncated)
    truncated.write_bytes(truncated.read_bytes()[:100])
    cases.append(("truncated", truncated, ["truncated.mat"]))

    def variant(name, words, **arrays):
        path = folder / f"{name}.mat"
        X, y = _good_mat(path)
        content = {"X": X, "y": y, "Xval": X[:10], "yval": y[:10]}
        content.update(arrays)
        for key in [k for k, v in content.items() if v is None]:
            del content[key]
        scipy.io.savemat(path, content)
        cases.append((name, path, [f"{name}.mat", *words]))

    X, y = _good_mat(folder / "scratch.mat")
    variant("wrong_keys", ["Xval"], Xval=None)
    variant("wrong_shape", ["X"], X=np.zeros((40, 2, 2)))
    variant("mismatched", ["y"], y=y[:30])
    nan = X.copy()
    nan[3, 1] = np.nan
    variant("nan_features", ["NaN"], X=nan)
    inf = X.copy()
    inf[5, 0] = np.inf
    variant("inf_features", ["inf"], X=inf)
    huge = X.copy()
    huge[:, 1] = 1e308
    variant("huge_features", ["'X' feature 1", "bound"], X=huge)
    variant("bad_labels", ["y"], y=np.where(y > 0, 7.0, 0.0))
    variant("one_class", ["class"], y=np.zeros_like(y))
    return cases


def test_bad_dataset_files_get_a_clear_error_and_leave_results_untouched(smoke_study, tmp_path):
    reference, _ = smoke_study
    before = result_bytes(reference, skip=())
    for name, path, words in _bad_files(tmp_path):
        config = write_config(
            tmp_path,
            **{"datasets.football": {"source": "mat", "path": str(path), "hidden_layers": [4],
                                     "epochs": 2, "batch_size": 8, "eval_every": 1}},
        )
        result = snakemake("--cores", "2", "--configfile", str(config), workdir=reference, timeout=300)
        assert result.returncode != 0, name
        message = result.stderr
        for word in words:
            assert word.lower() in message.lower(), (name, word, message[-1500:])
    assert result_bytes(reference, skip=()) == before


def test_bad_hdf5_course_files_name_the_file_and_key(tmp_path):
    from nnstudy.data.datasets import load_cat_h5
    from nnstudy.errors import DataError

    train, test = tmp_path / "train.h5", tmp_path / "test.h5"
    with h5py.File(train, "w") as f:
        f["train_set_x"] = np.zeros((4, 2, 2, 3), dtype=np.uint8)
        f["train_set_y"] = np.array([0, 1, 0, 1])
        f["list_classes"] = np.array([b"non-cat", b"cat"])
    with h5py.File(test, "w") as f:
        f["test_set_x"] = np.zeros((2, 2, 2, 3), dtype=np.uint8)
    with pytest.raises(DataError, match="test.h5.*test_set_y|test_set_y.*test.h5"):
        load_cat_h5(train, test)
