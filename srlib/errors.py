"""One exception type for every mistake a learner can fix.

`SrlibError` carries a message that says what went wrong and what to do. The
command line prints it as one line; Jupyter shows it as one line too (through
IPython's `_render_traceback_` hook), never as a wall of traceback.
"""


class SrlibError(Exception):
    """An error whose message tells the user what to do next."""

    def _render_traceback_(self):  # IPython calls this instead of printing a traceback
        return [f"\x1b[31mSrlibError\x1b[0m: {self}"]


class Interrupted(SrlibError):
    """Ctrl-C stopped a long job at a safe point; the message says what was kept and how to go on."""
