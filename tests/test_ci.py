"""What CI and a fresh clone rely on: the extras, the CI steps, every shipped config."""

from importlib.metadata import requires

import pytest


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
