"""The configuration validator: schema, registries, and one clear error."""

import copy

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from nnstudy.core import initializers, network, optimizers, regularizers, schedules
from nnstudy.data import datasets
from nnstudy.study import replication
from nnstudy.config import validated
from nnstudy.errors import ConfigError, DataError

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SMOKE = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())
SCHEMA_DOC = yaml.safe_load(SCHEMA.read_text())


def test_schema_enums_equal_the_registries():
    props = SCHEMA_DOC["properties"]
    assert set(props["initializers"]["propertyNames"]["enum"]) == set(initializers.INITIALIZERS)
    assert set(props["regularizers"]["propertyNames"]["enum"]) == set(regularizers.REGULARIZERS)
    method = props["optimizers"]["additionalProperties"]["properties"]["method"]
    assert set(method["enum"]) == set(optimizers.OPTIMIZERS)
    source = props["datasets"]["additionalProperties"]["properties"]["source"]
    assert set(source["enum"]) == set(datasets.SOURCES)
    stand_in = props["datasets"]["additionalProperties"]["properties"]["stand_in"]["properties"]["source"]
    assert set(stand_in["enum"]) == set(datasets.GENERATORS)
    assert set(props["hidden_activation"]["enum"]) == set(network.ACTIVATIONS)
    assert set(props["schedule"]["properties"]["name"]["enum"]) == set(schedules.SCHEDULES)
    experiments = props["replication"]["oneOf"][1]["items"]["enum"]
    assert set(experiments) == set(replication.EXPERIMENTS)


@pytest.mark.parametrize("name", ["config.yaml", "smoke.yaml"])
def test_shipped_configs_are_valid(name):
    config = validated(yaml.safe_load((REPO / "config" / name).read_text()), SCHEMA)
    assert config["gradcheck"]["threshold"] == 1e-7


def test_defaults_are_filled_in():
    config = copy.deepcopy(SMOKE)
    del config["datasets"]["circles"]["seed"]
    assert validated(config, SCHEMA)["datasets"]["circles"]["seed"] == 0


def test_an_edited_schema_is_read_again_and_a_validation_cannot_change_it(tmp_path):
    # Validation keeps the parsed schema between calls: an edit of the file
    # must still count, and filling defaults into one config must not leak
    # into the next.
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA.read_text())
    config = copy.deepcopy(SMOKE)
    del config["datasets"]["circles"]["seed"]
    assert validated(config, schema)["datasets"]["circles"]["seed"] == 0
    edited = copy.deepcopy(SCHEMA_DOC)
    edited["properties"]["datasets"]["additionalProperties"]["properties"]["seed"]["default"] = 7
    schema.write_text(yaml.safe_dump(edited))
    assert validated(config, schema)["datasets"]["circles"]["seed"] == 7
    schema.write_text(SCHEMA.read_text())
    assert validated(config, schema)["datasets"]["circles"]["seed"] == 0
    assert yaml.safe_load(SCHEMA.read_text()) == SCHEMA_DOC


@pytest.mark.parametrize(
    "path, value, words",
    [
        (("initializers", "bogus"), {}, ["initializers", "bogus"]),
        (("regularizers", "l2", "lambd"), -0.5, ["regularizers.l2.lambd", "-0.5", "minimum 0"]),
        (("regularizers", "dropout", "keep_prob"), 1.5, ["keep_prob", "1.5"]),
        (("optimizers", "adam", "method"), "adamw", ["optimizers.adam.method", "adamw", "'adam'"]),
        (("optimizers", "adam", "betaa"), 0.9, ["betaa", "misspelt"]),
        (("datasets", "circles", "epochs"), 0, ["datasets.circles.epochs", "0"]),
        (("datasets", "circles", "epochs"), "10", ["datasets.circles.epochs", "'10'", "integer"]),
        (("datasets", "circles", "epochs"), "many", ["datasets.circles.epochs", "'many'", "integer"]),
        (("optimizers", "adam", "learning_rate"), 0.1, ["optimizers.adam", "learning_rate", "misspelt"]),
        (("seeds",), [], ["seeds", "[]"]),
        (("seeds",), [1, 1], ["seeds"]),
        (("regularizers",), {}, ["regularizers"]),
        (("learning_rates", "grid"), [0.1, -1.0], ["learning_rates.grid", "-1.0"]),
    ],
)
def test_bad_values_get_one_message_naming_key_value_and_what_is_allowed(path, value, words):
    config = copy.deepcopy(SMOKE)
    target = config
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ConfigError) as excinfo:
        validated(config, SCHEMA)
    message = str(excinfo.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_fixed_rates_must_cover_every_optimizer():
    config = copy.deepcopy(SMOKE)
    config["learning_rates"] = {"tune": False, "fixed": {"gd": 0.1}}
    with pytest.raises(ConfigError, match="adam"):
        validated(config, SCHEMA)


def test_a_bad_dataset_file_is_refused_at_validation(tmp_path):
    config = copy.deepcopy(SMOKE)
    bad = tmp_path / "data.mat"
    bad.write_bytes(b"not a mat file")
    config["datasets"]["football"] = {
        **config["datasets"]["circles"],
        "source": "mat",
        "path": str(bad),
    }
    del config["datasets"]["football"]["params"]
    with pytest.raises(DataError, match="data.mat"):
        validated(config, SCHEMA)


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    section=st.sampled_from(sorted(SMOKE)),
    key=st.text(max_size=8) | st.sampled_from(["epochs", "lambd", "keep_prob", "method", "scale"]),
    value=_values,
)
def test_arbitrary_edits_either_validate_or_raise_config_error(section, key, value):
    config = copy.deepcopy(SMOKE)
    if isinstance(config[section], dict) and config[section]:
        first = next(iter(config[section]))
        if isinstance(config[section][first], dict):
            config[section][first][key] = value
        else:
            config[section][key] = value
    else:
        config[section] = value
    try:
        validated(config, SCHEMA)
    except ConfigError:
        pass


@settings(max_examples=100, deadline=None)
@given(config=st.dictionaries(st.text(max_size=12), _values, max_size=6))
def test_arbitrary_documents_raise_config_error(config):
    with pytest.raises(ConfigError):
        validated(config, SCHEMA)
