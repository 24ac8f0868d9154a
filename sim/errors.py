"""Errors a user can act on.

Every problem with user input (scenario files, options, calibration files) is
raised as `InputError`; the command line prints its message and exits with
status 2, without a traceback and without leaving a results folder behind.
"""


import os
from pathlib import Path


class InputError(Exception):
    """Bad input: names the file, the key, the value and what is allowed."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        self.file = file
        self.key = key
        where = ", ".join(part for part in (file and f"{file}", key and f"key '{key}'") if part)
        super().__init__(f"{where}: {message}" if where else message)


def writable_folder(folder: str | Path, key: str | None = None) -> Path:
    """The output folder, made if missing; an InputError when it cannot be made
    or takes no files (checked before any work, so nothing is half-written)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the output folder ({err.strerror})", file=str(folder), key=key) from None
    if not os.access(folder, os.W_OK):
        raise InputError("the output folder is not writable", file=str(folder), key=key)
    return folder


def caused_by_ctrl_c(err: BaseException) -> bool:
    """Whether a Ctrl-C lies behind `err`.  A KeyboardInterrupt raised while
    compiled code calls back into Python (numba unpickling a constant at a
    kernel's call, or compiling one) comes out of the call as a SystemError
    or a numba error whose cause is the KeyboardInterrupt."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, KeyboardInterrupt):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


class Interrupted(Exception):
    """A run that stopped before it finished; its finished tasks are kept in
    `staging`, and `zjsim run --resume staging` completes it."""

    def __init__(self, staging: Path, reason: str, keyboard: bool = False):
        self.staging, self.reason, self.keyboard = staging, reason, keyboard
        super().__init__(f"{reason}; the finished runs are kept in {staging}")
