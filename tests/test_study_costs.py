"""bench/study_costs.py: a finished study's time per stage, from its benchmarks and timings."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import study_costs  # noqa: E402

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path, wall, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{wall}\t0:00:0\t1\t1\t1\t1\t0\t0\t0\t{cpu}\n")


def _timing(path, **fields):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields))


def test_stages_sum_their_jobs_and_the_start_up_is_wall_less_script(tmp_path):
    # Two training jobs of two cells each, one protocol-comparison job (its
    # timings say "train" but live under protocols/), a lecture and the report.
    _bench(tmp_path / "benchmarks/train/circles/adam.tsv", 5.0, 4.0)
    _bench(tmp_path / "benchmarks/train/moons/adam.tsv", 3.0, "NA")
    _bench(tmp_path / "benchmarks/protocols/grid/circles/adam.tsv", 2.0, 1.5)
    _bench(tmp_path / "benchmarks/lectures/depth.tsv", 7.0, 6.0)
    _bench(tmp_path / "benchmarks/report.tsv", 4.0, 3.0)
    for cell, seconds in (("circles/adam/none", 2.0), ("circles/adam/l2", 2.5), ("moons/adam/none", 1.0),
                          ("moons/adam/l2", 1.0)):
        _timing(tmp_path / f"results/timings/train/{cell}.json", stage="train", seconds=seconds, models=10,
                steps=100)
    _timing(tmp_path / "results/timings/protocols/grid/circles/adam/none.json", stage="train", seconds=1.5,
            models=10, steps=50)

    costs = study_costs.study_costs(tmp_path)

    assert set(costs) == {"train", "protocols", "lectures", "report"}
    train = costs["train"]
    assert (train["jobs"], train["wall"], train["cpu"]) == (2, 8.0, 4.0)  # NA counts as nothing
    assert train["wall"] - train["script"] == pytest.approx(1.5)
    assert train["model_steps"] == 4 * 10 * 100
    assert costs["protocols"]["model_steps"] == 500 and costs["protocols"]["script"] == 1.5
    assert costs["lectures"]["jobs"] == 1 and costs["report"]["wall"] == 4.0
    assert "script" not in costs["report"]
