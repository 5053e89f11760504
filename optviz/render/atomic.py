"""Write a file all at once or not at all.

    with atomic_output(Path("race.gif")) as temporary:
        write_everything_to(temporary)
    # now race.gif is complete; on any exception (Ctrl-C included) it is untouched and `temporary` is gone

The temporary file sits in the target's folder (so the final `os.replace` is a rename on one file system, atomic
on POSIX and Windows) under a hidden name that keeps the target's suffix, `.race.gif.1f2e3d4c.tmp.gif`, for encoders
that pick a format from the extension.

What is written where, when the name is already taken:
- a file: it is replaced and keeps its permission bits (a new file gets mode 0666 filtered by the umask);
- a symbolic link: the link stays, and the file it points to is replaced (atomically, in that file's folder), as
  `cp` and a shell's `>` would write through it; a link to a missing file creates that file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from optviz.errors import OutputError

_NAME_ATTEMPTS = 100


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a fresh empty temporary path next to `target`; on success fsync it and rename it onto `target`."""
    replaced = destination(Path(target))
    temporary = _create_temporary(replaced)
    try:
        yield temporary
        _keep_mode(replaced, temporary)
        _fsync_file(temporary)
        os.replace(temporary, replaced)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(temporary.parent)


def destination(target: Path) -> Path:
    """The file to replace: `target`, or for a symbolic link the file it points to (following chains of links)."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def _keep_mode(replaced: Path, temporary: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        mode = stat.S_IMODE(os.stat(replaced).st_mode)
        os.chmod(temporary, mode)


def _create_temporary(target: Path) -> Path:
    for _ in range(_NAME_ATTEMPTS):
        candidate = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp{target.suffix}")
        try:
            descriptor = os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise OutputError(f"cannot write '{target}': {error.strerror}") from error
        os.close(descriptor)
        return candidate
    raise OutputError(f"cannot write '{target}': no free temporary name in '{target.parent}'")


def _fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; folders cannot be opened on Windows, where this is skipped."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
