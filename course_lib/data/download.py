"""Download real YouTube-8M the way the official script does, but safely.

``python -m course_lib download --partition 2/video/train --shard 1,100`` (also
``data_scripts/download_yt8m.py``). The protocol is the official one (``DOWNLOAD.md`` beside the
project's data):

1. Plan: ``http://data.yt8m.org/{V}/download_plans/{LEVEL}_{SPLIT}.json``,
   ``{"files": {"trainbI.tfrecord": "<md5>", ...}}``. It is saved in the output folder as
   ``{V}_{LEVEL}_{SPLIT}_download_plan.json`` and read from there on later runs. ``"files"`` is a
   to-do list, as in the official script: a verified entry leaves it. We move it to an extra
   ``"verified"`` map (the official script ignores the key), so a later run can still check it.
2. Fraction ``--shard X,Y``: a file is taken when ``int(md5(name), 16) % Y == X - 1``
   (:func:`is_selected`), the official rule, so the same fraction picks the same files.
3. Shards: ``http://{mirror}.data.yt8m.org/{V}/{LEVEL}/{SPLIT}/{name}``; local name
   ``trainbI.tfrecord`` -> ``train0096.tfrecord`` (:func:`local_name`, the mapping of
   :func:`course_lib.data.names.shard_code`).
4. ``--vocabulary``: ``https://research.google.com/youtube8m/csv/{V}/vocabulary.csv`` (where the
   dataset's site links it), saved as ``vocabulary.csv`` once it parses as a vocabulary.

With ``--base-url URL`` everything comes from one tree (tests, private mirrors): the plan from
``URL/{V}/download_plans/{LEVEL}_{SPLIT}.json``, shards from ``URL/{V}/{LEVEL}/{SPLIT}/{name}``,
the vocabulary from ``URL/{V}/vocabulary.csv``.

What the official script does badly and this module does not:

- Every transfer goes to ``<final name>.part`` in the output folder, is checked against the plan's
  MD5, and only then renamed (``os.replace``) to its final name. A file already under its final
  name is hashed, not trusted (on every run, so a second run over the whole train set re-reads
  its 17 GB from disk); one that does not match is removed and fetched again.
- Ctrl-C, a dropped connection or a full disk leave at most a ``.part`` file, never a broken shard
  under a final name. The ``.part`` is kept and the next run resumes it with an HTTP range request
  (or from scratch where the server ignores ranges). A ``.part`` whose bytes fail the MD5 check is
  deleted. To reclaim the space of an abandoned download, delete ``*.part``.
- Transient errors (dropped connections, time-outs, HTTP 5xx/408/429, an MD5 mismatch) are retried
  with exponential backoff; any other HTTP 4xx (404, 403, ...) fails the file at once. No network, a full disk or any failed
  file give a one-line message and a non-zero exit, after the summary (fetched, skipped as already
  verified, failed).
- Progress bars (files and bytes) that stay quiet when the output is not a terminal.

After a download into the default folder, ``settings.data_dir()`` finds the shards, so
``load_yt8m`` and the notebooks use them unchanged. Shown in the README's "Real data" section.

Example::

    from course_lib.data import download
    download.download(["2/video/train", "2/video/validate"], shard="1,100")
"""

import concurrent.futures
import dataclasses
import errno
import hashlib
import http.client
import json
import os
import re
import socket
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from course_lib.data.names import code_index

LEVELS = ("video", "frame")
SPLITS = ("train", "validate", "test")
MIRRORS = ("us", "eu", "asia")

PLAN_URL = "http://data.yt8m.org/{version}/download_plans/{level}_{split}.json"
SHARD_URL = "http://{mirror}.data.yt8m.org/{partition}/{name}"
VOCABULARY_URL = "https://research.google.com/youtube8m/csv/{version}/vocabulary.csv"
BASE_PLAN_URL = "{base}/{version}/download_plans/{level}_{split}.json"
BASE_SHARD_URL = "{base}/{partition}/{name}"
BASE_VOCABULARY_URL = "{base}/{version}/vocabulary.csv"

