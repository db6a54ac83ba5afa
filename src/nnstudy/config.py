"""Validate a study configuration once, at the boundary, with one clear message.

:func:`validated` finds every configuration error before any job runs: the
JSON schema (with integers that must be written as integers), numbers that
are not finite anywhere, and the checks the schema cannot express (each
generator's parameters, the split fractions, the hyperparameters each
optimizer method takes, the package's registries, the lecture stages'
cross-references). :func:`read_yaml` reads a configuration file refusing
duplicate keys and naming the file and line of any syntax error; the
workflow reads every config file through it.
"""

import functools
import math
from pathlib import Path

import yaml

from nnstudy.errors import ConfigError

# What the command line (``nnstudy train``, ``nnstudy analyze``) uses for an
# option not given, so that a model trained by hand is one of the study's:
# the schema's default where it has one, else the default study's setting
# (config/config.yaml). tests/test_config.py keeps each equal to its source.
CLI_DEFAULTS = {
    # schema: datasets.<name>.seed, dev_fraction, test_fraction; hidden_activation
    "data_seed": 0,
    "dev_fraction": 0.2,
    "test_fraction": 0.2,
    "activation": "relu",
    # config/config.yaml: regularizers l2, dropout, early_stopping
    "lambd": 0.7,
    "keep_prob": 0.86,
    "patience": 8,
    # config/config.yaml: optimizers momentum, adam (rmsprop shares beta2, epsilon)
    "beta": 0.9,
    "beta1": 0.9,
    "beta2": 0.999,
    "epsilon": 1e-8,
    # schema: analysis.rope, analysis.target_effect
    "rope": 0.01,
    "target_effect": 0.02,
}


def _where(error):
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "(top level)"


def _describe(error):
    """One sentence: the key, the bad value and what is allowed."""
    kind, expected = error.validator, error.validator_value
    if kind == "enum":
        allowed = "one of " + ", ".join(map(repr, expected))
    elif kind == "propertyNames":
        # The offending name is the instance of the nested error.
        return f"'{_where(error)}': {error.message}"
    elif kind == "additionalProperties":
        return f"'{_where(error)}': {error.message} (misspelt key?)"
    elif kind == "required":
        return f"'{_where(error)}': {error.message}"
    elif kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        allowed = f"{kind} {expected}"
    elif kind == "type":
        allowed = f"type {expected}"
    elif kind in ("minItems", "minProperties"):
        allowed = f"at least {expected} entr{'y' if expected == 1 else 'ies'}"
    else:
        allowed = f"{kind} {expected!r}"
    return f"config key '{_where(error)}' = {error.instance!r} is not allowed: expected {allowed}"


def _fill_defaults(instance, schema):
    """Insert the schema's defaults into ``instance`` (objects only)."""
    if not isinstance(instance, dict) or schema.get("type") != "object":
        return
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = sub["default"]
        if key in instance:
            _fill_defaults(instance[key], sub)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key, value in instance.items():
            if key not in schema.get("properties", {}):
                _fill_defaults(value, extra)


def _refuse(where, value, allowed):
    return ConfigError(
        f"invalid configuration: config key '{where}' = {value!r} is not allowed: expected {allowed}"
    )


def _check_finite(value, where=()):
    """Refuse NaN and infinities anywhere: the schema's bounds let NaN through."""
    if isinstance(value, float) and not math.isfinite(value):
        raise _refuse(".".join(map(str, where)) or "(top level)", value, "a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, (*where, index))


def _schema_validator(schema):
    """A draft 2020-12 validator whose integers are ints: ``epochs: 40.0`` is refused.

    (The draft counts 40.0 as an integer; the code that reads the value
    then fails with a TypeError inside a job.)
    """
    import jsonschema

    def is_integer(checker, instance):
        return isinstance(instance, int) and not isinstance(instance, bool)

    base = jsonschema.Draft202012Validator
    strict = jsonschema.validators.extend(base, type_checker=base.TYPE_CHECKER.redefine("integer", is_integer))
    return strict(schema)


def _check_datasets(config):
    """Split fractions that leave training data, and each generator's parameters."""
    from nnstudy.data import datasets

    for name, entry in config["datasets"].items():
        dev, test = entry["dev_fraction"], entry["test_fraction"]
        if dev + test >= 1:
            raise _refuse(
                f"datasets.{name}.test_fraction", test, f"dev_fraction + test_fraction < 1 (dev_fraction is {dev})"
            )
        if entry["source"] in datasets.GENERATORS:
            try:
                datasets.generator_params(entry["source"], entry.get("params"))
            except ConfigError as err:
                # The message starts with the parameter's name: prefix its path.
                raise ConfigError(f"invalid configuration: datasets.{name}.params.{err}") from None


def _check_optimizers(config):
    """Every hyperparameter given is one the optimizer's method takes."""
    from nnstudy.core.optimizers import OPTIMIZERS

    for name, entry in config["optimizers"].items():
        accepted = OPTIMIZERS[entry["method"]][1]
        for key, value in entry.items():
            if key not in ("method", "mini_batch", *accepted):
                takes = ", ".join(accepted) or "no hyperparameters"
                raise _refuse(
                    f"optimizers.{name}.{key}", value,
                    f"only what method {entry['method']!r} takes ({takes}): a key it ignores is a mistake",
                )


@functools.lru_cache(maxsize=4)
def _parsed_schema(text):
    """The schema's text, parsed once per content: parsing is most of a validation's time."""
    return yaml.safe_load(text)


def validated(config, schema_path, notes=None):
    """Check ``config`` against the JSON schema and the package's registries.

    Returns a copy with the schema's defaults filled in and the course-file
    datasets resolved (:func:`nnstudy.data.course_files.resolve`); raises
    ConfigError with one message naming the key, the value and what is
    allowed. ``notes``, a list, receives one sentence per dataset that was
    replaced or skipped for missing course files.
    """
    import copy

    import jsonschema

    from nnstudy.lectures import check_lectures
    from nnstudy.study.grid import check_config

    schema = copy.deepcopy(_parsed_schema(Path(schema_path).read_text()))
    config = copy.deepcopy(dict(config))
    _check_finite(config)
    validator = _schema_validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        if error.context:
            error = jsonschema.exceptions.best_match(error.context)
        raise ConfigError("invalid configuration: " + _describe(error))
    _fill_defaults(config, schema)
    from nnstudy.data import course_files

    config, resolved = course_files.resolve(config)
    if notes is not None:
        notes.extend(resolved)
    _check_datasets(config)
    _check_optimizers(config)
    return check_lectures(check_config(config))


class _StrictLoader(yaml.SafeLoader):
    """The safe YAML loader, refusing a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):
        self.flatten_mapping(node)
        first = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                seen = key in first
            except TypeError:  # an unhashable key: the base class words that error
                break
            if seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark,
                    f"found the key {key!r} again (first given on line {first[key] + 1})",
                    key_node.start_mark,
                )
            first[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)



def read_yaml(path):
    """The configuration in YAML file ``path``, a dict.

    Raises ConfigError naming the file and, for a syntax error or a key
    given twice, the line and column.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ConfigError(f"cannot read configuration {path}: {err}") from err
    try:
        config = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        raise ConfigError(f"invalid configuration file {where}: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"invalid configuration file {path}: {err}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"configuration {path} is not a mapping of keys to values")
    return config


def load(path, schema_path):
    """Read a YAML configuration file and validate it."""
    return validated(read_yaml(path), schema_path)
