"""Checkers for the notebooks' "Check your understanding" exercises.

One module per notebook (`srlib.exercises.nb01`, ...). Each checker compares
the learner's answer with the reference in srlib, prints a verdict that says
what is wrong, and returns True or False so that tests can use it too.
"""
from __future__ import annotations


def verdict(ok: bool, success: str, failure: str) -> bool:
    """Print a one-line verdict and return `ok`."""
    print(("✅ " + success) if ok else ("❌ " + failure))
    return bool(ok)