JOBS = 4
RETRIES = 3
BACKOFF = 1.0  # seconds before the first retry, doubled for each further one
TIMEOUT = 60.0  # seconds without a byte before a transfer counts as stalled
CHUNK = 1 << 16
PART_SUFFIX = ".part"
USER_AGENT = "course_lib-download/0.1 (+YouTube-8M course)"

_SERVER_NAME = re.compile(r"^(train|validate|test)([A-Za-z0-9]{2})\.tfrecord$")
_PARTITION = re.compile(r"^(\d+)/(video|frame)/(train|validate|test)$")
_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_UNREACHABLE = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}


class DownloadError(OSError):
    """A download that could not be done: the message names the URL or file and what to do.

    ``summary`` holds the :class:`Summary` of the run when transfers had started (else ``None``).
    """

    summary = None


# ---------------------------------------------------------------------------------------------
# The protocol: partitions, selection, names, URLs


@dataclasses.dataclass(frozen=True)
class Partition:
    """``V/LEVEL/SPLIT``, e.g. ``2/video/train``."""

    version: str
    level: str
    split: str

    @classmethod
    def parse(cls, text):
        if isinstance(text, Partition):
            return text
        match = _PARTITION.match(str(text).strip().strip("/"))
        if not match:
            raise ValueError(
                "partition must be V/LEVEL/SPLIT with LEVEL video or frame and SPLIT train, validate "
                f"or test, e.g. 2/video/train. Received: partition={text!r}"
            )
        return cls(*match.groups())

    def __str__(self):
        return f"{self.version}/{self.level}/{self.split}"

    @property
    def plan_filename(self):
        """The official local plan name: ``2/video/train`` -> ``2_video_train_download_plan.json``."""
        return f"{str(self).replace('/', '_')}_download_plan.json"


def parse_shard(text):
    """``"X,Y"`` (or a pair) -> ``(X, Y)`` with ``1 <= X <= Y``; ``None`` stays ``None`` (all files)."""
    if text is None:
        return None
    try:
        x, y = (int(v) for v in (text.split(",") if isinstance(text, str) else text))
    except (TypeError, ValueError):
        raise ValueError(f"shard must be X,Y with integers 1 <= X <= Y, e.g. 1,100. Received: shard={text!r}") from None
    if not 1 <= x <= y:
        raise ValueError(f"shard must be X,Y with 1 <= X <= Y, e.g. 1,100. Received: shard={text!r}")
    return x, y


def is_selected(name, shard):
    """The official fraction rule: ``name`` is in fraction ``X`` of ``Y`` when
    ``int(md5(name).hexdigest(), 16) % Y == X - 1``. ``shard=None`` selects everything."""
    if shard is None:
        return True
    x, y = parse_shard(shard)
    return int(hashlib.md5(name.encode()).hexdigest(), 16) % y == x - 1


def local_name(server_name):
    """The official local name: ``trainaa.tfrecord`` -> ``train0000.tfrecord``, ``trainbI`` -> 0096,
    ``train99`` -> 3843 (the index of the two characters, as in :func:`names.shard_code`)."""
    match = _SERVER_NAME.match(server_name)
    if not match:
        raise ValueError(
            "a YouTube-8M server name is SPLIT + two characters from a-z A-Z 0-9 + .tfrecord, e.g. "
            f"trainbI.tfrecord. Received: name={server_name!r}"
        )
    split, code = match.groups()
    return f"{split}{code_index(code):04d}.tfrecord"


def _base(base_url):
    return base_url.rstrip("/")


def plan_url(partition, base_url=None):
    """Where the plan of ``partition`` is published (or under ``base_url``)."""
    p = Partition.parse(partition)
    if base_url:
        return BASE_PLAN_URL.format(base=_base(base_url), version=p.version, level=p.level, split=p.split)
    return PLAN_URL.format(version=p.version, level=p.level, split=p.split)


def shard_url(partition, name, mirror="us", base_url=None):
    """Where shard ``name`` of ``partition`` is served: a mirror, or ``base_url``."""
    p = Partition.parse(partition)
    if base_url:
        return BASE_SHARD_URL.format(base=_base(base_url), partition=p, name=name)
    if mirror not in MIRRORS:
        raise ValueError(f"mirror must be one of {', '.join(MIRRORS)}. Received: mirror={mirror!r}")
    return SHARD_URL.format(mirror=mirror, partition=p, name=name)


