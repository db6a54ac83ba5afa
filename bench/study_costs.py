"""Where a finished study's time went: per stage, per job start, and Snakemake's own.

    .venv/bin/python bench/study_costs.py STUDY_DIR [--snakemake-cpu SECONDS]

STUDY_DIR is the working directory of a finished run (the one holding
``benchmarks/`` and ``results/``). For each stage it prints the jobs, the
sum of their wall times (on a quiet machine with one job per core, the core
seconds the stage used), the part of it spent before and after the job's
own work (starting Python, imports, Snakemake's script wrapper: the job's
benchmark wall time less the seconds its script measured; only stages that
write timings), and the model-steps trained per second of job wall time.

Snakemake's benchmark ``cpu_time`` is sampled (once a second at first, then
less often) and misses up to the last interval of every job, so it is shown
beside the wall times, not used. ``--snakemake-cpu`` adds the CPU time of
the Snakemake process itself (read with ``ps -o time=`` just before it
exits), which no benchmark file records.
"""

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path


def stage_of(path, root):
    """A benchmark file's stage: its first folder, or its name for the single jobs."""
    parts = path.relative_to(root).parts
    stage = parts[0].removesuffix(".tsv")
    return "lectures" if stage.startswith("lecture") else stage


def last_row(path):
    rows = list(csv.DictReader(path.open(), delimiter="\t"))
    return rows[-1] if rows else None


def study_costs(study):
    """{stage: {jobs, wall, cpu, scripted_wall, script, model_steps}} from a finished study."""
    costs = defaultdict(lambda: defaultdict(float))
    bench_root = study / "benchmarks"
    for path in bench_root.rglob("*.tsv"):
        row = last_row(path)
        if row is None:
            continue
        stage = stage_of(path, bench_root)
        entry = costs[stage]
        entry["jobs"] += 1
        entry["wall"] += float(row["s"])
        try:
            entry["cpu"] += float(row["cpu_time"])
        except ValueError:  # NA: the job ended before its first sample
            pass
    # Timed stages: every cell's script seconds and model-steps, by job (a
    # job's benchmark file sits where its cells' timing folder is).
    timing_root = study / "results" / "timings"
    for path in timing_root.rglob("*.json"):
        timing = json.loads(path.read_text())
        # The folder, not the stage field: the protocol comparison's training says "train".
        entry = costs[path.relative_to(timing_root).parts[0]]
        entry["script"] += timing.get("seconds", 0.0)
        entry["model_steps"] += timing.get("models", 0) * (timing.get("steps") or 0)
    return costs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--snakemake-cpu", type=float, default=None)
    args = parser.parse_args()
    costs = study_costs(args.study)
    total_wall = sum(c["wall"] for c in costs.values())
    print(f"{'stage':24s} {'jobs':>5s} {'wall s':>8s} {'cpu s*':>8s} {'start s':>8s} {'model-steps/s':>14s}")
    for stage, c in sorted(costs.items(), key=lambda item: -item[1]["wall"]):
        start = f"{c['wall'] - c['script']:8.0f}" if c["script"] else f"{'':8s}"
        rate = f"{c['model_steps'] / c['wall']:14,.0f}" if c["model_steps"] and c["wall"] else ""
        print(f"{stage:24s} {int(c['jobs']):5d} {c['wall']:8.0f} {c['cpu']:8.0f} {start} {rate}")
    timed = [c for c in costs.values() if c["script"]]
    timed_jobs = sum(c["jobs"] for c in timed)
    start = sum(c["wall"] - c["script"] for c in timed)
    steps = sum(c["model_steps"] for c in costs.values())
    jobs = sum(c["jobs"] for c in costs.values())
    print(f"{'total':24s} {int(jobs):5d} {total_wall:8.0f} {sum(c['cpu'] for c in costs.values()):8.0f}")
    print("* sampled by Snakemake: misses up to the last interval of every job")
    if timed_jobs:
        per_job = start / timed_jobs
        print(f"job start and wrap-up: {per_job:.2f} s a job in the timed stages, "
              f"about {per_job * jobs:.0f} s over all {int(jobs)} jobs "
              f"({100 * per_job * jobs / total_wall:.0f}% of the jobs' wall time)")
    if args.snakemake_cpu is not None:
        print(f"the Snakemake process: {args.snakemake_cpu:.0f} CPU s "
              f"({100 * args.snakemake_cpu / (total_wall + args.snakemake_cpu):.1f}% of all)")
    print(f"model-steps trained: {steps:,.0f}, {steps / total_wall:,.0f} per second of job wall time")


if __name__ == "__main__":
    main()
