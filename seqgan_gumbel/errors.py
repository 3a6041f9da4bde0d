"""Errors that the command line reports as one line with exit status 2."""


class UserInputError(Exception):
    """Bad input from the user: a file, a run directory or a setting.

    The message names the offending file or setting and the problem in one line;
    the command line prints it without a traceback and exits with status 2.
    """


class TrainingInterrupted(Exception):
    """Training stopped on request (Ctrl-C) after saving a checkpoint; exit status 130."""


class TrainingDiverged(Exception):
    """A loss became NaN or infinite; training stopped, the last good checkpoint kept; exit status 1."""
