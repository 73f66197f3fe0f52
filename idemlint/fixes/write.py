"""Writing a fixed file back: atomically, never over a read-only file, never changing owners.

The new text goes to a temporary file next to the target, is flushed to disk, then renamed
over it, so a crash leaves either the old or the new file, never half of one. A temporary file
is named ``.<name>.idemlint-<pid>-<random>.tmp``: if the process is killed between creating and
renaming it, a later run that writes into the same directory removes it once its process is
gone (see ``remove_stale_temps``).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from pathlib import Path

TEMP_SUFFIX = ".tmp"
_TEMP = re.compile(r"^\..+\.idemlint-(\d+)-[A-Za-z0-9_]+\.tmp$")
# Earlier versions named temporary files `.<name>.<8 random>.idemlint`, without the writer's id.
# A write lasts milliseconds, so one older than this is a leftover.
_LEGACY_TEMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.idemlint$")
LEGACY_MAX_AGE = 600.0
# When this process started: temporary files younger than that may belong to a run that is
# still going on in a process whose id was reused; they are left alone.
_STARTED = time.time()
_CLEANED: set[Path] = set()


class NotWritten(Exception):
    """The fix was computed but the file was deliberately left alone (``reason`` says why)."""

    def __init__(self, reason: str, vanished: bool = False, changed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.vanished = vanished  # the file no longer exists
        self.changed = changed  # the file changed on disk since it was read


def temp_prefix(name: str) -> str:
    return f".{name}.idemlint-{os.getpid()}-"


def write_atomically(path: Path, expected: bytes, data: bytes) -> str | None:
    """Replace ``path`` with ``data`` unless it changed since it was read; None on success,
    else why it was not written."""
    try:
        replace_file(path, expected, data)
    except NotWritten as refused:
        return refused.reason
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def replace_file(path: Path, expected: bytes, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, keeping its mode and owner.

    Raises ``NotWritten`` when the file is read-only, owned by someone this process cannot
    give it back to, vanished or changed since it was read (``expected``): those are states of
    the user's files, not failures of the run. Other failures raise ``OSError``.
    """
    try:
        info = path.stat()
        current = path.read_bytes()
    except FileNotFoundError:
        raise NotWritten("the file was deleted during the run", vanished=True) from None
    if current != expected:
        raise NotWritten("the file changed while it was being fixed", changed=True)
    if not _writable(info):
        raise NotWritten("the file is read-only")
    target = path.resolve()
    directory = target.parent
    remove_stale_temps(directory)
    fd, temp = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=TEMP_SUFFIX,
                                dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, stat.S_IMODE(info.st_mode))
        _keep_owner(temp, info)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _writable(info: os.stat_result) -> bool:
    """Whether the file's mode lets this process write it. Root may write anything, but a
    file without any write bit is read-only by intent, so it is left alone for root too."""
    mode = info.st_mode
    if not hasattr(os, "geteuid"):  # pragma: no cover (Windows: the read-only attribute)
        return bool(mode & stat.S_IWRITE)
    uid = os.geteuid()
    if uid == 0:
        return bool(mode & 0o222)
    if info.st_uid == uid:
        return bool(mode & stat.S_IWUSR)
    if info.st_gid in (os.getegid(), *os.getgroups()):
        return bool(mode & stat.S_IWGRP)
    return bool(mode & stat.S_IWOTH)


def _keep_owner(temp: str, info: os.stat_result) -> None:
    """The renamed file must keep its owner and group; refuse if that is not possible."""
    if not hasattr(os, "geteuid"):  # pragma: no cover
        return
    uid = info.st_uid if info.st_uid != os.geteuid() else -1
    gid = info.st_gid if info.st_gid != os.getegid() else -1
    if uid == -1 and gid == -1:
        return
    try:
        os.chown(temp, uid, gid)
    except PermissionError:
        raise NotWritten(
            f"the file belongs to another user or group (uid {info.st_uid}, gid {info.st_gid}) "
            "and rewriting it would change that"
        ) from None


def remove_stale_temps(directory: Path) -> list[Path]:
    """Remove temporary files left in ``directory`` by runs that were killed mid-write (their
    process is gone and the file predates this run). Once per directory per process."""
    if directory in _CLEANED:
        return []
    _CLEANED.add(directory)
    removed: list[Path] = []
    try:
        with os.scandir(directory) as entries:
            candidates = [e.name for e in entries
                          if e.name.startswith(".") and e.name.endswith((".tmp", ".idemlint"))]
    except OSError:
        return removed
    for name in candidates:
        path = directory / name
        match = _TEMP.match(name)
        try:
            if match is not None:
                if _alive(int(match.group(1))) or path.lstat().st_mtime >= _STARTED:
                    continue
            elif _LEGACY_TEMP.match(name) is None or (
                path.lstat().st_mtime > _STARTED - LEGACY_MAX_AGE
            ):
                continue
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, belongs to someone else (or cannot tell: keep the file)
    return True
