"""The smoke study on a real SLURM cluster, through Snakemake's SLURM executor plugin.

A single-node cluster is brought up on this machine with
``workflow/cluster/slurm-up.sh`` (Debian packages, root) and stopped again with
``slurm-down.sh`` at the end of the test session.  The tests then run the
workflow exactly as a user would on a cluster, with
``--profile workflow/profiles/slurm``, and check that

- every job went through ``sbatch``: the plugin names a SLURM job id and a log
  file for each submission, the log files exist, ``sacct`` lists every id as
  completed, in the run's folder, and Snakemake ran no job locally except the
  final ``all``;
- the results are byte-identical to the local run of the same study;
- a job that fails on the cluster fails the run, and the error names the
  job's log files.

They are skipped, with the reason, where a cluster cannot be brought up (not
root, no apt/dpkg, no SLURM plugin, or the bring-up fails); in CI
(``CI=true``) a failed bring-up or a missing plugin fails instead.  Every run
is bounded by a hard timeout: on expiry the Snakemake process group is killed,
the run's SLURM jobs are cancelled and the test fails, so nothing hangs.
"""

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, result_bytes, tool, write_config

pytestmark = pytest.mark.slow

IN_CI = os.environ.get("CI") == "true"
CLUSTER = REPO / "workflow" / "cluster"
PROFILE = REPO / "workflow" / "profiles" / "slurm"
# Hard limits in seconds: bringing the cluster up (may install packages), one
# workflow run on it, and stopping the cluster.
UP_TIMEOUT = int(os.environ.get("NNSTUDY_SLURM_UP_TIMEOUT", 900))
RUN_TIMEOUT = int(os.environ.get("NNSTUDY_SLURM_RUN_TIMEOUT", 1200))
DOWN_TIMEOUT = 120

SUBMITTED = re.compile(
    r"Job (?P<job>\S+) has been submitted with SLURM jobid (?P<slurm_id>\d+) \(log: (?P<log>[^)]+)\)"
)


def _cannot_run(reason):
    """Skip outside CI; in CI, where the cluster must come up, fail."""
    if IN_CI:
        pytest.fail(f"SLURM test cannot run in CI: {reason}")
    pytest.skip(reason)


