"""Input checks shared by the package: one clear sentence instead of a traceback from deep inside."""

from collections.abc import Iterable


def workers(value, cap: int | None = None) -> int:
    """Return ``value`` if it is a usable worker count (1..cap), else raise one clear ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"The number of workers must be a whole number, not {type(value).__name__} {value!r}.")
    if value < 1:
        raise ValueError(f"The number of workers must be at least 1, not {value}.")
    if cap is not None and value > cap:
        raise ValueError(f"The number of workers must be at most {cap} on this machine, not {value}.")
    return value


def positive_int(value, name: str) -> int:
    """Return ``value`` if it is a whole number of at least 1; ``name`` appears in the error."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}.")
    return value


def items(values: Iterable) -> list:
    """Return the tasks as a list, refusing an empty one (there would be nothing to time)."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise TypeError(f"The tasks must be a list (or other iterable) of inputs, not {type(values).__name__}.")
    values = list(values)
    if not values:
        raise ValueError("The task list is empty: give at least one input to run.")
    return values
