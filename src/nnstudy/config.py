"""Validate a study configuration once, at the boundary, with one clear message."""

from pathlib import Path

import yaml

from nnstudy.errors import ConfigError


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


def validated(config, schema_path):
    """Check ``config`` against the JSON schema and the package's registries.

    Returns a copy with the schema's defaults filled in; raises ConfigError
    with one message naming the key, the value and what is allowed.
    """
    import copy

    import jsonschema

    from nnstudy.study import check_config

    schema = yaml.safe_load(Path(schema_path).read_text())
    config = copy.deepcopy(dict(config))
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        if error.context:
            error = jsonschema.exceptions.best_match(error.context)
        raise ConfigError("invalid configuration: " + _describe(error))
    _fill_defaults(config, schema)
    return check_config(config)


def load(path, schema_path):
    """Read a YAML configuration file and validate it."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read configuration {path}: {err}") from err
    if not isinstance(config, dict):
        raise ConfigError(f"configuration {path} is not a mapping of keys to values")
    return validated(config, schema_path)