def vocabulary_url(version="2", base_url=None):
    """Where ``vocabulary.csv`` of release ``version`` is published (or under ``base_url``)."""
    if base_url:
        return BASE_VOCABULARY_URL.format(base=_base(base_url), version=version)
    return VOCABULARY_URL.format(version=version)


# ---------------------------------------------------------------------------------------------
# HTTP with errors sorted into: retry, give up on this file, give up on the run


class _Transient(Exception):
    """Worth another attempt (dropped connection, time-out, 5xx, MD5 mismatch)."""


class _Unreachable(_Transient):
    """No route to the host (no network, refused, unknown name): retried, then the run stops."""


class _Permanent(Exception):
    """Not worth retrying (HTTP 4xx): this file fails."""


class _RangeNotSatisfiable(_Transient):
    pass


class _LocalError(Exception):
    """Writing in the output folder failed (full disk, permissions): the run stops."""


class _Stopped(Exception):
    """Ctrl-C or another file's fatal error: stop this transfer, keep its ``.part``."""


def _reason_text(reason):
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    return str(reason) or type(reason).__name__


def _network_error(reason, url):
    parts = urllib.parse.urlsplit(url)
    if isinstance(reason, socket.gaierror) or getattr(reason, "errno", None) in _UNREACHABLE:
        return _Unreachable(f"cannot reach {parts.netloc} ({_reason_text(reason)}) for {url}")
    return _Transient(f"{url}: {_reason_text(reason)}")


def _local_error(error, path):
    if error.errno in _DISK_FULL:
        return _LocalError(
            f"disk full writing {path}: free some space and run the same command again to resume"
        )
    return _LocalError(f"cannot write {path}: {error.strerror or error}")


def _open(url, offset=0, method="GET", timeout=None):
    """``urlopen`` with a range from ``offset``; errors become ``_Transient``/``_Permanent``."""
    request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        return urllib.request.urlopen(request, timeout=timeout or TIMEOUT)
    except urllib.error.HTTPError as error:
        error.close()
        text = f"HTTP {error.code} {error.reason} from {url}"
        if error.code == 416:
            raise _RangeNotSatisfiable(text) from None
        if error.code >= 500 or error.code in (408, 429):
            raise _Transient(text) from None
        raise _Permanent(text) from None
    except urllib.error.URLError as error:
        raise _network_error(error.reason, url) from None
    except (OSError, http.client.HTTPException) as error:
        raise _network_error(error, url) from None


def _retrying(attempt, retries, stop, on_retry):
    """Run ``attempt()`` up to ``retries + 1`` times on ``_Transient``, with exponential backoff."""
    for number in range(retries + 1):
        try:
            return attempt()
        except _Transient as error:
            if number == retries:
                raise
            delay = BACKOFF * 2**number
            if on_retry:
                on_retry(f"{error}; retrying in {delay:g} s (attempt {number + 2} of {retries + 1})")
            if stop.wait(delay):
                raise _Stopped() from None


def _fetch_bytes(url, retries, stop, on_retry=None):
    def attempt():
        with _open(url) as response:
            try:
                return response.read()
            except (OSError, http.client.HTTPException) as error:
                raise _network_error(error, url) from None

    return _retrying(attempt, retries, stop, on_retry)


def _write(file, data):
    """One chunk to disk (a seam for tests that simulate a full disk)."""
    file.write(data)


def _write_atomic(path, text):
    tmp = path.with_name(path.name + PART_SUFFIX)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as error:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise DownloadError(str(_local_error(error, path))) from None


