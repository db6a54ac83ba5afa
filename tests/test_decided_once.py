"""Decisions written once: steps per epoch, the output layer, the defaults."""

import ast
import re
from pathlib import Path

import pytest
import yaml

from nnstudy import cli, config
from nnstudy.core.batches import steps_per_epoch
from nnstudy.data.datasets import one_hot_targets, output_layer
from nnstudy.study import grid
from nnstudy.study.experiment import architecture_for

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "src" / "nnstudy").rglob("*.py"))
SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
DEFAULT_STUDY = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.mark.parametrize(
    "m, batch_size, steps",
    [(100, None, 1), (100, 100, 1), (100, 500, 1), (100, 64, 2), (128, 64, 2), (129, 64, 3), (1, 1, 1)],
)
def test_steps_per_epoch_keeps_the_last_partial_batch(m, batch_size, steps):
    assert steps_per_epoch(m, batch_size) == steps


def test_only_one_function_counts_the_steps_of_an_epoch():
    # A step count written inline: ceil(m / batch...) or -(-m // batch...).
    inline = re.compile(r"ceil\(\s*\w+\s*/\s*\w*batch|//\s*\w*batch")
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for path in SOURCES if path.name != "batches.py"
        for number, line in enumerate(path.read_text().splitlines(), 1) if inline.search(line)
    ]
    assert not found


def test_two_classes_are_one_sigmoid_unit_and_more_a_softmax():
    assert output_layer(2) == ("sigmoid", 1)
    assert output_layer(10) == ("softmax", 10)
    assert one_hot_targets([0, 1, 1], 2).shape == (1, 3)
    assert one_hot_targets([0, 2, 1], 3).shape == (3, 3)

    class Splits:
        n_features, n_classes = 4, 2

    assert architecture_for(Splits, [5]).layer_sizes[-1] == 1


def test_only_one_function_says_two_classes_mean_a_sigmoid():
    found = [
        str(path.relative_to(REPO)) for path in SOURCES
        if re.search(r"n_classes == 2 else", path.read_text())
    ]
    assert found == ["src/nnstudy/data/splits.py"]


def _literal_defaults(path):
    """Calls ``x.get(key, default)`` with a literal default other than None."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and len(node.args) == 2):
            default = node.args[1]
            literal = isinstance(default, ast.Constant) and default.value is not None
            if literal or (isinstance(default, (ast.Dict, ast.List)) and (default.keys if isinstance(default, ast.Dict) else default.elts)):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_grid_repeats_no_default_of_the_schema():
    assert not _literal_defaults(REPO / "src" / "nnstudy" / "study" / "grid.py")


def _schema_default(*keys):
    node = SCHEMA
    for key in keys:
        node = node["properties"][key] if key != "<name>" else node["additionalProperties"]
    return node["default"]


def test_the_command_line_defaults_are_the_schemas_and_the_default_studys():
    sources = {
        "data_seed": _schema_default("datasets", "<name>", "seed"),
        "dev_fraction": _schema_default("datasets", "<name>", "dev_fraction"),
        "test_fraction": _schema_default("datasets", "<name>", "test_fraction"),
        "activation": _schema_default("hidden_activation"),
        "rope": _schema_default("analysis", "rope"),
        "target_effect": _schema_default("analysis", "target_effect"),
        "lambd": DEFAULT_STUDY["regularizers"]["l2"]["lambd"],
        "keep_prob": DEFAULT_STUDY["regularizers"]["dropout"]["keep_prob"],
        "patience": DEFAULT_STUDY["regularizers"]["early_stopping"]["patience"],
        "beta": DEFAULT_STUDY["optimizers"]["momentum"]["beta"],
        "beta1": DEFAULT_STUDY["optimizers"]["adam"]["beta1"],
        "beta2": DEFAULT_STUDY["optimizers"]["adam"]["beta2"],
        "epsilon": DEFAULT_STUDY["optimizers"]["adam"]["epsilon"],
    }
    assert config.CLI_DEFAULTS == sources


def test_the_command_line_uses_those_defaults():
    args = cli.build_parser().parse_args(["train", "--dataset", "circles"])
    for name, value in config.CLI_DEFAULTS.items():
        if hasattr(args, name):
            assert getattr(args, name) == value, name
    assert args.patience == 8
    analyze = cli.build_parser().parse_args(["analyze", "runs.csv", "--out", "x"])
    assert (analyze.rope, analyze.target_effect) == (0.01, 0.02)


def test_the_schedule_reaches_training_and_its_absence_is_a_constant_rate():
    class Splits:
        X_train = __import__("numpy").zeros((2, 100))

    study = {"datasets": {"d": {"batch_size": 32, "epochs": 3, "eval_every": 2}},
             "optimizers": {"sgd": {"method": "gd", "mini_batch": True}}}
    plain = grid.train_config(study, "d", "sgd", Splits)
    assert (plain.schedule, plain.decay_rate, plain.eval_every) == ("constant", 0.0, 2 * 4)
    decayed = grid.train_config({**study, "schedule": {"name": "step", "decay_rate": 0.5, "decay_interval": 2}},
                                "d", "sgd", Splits)
    assert (decayed.schedule, decayed.decay_rate, decayed.decay_interval) == ("step", 0.5, 2)


def _keys_with_defaults(node):
    """Every key to which the schema gives a default, at any depth (lecture sections included)."""
    keys = set()
    if isinstance(node, dict):
        for key, sub in (node.get("properties") or {}).items():
            if isinstance(sub, dict) and "default" in sub:
                keys.add(key)
        for value in node.values():
            keys |= _keys_with_defaults(value)
    elif isinstance(node, list):
        for value in node:
            keys |= _keys_with_defaults(value)
    return keys


SCHEMA_DEFAULTED_KEYS = _keys_with_defaults(SCHEMA)


def _is_literal(node):
    if isinstance(node, ast.Constant):
        return node.value is not None
    return isinstance(node, (ast.Dict, ast.List, ast.Tuple, ast.Set))


def _get_of_defaulted_key(node):
    """The key of ``x.get("<key>", ...)`` when the schema gives ``<key>`` a default, else None."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and node.args and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in SCHEMA_DEFAULTED_KEYS):
        return node.args[0].value
    return None


def repeated_schema_defaults(source):
    """``.get("<key>", <literal>)`` and ``.get("<key>") or <literal>`` for a key the schema fills in."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _get_of_defaulted_key(node) and len(node.args) == 2 \
                and _is_literal(node.args[1]):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and _get_of_defaulted_key(node.values[0]) \
                and len(node.values[0].args) == 1 and any(_is_literal(v) for v in node.values[1:]):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_check_for_repeated_defaults_finds_both_forms_and_spares_other_dicts():
    assert {"replication", "max_shift", "dev_fraction", "course_files_missing"} <= SCHEMA_DEFAULTED_KEYS
    planted = 'a = options.get("max_shift", 1)\nb = config.get("replication") or True\nc = d.get("max_rotation", [])\n'
    assert len(repeated_schema_defaults(planted)) == 3
    unrelated = 'a = counts.get(v, 0)\nb = row.get("verdict", "")\nc = config.get("replication")\nd = e.get("dev_fraction", f)\n'
    assert not repeated_schema_defaults(unrelated)


def test_only_the_schema_holds_the_defaults_it_fills_in():
    # A config that reaches the package went through config.validated: the
    # schema's defaults are in it, so a fallback there is a second copy.
    found = {
        str(path.relative_to(REPO)): repeated_schema_defaults(path.read_text())
        for path in SOURCES if path.name not in ("config.py", "config_doc.py")
    }
    assert not {path: lines for path, lines in found.items() if lines}
