"""Argument types the Python tools share (argparse `type=` callables).

Each raises argparse.ArgumentTypeError with one line naming the text it was
given, so a tool's usage error stays one line.
"""

import argparse
import math


def positive_int(text):
    """A whole number >= 1."""
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text):
    """A whole number >= 0."""
    return _int_at_least(text, 0, "an integer >= 0")


def int_at_least(minimum):
    """The type of a whole number >= minimum ("expected an integer >= N")."""
    return lambda text: _int_at_least(text, minimum, f"an integer >= {minimum}")


def three_floats(text):
    """Three finite comma-separated numbers ("0.485,0.456,0.406")."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected three comma-separated numbers, got '{text}'")
    return values


def _int_at_least(text, lo, what):
    try:
        value = int(text)
    except ValueError:
        value = lo - 1
    if value < lo:
        raise argparse.ArgumentTypeError(f"expected {what}, got '{text}'")
    return value