def _md5_file(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest


# ---------------------------------------------------------------------------------------------
# The plan: a to-do list shared by the worker threads


class Plan:
    """A partition's download plan: ``files`` still to do, ``verified`` done (name -> MD5)."""

    def __init__(self, partition, path, files, verified, saved):
        self.partition = partition
        self.path = path
        self.files = dict(files)
        self.verified = dict(verified)
        self.saved = saved
        self._lock = threading.Lock()

    @staticmethod
    def _check(data, source):
        files = data.get("files") if isinstance(data, dict) else None
        verified = data.get("verified", {}) if isinstance(data, dict) else None
        if not isinstance(files, dict) or not isinstance(verified, dict):
            raise DownloadError(f'{source}: not a YouTube-8M download plan (expected {{"files": {{name: md5}}}})')
        for name, md5 in {**files, **verified}.items():
            if not (isinstance(md5, str) and _MD5.match(md5)):
                raise DownloadError(f"{source}: entry {name!r} has no valid MD5 ({md5!r})")
            try:
                local_name(name)
            except ValueError:
                raise DownloadError(f"{source}: entry {name!r} is not a YouTube-8M shard name") from None
        return files, verified

    @classmethod
    def load_or_fetch(cls, partition, out, base_url=None, retries=RETRIES, save=True, stop=None, on_retry=None):
        """The saved plan in ``out`` if there is one (as the official script), else the published
        one, saved unless ``save=False`` (dry run)."""
        partition = Partition.parse(partition)
        path = Path(out) / partition.plan_filename
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise DownloadError(f"cannot read the saved plan {path} ({error}); delete it to fetch it again") from None
            return cls(partition, path, *cls._check(data, path), saved=True)
        url = plan_url(partition, base_url)
        try:
            body = _fetch_bytes(url, retries, stop or threading.Event(), on_retry)
        except _Unreachable as error:
            raise DownloadError(f"{error}: no network? Check the connection (or --base-url) and run again") from None
        except _Permanent as error:
            raise DownloadError(f"no download plan for {partition}: {error}") from None
        except _Transient as error:
            raise DownloadError(f"cannot fetch the download plan: {error}") from None
        try:
            data = json.loads(body)
        except ValueError:
            raise DownloadError(f"{url}: the download plan is not valid JSON") from None
        plan = cls(partition, path, *cls._check(data, url), saved=False)
        if save:
            plan.save()
        return plan

    def entries(self, shard=None):
        """``[(name, md5, done)]`` of the selected files, in name order."""
        rows = [(name, md5, False) for name, md5 in self.files.items()]
        rows += [(name, md5, True) for name, md5 in self.verified.items() if name not in self.files]
        return sorted((row for row in rows if is_selected(row[0], shard)), key=lambda row: local_name(row[0]))

    def mark(self, name, done):
        """Move ``name`` to ``verified`` (``done``) or back to the to-do list, and save."""
        with self._lock:
            md5 = self.files.get(name) or self.verified.get(name)
            if done:
                self.files.pop(name, None)
                self.verified[name] = md5
            else:
                self.verified.pop(name, None)
                self.files[name] = md5
            self.save()

    def save(self):
        data = {"files": self.files, "verified": self.verified}
        _write_atomic(self.path, json.dumps(data, indent=0, sort_keys=True) + "\n")
        self.saved = True


# ---------------------------------------------------------------------------------------------
# One file: verify what is there, else transfer to .part, check, rename


@dataclasses.dataclass(frozen=True)
class Task:
    """One file to have: ``url`` -> ``path``, checked by ``md5`` (shards) or ``check`` (a function
    of a path returning a problem or ``None``: the vocabulary)."""

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
            got = _md5_file(path).hexdigest()
            if got.lower() != self.md5.lower():
                return f"MD5 mismatch for {self.url}: expected {self.md5}, got {got}"
            return None
        return self.check(path) if self.check else None


def _check_vocabulary(path):
    from course_lib.data.vocabulary import read_vocabulary

    try:
        read_vocabulary(path)
    except ValueError as error:
        return f"not a valid vocabulary: {error}"
    return None


@dataclasses.dataclass
class _Context:
    retries: int
    stop: threading.Event
    bytes_bar: object
    on_retry: object
    abort: list = dataclasses.field(default_factory=list)  # the reason the run stopped
    fetched_bytes: int = 0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    responses: set = dataclasses.field(default_factory=set)  # open transfers, to cut on Ctrl-C

    def cut_transfers(self):
        """Wake transfers blocked on a stalled connection (Ctrl-C): shut their sockets down."""
        with self.lock:
            responses = list(self.responses)
        for response in responses:
            try:  # http.client keeps the socket in fp.raw._sock: the one way to end a blocked read
                response.fp.raw._sock.shutdown(socket.SHUT_RDWR)
            except (AttributeError, OSError):
                pass


def _transfer(task, ctx):
    """One attempt: continue ``task.part`` with a range request, or start it. A dropped connection
    keeps the ``.part`` for the next attempt (or run)."""
    part = task.part
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(task.url, offset)
    except _RangeNotSatisfiable:
        # The .part is as long as the file or longer: complete (checked next) or wrong (restart).
        if task.problem(part) is None:
            return
        part.unlink()
        return _transfer(task, ctx)
    with ctx.lock:
        ctx.responses.add(response)
    try:
        _receive(task, ctx, response, offset)
    finally:
        with ctx.lock:
            ctx.responses.discard(response)
        response.close()


def _receive(task, ctx, response, offset):
    """Write ``response`` to ``task.part``: appended when the server resumed at ``offset``."""
    part = task.part
    mode = "wb"
    if offset and response.status == 206:
        match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
        if match and int(match.group(1)) == offset:
            mode = "ab"
    if mode == "wb":
        offset = 0  # the server ignored the range: from scratch
    length = response.headers.get("Content-Length")
    expected = int(length) if length and length.isdigit() else None
    received = 0
    try:
        file = open(part, mode)
    except OSError as error:
        raise _local_error(error, part) from None
    with file:
        while True:
            if ctx.stop.is_set():
                raise _Stopped()
            try:
                chunk = response.read(CHUNK)
            except (OSError, http.client.HTTPException) as error:
                raise _network_error(error, task.url) from None
            if not chunk:
                break
            try:
                _write(file, chunk)
            except OSError as error:
                raise _local_error(error, part) from None
            received += len(chunk)
            with ctx.lock:
                ctx.fetched_bytes += len(chunk)
            ctx.bytes_bar.update(len(chunk))
    if ctx.stop.is_set():
        raise _Stopped()
    if expected is not None and received < expected:
        raise _Transient(
            f"connection dropped after {offset + received:,} of {offset + expected:,} bytes of {task.url}"
        )


def _attempt(task, ctx):
    _transfer(task, ctx)
    problem = task.problem(task.part)  # the bytes on disk, not the bytes we meant to write
    if problem:
        task.part.unlink()  # wrong, not just short: start again
        raise _Transient(problem)
    os.replace(task.part, task.path)


def _run_task(task, ctx):
    """``("fetched" | "skipped" | "failed" | "not attempted", reason)``; never raises but
    ``KeyboardInterrupt``. A local error or an unreachable host also stops the run (``ctx.abort``)."""
    if ctx.stop.is_set():
        return "not attempted", None
    try:
        if task.path.exists():
            problem = task.problem(task.path)
            if problem is None:
                if task.plan:
                    task.plan.mark(task.name, done=True)
                return "skipped", None
            ctx.on_retry(f"{task.path} is not the published file ({problem}): fetching it again")
            task.path.unlink()
        _retrying(lambda: _attempt(task, ctx), ctx.retries, ctx.stop, ctx.on_retry)
        if task.plan:
            task.plan.mark(task.name, done=True)
        return "fetched", None
    except _Stopped:
        return "not attempted", None
    except _Unreachable as error:
        _stop_run(ctx, f"{error}: no network? Check the connection (or --mirror/--base-url) and run "
                       "the same command again to resume")
        reason = str(error)
    except _LocalError as error:
        _stop_run(ctx, str(error))
        reason = str(error)
    except (_Transient, _Permanent) as error:
        reason = str(error)
    except DownloadError as error:  # saving the plan
        _stop_run(ctx, str(error))
        reason = str(error)
    except OSError as error:  # verifying or replacing a local file
        reason = f"{getattr(error, 'filename', None) or task.path}: {error.strerror or error}"
        _stop_run(ctx, f"cannot access {reason}")
    if task.plan and task.name in task.plan.verified:
        task.plan.mark(task.name, done=False)
    return "failed", reason


def _stop_run(ctx, reason):
    with ctx.lock:
        if not ctx.abort:
            ctx.abort.append(reason)
    ctx.stop.set()


# ---------------------------------------------------------------------------------------------
# A run


@dataclasses.dataclass
class Summary:
    """What a run did. ``planned`` lists a dry run's files as ``(url, path, size or None, state)``."""

    fetched: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)
    failed: dict = dataclasses.field(default_factory=dict)
    not_attempted: list = dataclasses.field(default_factory=list)
    planned: list = dataclasses.field(default_factory=list)
    fetched_bytes: int = 0
    stopped: str = None

    @property
    def ok(self):
        return not self.failed and not self.not_attempted and self.stopped is None

    def report(self):
        lines = [
            f"fetched {len(self.fetched)} file(s), skipped {len(self.skipped)} already verified, "
            f"failed {len(self.failed)}"
            + (f", not attempted {len(self.not_attempted)}" if self.not_attempted else "")
            + f" ({format_size(self.fetched_bytes)} transferred)"
        ]
        lines += [f"  failed: {path.name}: {reason}" for path, reason in sorted(self.failed.items())]
        return "\n".join(lines)


