"""Configuration errors the schema alone lets through, found by nnstudy.config before any job."""

import copy
import inspect

import pytest
import yaml

from conftest import REPO, snakemake, write_config
from nnstudy.data import datasets
from nnstudy.config import read_yaml, validated
from nnstudy.errors import ConfigError

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SMOKE = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())


def edited(path, value):
    config = copy.deepcopy(SMOKE)
    target = config
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return config


@pytest.mark.parametrize(
    "path, value, words",
    [
        # Generator parameters, each checked by its generator's own rule.
        (("datasets", "circles", "params"), {"n_sample": 200},
         ["datasets.circles.params.n_sample", "200", "'n_samples'"]),
        (("datasets", "circles", "params"), {"noise": -1},
         ["datasets.circles.params.noise", "-1", "[0, 10.0]"]),
        (("datasets", "circles", "params"), {"n_samples": 1},
         ["datasets.circles.params.n_samples", "1", ">= 4"]),
        (("datasets", "circles", "test_fraction"), 0.8,
         ["datasets.circles.test_fraction", "0.8", "dev_fraction + test_fraction < 1"]),
        # Not finite, wherever it is.
        (("learning_rates", "grid"), [0.1, float("nan")], ["learning_rates.grid.1", "nan", "finite"]),
        (("initializers", "random"), {"scale": float("inf")}, ["initializers.random.scale", "inf", "finite"]),
        (("regularizers", "l2", "lambd"), float("nan"), ["regularizers.l2.lambd", "nan", "finite"]),
        (("gradcheck", "threshold"), float("inf"), ["gradcheck.threshold", "inf", "finite"]),
        # Integers written as floats.
        (("datasets", "circles", "epochs"), 40.0, ["datasets.circles.epochs", "40.0", "integer"]),
        (("regularizers", "early_stopping", "patience"), 3.0, ["patience", "3.0", "integer"]),
        (("seeds",), [0, 1.0], ["seeds.1", "1.0", "integer"]),
        # Hyperparameters the method does not take.
        (("optimizers", "adam", "beta"), 0.9, ["optimizers.adam.beta", "0.9", "beta1, beta2, epsilon"]),
        (("optimizers", "gd", "epsilon"), 1e-8, ["optimizers.gd.epsilon", "no hyperparameters"]),
    ],
)
def test_each_error_names_the_key_path_the_value_and_what_is_allowed(path, value, words):
    with pytest.raises(ConfigError) as excinfo:
        validated(edited(path, value), SCHEMA)
    message = str(excinfo.value)
    assert message.startswith("invalid configuration") and "\n" not in message
    for word in words:
        assert word in message, (word, message)


def test_every_generator_parameter_has_a_check():
    for name, generator in datasets.GENERATORS.items():
        names = set(inspect.signature(generator).parameters) - {"seed"}
        assert names <= set(datasets.PARAMETER_CHECKS), name


def test_good_generator_parameters_still_pass():
    config = edited(("datasets", "circles", "params"), {"n_samples": 4, "noise": 0.0, "factor": 0.9})
    assert validated(config, SCHEMA)["datasets"]["circles"]["params"]["n_samples"] == 4


def test_a_key_given_twice_is_refused_with_file_and_line(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("seeds: [0]\ndatasets:\n  circles:\n    epochs: 40\n    epochs: 50\n")
    with pytest.raises(ConfigError, match=r"study.yaml, line 5, column 5: .*'epochs' again .*line 4"):
        read_yaml(path)
    # Equal keys in different mappings are fine.
    path.write_text("a: {epochs: 1}\nb: {epochs: 2}\n")
    assert read_yaml(path) == {"a": {"epochs": 1}, "b": {"epochs": 2}}


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("seeds: [0, 1]\nlearning_rates:\n  grid: [0.1, 0.2\n  tune: true\n")
    with pytest.raises(ConfigError, match=r"study.yaml, line 4, column"):
        read_yaml(path)


def _duplicated(config_path, key_line):
    """The config file with its line ``key_line`` written twice."""
    lines = config_path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith(key_line))
    lines.insert(index + 1, lines[index])
    config_path.write_text("\n".join(lines) + "\n")
    return index + 2


def test_the_workflow_refuses_a_key_given_twice_before_any_job(tmp_path):
    config = write_config(tmp_path)
    line = _duplicated(config, "seeds:")
    result = snakemake("-n", "--configfile", str(config), workdir=tmp_path, timeout=300)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"config.yaml, line {line}" in output and "'seeds' again" in output, output[-2000:]
    assert not (tmp_path / "results").exists()


def test_the_workflow_refuses_an_integer_written_as_a_float_before_any_job(tmp_path):
    config = write_config(tmp_path, **{"datasets.circles.epochs": 40.0})
    result = snakemake("--cores", "1", "--configfile", str(config), workdir=tmp_path, timeout=300)
    assert result.returncode != 0
    assert "datasets.circles.epochs' = 40.0" in result.stderr
    assert not (tmp_path / "results").exists()


def test_a_lecture_problem_generator_parameter_names_its_path():
    config = copy.deepcopy(SMOKE)
    config["lectures"]["normalization"]["problems"]["moons"] = {
        "source": "moons", "params": {"noise": -1}, "target_accuracy": 0.8,
    }
    with pytest.raises(ConfigError, match=r"lectures\.normalization\.problems\.moons\.params\.noise=-1"):
        validated(config, SCHEMA)
