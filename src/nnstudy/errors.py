"""The package's error types and the one helper that words them."""


class ConfigError(ValueError):
    """A parameter or configuration value is not allowed."""


class DataError(ValueError):
    """A dataset file or array is missing, malformed or unusable."""


def invalid(name, value, allowed, error=ConfigError):
    """Build an error that names the parameter, the bad value and what is allowed."""
    return error(f"{name}={value!r} is not allowed: expected {allowed}")


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``; raise ConfigError otherwise."""
    if value not in choices:
        raise invalid(name, value, "one of " + ", ".join(map(repr, sorted(choices))))
    return value
