"""Every enum of the config schema that names a registry is that registry, wherever it appears;
and config.validated refuses what a method or a lecture stage cannot use."""

import copy
from pathlib import Path

import pytest
import yaml

from nnstudy.config import validated
from nnstudy.core import initializers, network, optimizers, regularizers, schedules
from nnstudy.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
SMOKE = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())
REGISTRIES = {
    "initializers": set(initializers.INITIALIZERS),
    "activations": set(network.ACTIVATIONS),
    "regularizers": set(regularizers.REGULARIZERS),
    "optimizer methods": set(optimizers.OPTIMIZERS),
    "schedules": set(schedules.SCHEDULES),
}


def enums(node, where="schema"):
    """(dotted place, values) of every enum in the schema, nested ones included."""
    if isinstance(node, dict):
        if "enum" in node:
            yield where, node["enum"]
        for key, child in node.items():
            yield from enums(child, f"{where}.{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from enums(child, f"{where}[{index}]")


def named_registry(values):
    """The registry an enum lists (two or more of its names), or None."""
    matches = [name for name, keys in REGISTRIES.items() if len(keys & set(values)) >= 2]
    assert len(matches) <= 1, values
    return matches[0] if matches else None


PLACES = [(where, values) for where, values in enums(SCHEMA) if named_registry(values)]


def test_the_schema_names_each_registry_wherever_it_lists_one():
    # Initializers and activations are each listed at least five times.
    counts = {name: sum(named_registry(v) == name for _, v in PLACES) for name in REGISTRIES}
    assert counts["initializers"] >= 5 and counts["activations"] >= 5, counts


@pytest.mark.parametrize("where, values", PLACES, ids=[where for where, _ in PLACES])
def test_every_listed_registry_is_the_whole_registry(where, values):
    assert set(values) == REGISTRIES[named_registry(values)], where


def test_a_key_the_optimizers_method_ignores_is_refused_with_one_message():
    config = copy.deepcopy(SMOKE)
    config["optimizers"]["adam"] = {"method": "adam", "mini_batch": True, "beta": 0.5}
    with pytest.raises(ConfigError, match=r"optimizers\.adam\.beta.*0\.5.*'adam' takes \(beta1, beta2, epsilon\)"):
        validated(config, SCHEMA_PATH)


def test_validated_checks_the_lecture_stages_too():
    config = copy.deepcopy(SMOKE)
    config["lectures"]["depth"]["dataset"] = "nowhere"
    with pytest.raises(ConfigError, match=r"lectures\.depth\.dataset.*nowhere"):
        validated(config, SCHEMA_PATH)
