"""argparse types shared by every ``nar`` sub-command: numbers with their allowed range in the error."""
from __future__ import annotations

import argparse
import math


def number(kind: type, low: float, *, strict: bool = False, below: float | None = None):
    """An argparse type: a finite ``kind`` (int or float) >= ``low`` (> ``low`` if ``strict``; < ``below``)."""
    what = "an integer" if kind is int else "a number"
    bound = f"{'>' if strict else '>='} {low}" + (f" and < {below}" if below is not None else "")

    def parse(text: str):
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"must be {what} {bound}, got {text!r}") from None
        if not math.isfinite(value) or value < low or (strict and value == low) or \
                (below is not None and value >= below):
            raise argparse.ArgumentTypeError(f"must be {what} {bound}, got {text!r}")
        return value
    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


def int_at_least(low: int):
    """An argparse type: an integer >= ``low``."""
    return number(int, low)