def format_size(size):
    if size is None:
        return "unknown size"
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,} bytes" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000


def _head_size(url):
    try:
        with _open(url, method="HEAD", timeout=min(TIMEOUT, 20.0)) as response:
            length = response.headers.get("Content-Length")
            return int(length) if length and length.isdigit() else None
    except (_Transient, _Permanent):
        return None


def _say(message, file=None):
    tqdm.write(message, file=file or sys.stdout)


def _warn(message):
    _say(message, file=sys.stderr)


def download(partitions=(), out=None, *, mirror="us", shard=None, base_url=None, vocabulary=False,
             jobs=JOBS, retries=RETRIES, dry_run=False, progress=True, verbose=True):
    """Download YouTube-8M partitions (and the vocabulary) to ``out``; return a :class:`Summary`.

    Args:
        partitions: ``"2/video/train"`` or a list of them (``validate``, ``test``; ``frame`` level
            too, which is far larger). Train and validate share one folder: their names differ.
        out: folder; default ``settings.real_data_dir()`` (``<course>/data/yt8m``), where
            ``settings.data_dir()`` finds the shards.
        mirror: ``"us"``, ``"eu"`` or ``"asia"``.
        shard: ``"X,Y"``: fraction X of Y by the official rule (``"1,100"``: about 1 %).
        base_url: take plan, shards and vocabulary from this tree instead (tests, private mirrors).
        vocabulary: also fetch ``vocabulary.csv``.
        jobs: parallel transfers.
        retries: further attempts after a transient failure (exponential backoff from ``BACKOFF``).
        dry_run: list the files and their sizes (HTTP HEAD) without fetching; nothing is written.
        progress: show progress bars (only when the output is a terminal).
        verbose: print what is planned and the summary.

    Raises:
        DownloadError: no network, a missing plan, a full disk, or files that failed after
            retries; the message says which, and ``error.summary`` what was done.

    Example:
        >>> download("2/video/validate", "data/yt8m", shard="1,100")  # doctest: +SKIP
    """
    from course_lib import settings

    partitions = [partitions] if isinstance(partitions, (str, Partition)) else list(partitions or ())
    partitions = list(dict.fromkeys(Partition.parse(p) for p in partitions))
    shard = parse_shard(shard)
    jobs, retries = int(jobs), int(retries)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1. Received: jobs={jobs}")
    if retries < 0:
        raise ValueError(f"retries must be at least 0. Received: retries={retries}")
    if not base_url and mirror not in MIRRORS:
        raise ValueError(f"mirror must be one of {', '.join(MIRRORS)}. Received: mirror={mirror!r}")
    if not partitions and not vocabulary:
        raise ValueError("nothing to download: give a partition (e.g. 2/video/train) and/or vocabulary")
    out = Path(out).expanduser() if out is not None else settings.real_data_dir()
    say = _say if verbose else (lambda message: None)

    if any(p.level == "frame" for p in partitions):
        _warn("warning: frame-level features are far larger than video-level ones (the dataset's site "
              "gives about 1.5 TB for the whole frame-level set); take a fraction with --shard")
    if not dry_run:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DownloadError(f"cannot create the output folder {out}: {error.strerror or error}") from None

    stop = threading.Event()
    tasks = []
    for partition in partitions:
        plan = Plan.load_or_fetch(partition, out, base_url, retries, save=not dry_run, stop=stop, on_retry=_warn)
        entries = plan.entries(shard)
        total = len(plan.files) + len(plan.verified)
        fraction = f" (shard {shard[0]},{shard[1]})" if shard else ""
        say(f"{partition}: {len(entries)} of {total} files selected{fraction}, "
            f"{sum(not done for *_, done in entries)} still on the plan's to-do list"
            + ("" if plan.saved else " (plan not saved: dry run)"))
        for name, md5, _ in entries:
            tasks.append(Task(shard_url(partition, name, mirror, base_url), out / local_name(name), md5,
                              plan=plan, name=name))
    if vocabulary:
        version = partitions[0].version if partitions else "2"
        tasks.append(Task(vocabulary_url(version, base_url), out / "vocabulary.csv", check=_check_vocabulary))

    summary = Summary()
    if dry_run:
        return _dry_run(tasks, jobs, summary, say)

    with tqdm(total=len(tasks), unit="file", desc="files", disable=None if progress else True) as files_bar, \
            tqdm(unit="B", unit_scale=True, desc="bytes", position=1,
                 disable=None if progress else True) as bytes_bar:
        ctx = _Context(retries, stop, bytes_bar, _warn)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="yt8m-download")
        try:
            futures = {pool.submit(_run_task, task, ctx): task for task in tasks}
            pending = set(futures)
            while pending:  # wake twice a second, so Ctrl-C is seen at once
                done, pending = concurrent.futures.wait(pending, timeout=0.5, return_when="FIRST_COMPLETED")
                for future in done:
                    task = futures[future]
                    state, reason = future.result()
                    if state == "fetched":
                        summary.fetched.append(task.path)
                    elif state == "skipped":
                        summary.skipped.append(task.path)
                    elif state == "failed":
                        summary.failed[task.path] = reason
                    else:
                        summary.not_attempted.append(task.path)
                    files_bar.update(1)
        except BaseException as error:
            stop.set()
            ctx.cut_transfers()
            pool.shutdown(wait=True, cancel_futures=True)
            if isinstance(error, KeyboardInterrupt):
                _warn("interrupted: no file was left under a final name half-written; run the same "
                      "command again to resume")
            raise
        pool.shutdown(wait=True)
    summary.fetched_bytes = ctx.fetched_bytes
    summary.stopped = ctx.abort[0] if ctx.abort else None
    say(summary.report())
    if not summary.ok:
        if summary.stopped:
            message = summary.stopped
        else:
            path, reason = sorted(summary.failed.items())[0]
            more = len(summary.failed) - 1
            message = (f"{len(summary.failed)} of {len(tasks)} file(s) failed: {path.name} ({reason})"
                       + (f" and {more} more, listed above" if more else "")
                       + "; run the same command again to retry")
        error = DownloadError(message)
        error.summary = summary
        raise error
    data_dir = settings.data_dir()
    if tasks and os.environ.get(settings.DATA_ENV) and str(data_dir) != str(out):
        _warn(f"note: {settings.DATA_ENV} is set, so the notebooks read {data_dir}, not {out}")
    return summary


def _dry_run(tasks, jobs, summary, say):
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        sizes = list(pool.map(lambda task: _head_size(task.url), tasks))
    for task, size in zip(tasks, sizes):
        if task.path.exists():
            state = "present: will be verified"
        elif task.part.exists():
            state = f"partial: will resume from {task.part.stat().st_size:,} bytes"
        else:
            state = "to fetch"
        summary.planned.append((task.url, task.path, size, state))
        say(f"{task.url} -> {task.path.name}  {format_size(size)}  ({state})")
    known = [s for s in sizes if s is not None]
    unknown = len(sizes) - len(known)
    say(f"dry run: {len(tasks)} file(s), {format_size(sum(known))}"
        + (f" known, {unknown} of unknown size" if unknown else "") + "; nothing written")
    return summary


def main(args):
    """``python -m course_lib download`` (and ``data_scripts/download_yt8m.py``)."""
    download(args.partition or (), args.out, mirror=args.mirror, shard=args.shard, base_url=args.base_url,
             vocabulary=args.vocabulary, jobs=args.jobs, retries=args.retries, dry_run=args.dry_run)
    return 0
