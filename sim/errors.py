"""Errors a user can act on.

Every problem with user input (scenario files, options, calibration files) is
raised as `InputError`; the command line prints its message and exits with
status 2, without a traceback and without leaving a results folder behind.
"""


class InputError(Exception):
    """Bad input: names the file, the key, the value and what is allowed."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        self.file = file
        self.key = key
        where = ", ".join(part for part in (file and f"{file}", key and f"key '{key}'") if part)
        super().__init__(f"{where}: {message}" if where else message)