def _daemon_running(name):
    return subprocess.run(["pgrep", "-x", name], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def slurm_cluster():
    """A running single-node SLURM cluster with accounting (partition ``nnstudy``).

    Session-scoped on purpose: the cluster is stopped when the whole test
    session ends, not when this module ends.  Once SLURM is installed but
    stopped, the SLURM plugin's import-time ``scontrol show config`` waits about
    10 s for the absent controller in every Snakemake start, which would slow
    every later workflow test down.  A cluster that was already running before
    the session is left running.
    """
    if os.geteuid() != 0:
        pytest.skip("bringing up SLURM needs root (it installs packages and starts daemons)")
    if not (shutil.which("apt-get") and shutil.which("dpkg-query")):
        pytest.skip("bringing up SLURM needs a Debian system with apt-get and dpkg")
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        _cannot_run(
            "snakemake-executor-plugin-slurm is not installed (pip install -e '.[workflow,slurm]')"
        )
    was_running = _daemon_running("slurmctld")
    started = time.monotonic()
    try:
        up = subprocess.run(
            ["bash", str(CLUSTER / "slurm-up.sh")],
            capture_output=True, text=True, timeout=UP_TIMEOUT, start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        _cannot_run(f"slurm-up.sh did not finish within {UP_TIMEOUT} s")
    if up.returncode != 0:
        _cannot_run(f"slurm-up.sh failed (exit {up.returncode}):\n{up.stdout[-2000:]}{up.stderr[-2000:]}")
    print(f"SLURM up in {time.monotonic() - started:.1f} s")
    yield
    if not was_running:
        down = subprocess.run(
            ["bash", str(CLUSTER / "slurm-down.sh")],
            capture_output=True, text=True, timeout=DOWN_TIMEOUT,
        )
        assert down.returncode == 0, down.stdout + down.stderr


def _run_jobs(workdir):
    """SLURM ids of this workdir's jobs still queued or running."""
    listing = subprocess.run(
        ["squeue", "-h", "-o", "%i %Z"], capture_output=True, text=True, timeout=60
    ).stdout
    folder = str(Path(workdir).resolve())
    return [line.split()[0] for line in listing.splitlines() if line.split()[1:] == [folder]]


def run_on_slurm(workdir, config, *targets, timeout=RUN_TIMEOUT):
    """Run the workflow through the SLURM profile in ``workdir``, under a hard timeout.

    Returns (completed process, wall seconds).  On timeout the Snakemake
    process group is killed, the run's SLURM jobs are cancelled and the test
    fails with the end of Snakemake's output.
    """
    command = [
        # A second, outer limit: if this process dies, Snakemake still ends.
        "timeout", "-s", "KILL", str(timeout + 60),
        tool("snakemake"), *targets,
        "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
        "--profile", str(PROFILE), "--workflow-profile", "none",
        "--slurm-init-seconds-before-status-checks", "2",
        "--slurm-keep-successful-logs",
        "--configfile", str(config),
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        leftover = _run_jobs(workdir)
        if leftover:
            subprocess.run(["scancel", *leftover], timeout=60)
        pytest.fail(
            f"the SLURM run did not finish within {timeout} s; killed it and cancelled "
            f"SLURM jobs {leftover}. End of its output:\n{stderr[-3000:]}"
        )
    elapsed = time.monotonic() - started
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), elapsed


def sacct_states(ids):
    """{SLURM job id: (state, working folder)} for ``ids``, as sacct lists them."""
    ids = list(ids)
    listing = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-j", ",".join(ids), "--format=JobID,State,WorkDir"],
        capture_output=True, text=True, timeout=60,
    )
    assert listing.returncode == 0, listing.stderr
    states = {}
    for line in listing.stdout.splitlines():
        job_id, state, folder = line.split("|")
        states[job_id] = (state.split()[0], folder)
    return states


def job_blocks(stderr):
    """[(local?, rule, first output)] of every job Snakemake announced."""
    blocks = re.split(r"^\s*(localrule|rule) (\w+):\n", stderr, flags=re.M)[1:]
    jobs = []
    for kind, rule, body in zip(blocks[0::3], blocks[1::3], blocks[2::3]):
        output = re.search(r"^\s*output: ([^,\s]+)", body, re.M)
        jobs.append((kind == "localrule", rule, output[1] if output else None))
    return jobs


def submissions(stderr):
    """[(Snakemake job id, SLURM job id, log path)] in the order submitted."""
    return [(m["job"], m["slurm_id"], m["log"]) for m in SUBMITTED.finditer(stderr)]


@pytest.fixture(scope="module")
def slurm_study(slurm_cluster, tmp_path_factory):
    """The smoke study run through SLURM: (workdir, completed process, wall seconds)."""
    workdir = tmp_path_factory.mktemp("slurm")
    config = write_config(workdir)
    result, elapsed = run_on_slurm(workdir, config)
    print(f"smoke study through SLURM: {elapsed:.0f} s")
    return workdir, result, elapsed


def test_smoke_study_on_slurm_succeeds(slurm_study):
    _, result, elapsed = slurm_study
    assert result.returncode == 0, f"exit {result.returncode} after {elapsed:.0f} s:\n{result.stderr[-4000:]}"


def test_every_job_went_through_sbatch(slurm_study):
    workdir, result, _ = slurm_study
    assert result.returncode == 0, result.stderr[-4000:]
    submitted = submissions(result.stderr)
    assert submitted, "no 'submitted with SLURM jobid' line in Snakemake's output"

    slurm_ids = [slurm_id for _, slurm_id, _ in submitted]
    assert len(set(slurm_ids)) == len(slurm_ids), "a SLURM job id was reported twice"
    logs_folder = (workdir / ".snakemake" / "slurm_logs").resolve()
    for _, slurm_id, log in submitted:
        log = Path(log)
        assert log.is_file(), f"SLURM log {log} of job {slurm_id} is missing"
        assert log.stem == slurm_id and log.resolve().is_relative_to(logs_folder), log
        # The job ran Snakemake for this workflow inside SLURM.
        assert "Snakefile: " + str(REPO / "Snakefile") in log.read_text(), log

    # The main log records the same submissions as the terminal output.
    main_logs = sorted((workdir / ".snakemake" / "log").glob("*.snakemake.log"))
    assert main_logs, "no Snakemake main log"
    assert submissions(main_logs[-1].read_text()) == submitted

    # sacct (the cluster's accounting) knows every job, completed, in this run's folder.
    states = sacct_states(slurm_ids)
    assert sorted(states) == sorted(slurm_ids), f"sacct lists {sorted(states)}, Snakemake submitted {sorted(slurm_ids)}"
    folder = str(workdir.resolve())
    wrong = {i: s for i, s in states.items() if s != ("COMPLETED", folder)}
    assert wrong == {}, f"jobs not COMPLETED in {folder}: {wrong}"

    # Nothing but the final target ran on this machine, and every other job
    # (grouped or not) shows up, with its first output, in some SLURM log.
    jobs = job_blocks(result.stderr)
    assert {rule for local, rule, _ in jobs if local} == {"all"}
    remote = [(rule, output) for local, rule, output in jobs if not local]
    assert len(remote) > len(submitted) > 1, "expected grouped and single SLURM jobs"
    logged = "\n".join(Path(log).read_text() for _, _, log in submitted)
    missing = [job for job in remote if job[1] not in logged]
    assert missing == [], f"jobs not found in any SLURM log: {missing}"


def test_results_are_byte_identical_to_a_local_run(slurm_study, smoke_study):
    workdir, result, _ = slurm_study
    assert result.returncode == 0, result.stderr[-4000:]
    reference, _ = smoke_study
    expected, got = result_bytes(reference), result_bytes(workdir)
    assert sorted(got) == sorted(expected)
    assert [name for name in expected if got[name] != expected[name]] == []


def test_a_failing_job_fails_the_run_and_names_its_logs(slurm_cluster, tmp_path):
    # Finite differences with a step of 10 are far from any gradient (the
    # gate's tolerance only forgives rounding error): the gradient check fails
    # inside its SLURM job.
    config = write_config(tmp_path, **{"gradcheck.epsilon": 10.0})
    target = "results/gradcheck/circles/none.csv"
    result, elapsed = run_on_slurm(tmp_path, config, target, timeout=600)
    assert result.returncode != 0, result.stderr[-3000:]

    rule_log = "logs/gradcheck/circles/none.log"
    assert f"log: {rule_log}" in result.stderr, result.stderr[-3000:]
    assert "gradient check failed" in (tmp_path / rule_log).read_text()
    # The check ran in a SLURM job; the error names that job's SLURM log, the
    # log holds the job's own error report, and sacct lists the job as failed.
    failed = [
        (slurm_id, log) for _, slurm_id, log in submissions(result.stderr)
        if "gradcheck" in log.split("slurm_logs")[-1]
    ]
    assert len(failed) == 1, result.stderr[-3000:]
    slurm_id, slurm_log = failed[0]
    # (Past the submission line, which names the log too.)
    after_submission = result.stderr.split(f"SLURM jobid {slurm_id} ", 1)[1].split("\n", 1)[1]
    assert slurm_log in after_submission, "the error does not name the SLURM log"
    assert "Error in rule gradcheck" in Path(slurm_log).read_text()
    assert sacct_states([slurm_id])[slurm_id][0] == "FAILED"
    assert not (tmp_path / target).exists()
    print(f"failing run ended after {elapsed:.0f} s")
