"""One file: verify what is there, else transfer to ``.part`` (resuming with a range), check, rename.

Every transfer goes to ``<final name>.part`` in the output folder, is checked against the plan's
MD5 (or, for the vocabulary, parsed), and only then renamed (``os.replace``) to its final name. A
file already under its final name is hashed, not trusted; one that does not match is removed and
fetched again. A dropped connection keeps the ``.part``, and the next attempt (or run) continues
it with ``Range: bytes=N-``, or starts again where the server ignores ranges. A ``.part`` whose
bytes fail the check is deleted.

>>> task = Task("http://us.data.yt8m.org/2/video/train/trainbI.tfrecord", Path("out/train0096.tfrecord"))
>>> task.part.name
'train0096.tfrecord.part'
"""

import dataclasses
import enum
import hashlib
import http.client
import os
import re
import socket
import threading
from pathlib import Path

from course_lib.download.network import (
    Action,
    DownloadError,
    Failure,
    Stop,
    Stopped,
    local_failure,
    network_failure,
    open_url,
    retrying,
)
from course_lib.download.protocol import PART_SUFFIX

CHUNK = 1 << 16  # bytes read and written at a time


class State(enum.Enum):
    """How one file ended; the value is the :class:`~course_lib.download.Summary` field."""

    FETCHED = "fetched"
    SKIPPED = "skipped"  # already there and verified
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"  # the run stopped first


def md5_file(path):
    """The MD5 hex digest of the file at ``path``, read in 1 MiB blocks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_vocabulary(path):
    """Why ``path`` is not a YouTube-8M vocabulary, or ``None`` (loads no TensorFlow)."""
    from course_lib.data.vocabulary import read_vocabulary

    try:
        read_vocabulary(path)
    except ValueError as error:
        return f"not a valid vocabulary: {error}"
    return None


@dataclasses.dataclass(frozen=True)
class Task:
    """One file to have: ``url`` -> ``path``, checked by ``md5`` (shards) or ``check`` (a function
    of a path returning a problem or ``None``: the vocabulary). ``plan`` and ``name`` are the
    :class:`~course_lib.download.plan.Plan` entry to mark when the file is verified."""

    url: str
    path: Path
    md5: str = None
    check: object = None
    plan: object = None
    name: str = ""

    @property
    def part(self):
        return self.path.with_name(self.path.name + PART_SUFFIX)

    def problem(self, path):
        """Why the file at ``path`` is not the right one, or ``None``."""
        if self.md5 is not None:
            got = md5_file(path)
            if got.lower() != self.md5.lower():
                return f"MD5 mismatch for {self.url}: expected {self.md5}, got {got}"
            return None
        return self.check(path) if self.check else None

    def mark(self, done):
        if self.plan:
            self.plan.mark(self.name, done=done)


@dataclasses.dataclass
class Transfers:
    """What the worker threads of one run share: settings, the stop signal, the byte count."""

    retries: int
    stop: Stop
    bytes_bar: object  # a tqdm bar, or anything with update(n)
    on_retry: object  # called with a message before each retry
    fetched_bytes: int = 0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    responses: set = dataclasses.field(default_factory=set)  # open transfers, to cut on Ctrl-C

    def add_bytes(self, count):
        with self.lock:
            self.fetched_bytes += count
        self.bytes_bar.update(count)

    def cut(self):
        """Wake transfers blocked on a stalled connection (Ctrl-C): shut their sockets down."""
        with self.lock:
            responses = list(self.responses)
        for response in responses:
            try:  # http.client keeps the socket in fp.raw._sock: the one way to end a blocked read
                response.fp.raw._sock.shutdown(socket.SHUT_RDWR)
            except (AttributeError, OSError):
                pass


def _write(file, data):
    """One chunk to disk (a seam for tests that simulate a full disk)."""
    file.write(data)


def _transfer(task, run):
    """One attempt: continue ``task.part`` with a range request, or start it."""
    part = task.part
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = open_url(task.url, offset)
    except Failure as error:
        if error.status != 416:
            raise
        # The .part is as long as the file or longer: complete (checked next) or wrong (restart).
        if task.problem(part) is None:
            return
        part.unlink()
        return _transfer(task, run)
    with run.lock:
        run.responses.add(response)
    try:
        _receive(task, run, response, offset)
    finally:
        with run.lock:
            run.responses.discard(response)
        response.close()


def _open_part(task, response, offset):
    """``(file, offset)``: the ``.part`` appended to when the server resumed at ``offset``, else
    truncated (the server ignored the range) with offset 0."""
    mode = "wb"
    if offset and response.status == 206:
        match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
        if match and int(match.group(1)) == offset:
            mode = "ab"
    try:
        return open(task.part, mode), offset if mode == "ab" else 0
    except OSError as error:
        raise local_failure(error, task.part) from None


def _receive(task, run, response, offset):
    """Write ``response`` to ``task.part``; a short body is a ``RETRY`` failure."""
    length = response.headers.get("Content-Length")
    expected = int(length) if length and length.isdigit() else None
    received = 0
    file, offset = _open_part(task, response, offset)
    try:
        with file:
            while not run.stop.is_set():
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as error:
                    raise network_failure(error, task.url) from None
                if not chunk:
                    break
                try:
                    _write(file, chunk)
                except OSError as error:
                    raise local_failure(error, task.part) from None
                received += len(chunk)
                run.add_bytes(len(chunk))
    except OSError as error:  # only the close is left: it writes the last buffered bytes (a full disk shows here)
        raise local_failure(error, task.part) from None
    if run.stop.is_set():
        raise Stopped()
    if expected is not None and received < expected:
        raise Failure(f"connection dropped after {offset + received:,} of {offset + expected:,} bytes of {task.url}",
                      Action.RETRY)


def _attempt(task, run):
    _transfer(task, run)
    problem = task.problem(task.part)  # the bytes on disk, not the bytes we meant to write
    if problem:
        task.part.unlink()  # wrong, not just short: start again
        raise Failure(problem, Action.RETRY)
    os.replace(task.part, task.path)


def _fetch(task, run):
    """Verify the file under its final name, else fetch it (with retries); a :class:`State`."""
    if task.path.exists():
        problem = task.problem(task.path)
        if problem is None:
            task.mark(done=True)
            return State.SKIPPED
        run.on_retry(f"{task.path} is not the published file ({problem}): fetching it again")
        task.path.unlink()
    retrying(lambda: _attempt(task, run), run.retries, run.stop, run.on_retry)
    task.mark(done=True)
    return State.FETCHED


def run_task(task, run):
    """Have ``task``'s file: ``(State, reason or None)``. Never raises but ``KeyboardInterrupt``;
    a failure whose kind is ``STOP`` (or a local file that cannot be read) also stops the run."""
    if run.stop.is_set():
        return State.NOT_ATTEMPTED, None
    try:
        return _fetch(task, run), None
    except Stopped:
        return State.NOT_ATTEMPTED, None
    except Failure as error:
        reason = str(error)
        if error.final is Action.STOP:
            run.stop.set(error.stop_message())
    except DownloadError as error:  # saving the plan
        reason = str(error)
        run.stop.set(reason)
    except OSError as error:  # verifying or replacing a local file
        reason = f"{getattr(error, 'filename', None) or task.path}: {error.strerror or error}"
        run.stop.set(f"cannot access {reason}")
    if task.plan and task.name in task.plan.verified:
        task.mark(done=False)
    return State.FAILED, reason
