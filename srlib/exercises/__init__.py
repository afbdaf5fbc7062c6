"""Checkers for the notebooks' "Check your understanding" exercises.

One module per notebook (`srlib.exercises.nb01`, ...). Each checker compares
the learner's answer with the reference in srlib, prints a verdict that says
what is wrong, and returns True or False so that tests can use it too.
"""
from __future__ import annotations

import math
import numbers

import numpy as np


def verdict(ok: bool, success: str, failure: str) -> bool:
    """Print a one-line verdict and return `ok`."""
    print(("✅ " + success) if ok else ("❌ " + failure))
    return bool(ok)


def scalar_problem(got, why: str, how: str) -> str | None:
    """What is wrong with a learner's loss that must be a one-number tensor (None: nothing).

    `why` says why it must be a tensor, `how` how to reduce it to one number.
    """
    import torch

    if not isinstance(got, torch.Tensor):
        return f"return a torch tensor ({why}); got {type(got).__name__}."
    if got.numel() != 1:
        return f"return one number, {how}; got a tensor of shape {tuple(got.shape)}."
    return None


def call(fn, *args, **kwargs):
    """Run the learner's function; return (value, None) or (None, what went wrong in one line).

    A learner's function that raises (the `NotImplementedError` of an unedited
    exercise cell, or a bug) gets a verdict, not a traceback.
    """
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError:
        return None, "not answered yet: replace the `raise NotImplementedError` with your code."
    except Exception as e:  # a learner's bug: report it in one line
        return None, f"your code raised {type(e).__name__}: {e}"


def notebook_solutions(notebook, namespace: dict, expected_blocks: int) -> dict:
    """Execute the python blocks of a notebook's <details> solutions in `namespace` (for tests)."""
    import json
    import re
    from pathlib import Path

    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    blocks = 0
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown" and "<summary>Solution</summary>" in src:
            for block in re.findall(r"```python\n(.*?)```", src, flags=re.S):
                exec(block, namespace)  # noqa: S102 - the course's own solution text
                blocks += 1
    if blocks != expected_blocks:
        raise AssertionError(f"expected {expected_blocks} solution blocks in {Path(notebook).name}, found {blocks}")
    return namespace


def whole_number(value) -> int | None:
    """`value` as an int if it is a whole number (16, 16.0, np.int64(16)); None otherwise (16.9, "16", True).

    int() would truncate 16.9 to 16 and accept it: a checker must not.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    if not math.isfinite(value) or value != int(value):
        return None
    return int(value)


def whole_numbers(answer, count: int) -> tuple[int, ...] | None:
    """A sequence of `count` whole numbers as a tuple of ints; None if it is anything else."""
    try:
        values = tuple(whole_number(v) for v in answer)
    except TypeError:  # not iterable
        return None
    return values if len(values) == count and None not in values else None
