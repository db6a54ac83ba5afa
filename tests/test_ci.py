"""What CI and a fresh clone rely on: the extras, the CI steps, every shipped config."""

import re
from importlib.metadata import requires

import pytest
import yaml

from conftest import REPO


def _requirements_by_extra():
    """{extra or None: [requirement names]} of the installed nnstudy package."""
    by_extra = {}
    for line in requires("nnstudy"):
        name, _, marker = line.partition(";")
        extra = marker.split("extra ==")[1].strip().strip("'\"") if "extra ==" in marker else None
        by_extra.setdefault(extra, []).append(name.strip())
    return by_extra


def test_slurm_plugin_is_only_in_the_slurm_extra():
    # Snakemake imports every installed executor plugin at start-up, and the
    # SLURM plugin then probes the controller: local installs must not have it.
    by_extra = _requirements_by_extra()
    plugin = "snakemake-executor-plugin-slurm"
    assert any(r.startswith(plugin) for r in by_extra.get("slurm", []))
    others = [r for extra, names in by_extra.items() if extra != "slurm" for r in names]
    assert not any(r.startswith(plugin) for r in others), others


def _ci_steps():
    """The step names of .ci/steps, in order (its STEPS array)."""
    text = (REPO / ".ci" / "steps").read_text()
    return re.search(r"^STEPS=\((.*)\)$", text, re.M)[1].split()


def test_forge_workflow_runs_exactly_the_ci_steps_in_order():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    (job,) = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs == [f"bash .ci/steps {name}" for name in _ci_steps()]
    assert "steps\" all" in (REPO / ".ci" / "run").read_text()


def test_forge_workflow_pins_its_actions_and_python():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    (job,) = workflow["jobs"].values()
    actions = [step for step in job["steps"] if "uses" in step]
    assert actions and all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", a["uses"]) for a in actions)
    (python,) = [a for a in actions if a["uses"].startswith("actions/setup-python@")]
    assert python["with"]["python-version"] == "3.11" and python["with"]["cache"] == "pip"


@pytest.mark.parametrize("config", sorted(p.name for p in (REPO / "config").glob("*.yaml")))
def test_every_shipped_config_dry_runs(config, shipped_dry_run):
    result = shipped_dry_run(config)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Job stats:" in result.stdout + result.stderr
