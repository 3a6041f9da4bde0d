"""Errors that the command line reports as one line with exit status 2."""


class UserInputError(Exception):
    """Bad input from the user: a file, a run directory or a setting.

    The message names the offending file or setting and the problem in one line;
    the command line prints it without a traceback and exits with status 2.
    """
