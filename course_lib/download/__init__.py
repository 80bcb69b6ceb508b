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

What the official script does badly and this package does not:

- Every transfer goes to ``<final name>.part`` in the output folder, is checked against the plan's
  MD5, and only then renamed (``os.replace``) to its final name. A file already under its final
  name is hashed, not trusted (on every run, so a second run over the whole train set re-reads
  its 17 GB from disk); one that does not match is removed and fetched again.
- Ctrl-C, a dropped connection or a full disk leave at most a ``.part`` file, never a broken shard
  under a final name. The ``.part`` is kept and the next run resumes it with an HTTP range request
  (or from scratch where the server ignores ranges). A ``.part`` whose bytes fail the MD5 check is
  deleted. To reclaim the space of an abandoned download, delete ``*.part``.
- Transient errors (dropped connections, time-outs, HTTP 5xx/408/429, an MD5 mismatch) are retried
  with exponential backoff; any other HTTP 4xx (404, 403, ...) fails the file at once. No network,
  a full disk or any failed file give a one-line message and a non-zero exit, after the summary
  (fetched, skipped as already verified, failed).
- Progress bars (files and bytes) that stay quiet when the output is not a terminal.

After a download into the default folder, ``settings.data_dir()`` finds the shards, so
``load_yt8m`` and the notebooks use them unchanged. Shown in the README's "Real data" section.

The package imports neither TensorFlow nor the synthetic generator. Its modules, in the order a
download uses them: :mod:`~course_lib.download.protocol` (partitions, the shard rule, local names,
URLs), :mod:`~course_lib.download.network` (opening, retry, the three kinds of failure: retry,
give up on this file, stop the run), :mod:`~course_lib.download.plan` (the saved plan and its
``"verified"`` map), :mod:`~course_lib.download.transfer` (one file: ``.part``, resume, MD5,
rename); this file runs them in parallel and reports.

Example::

    from course_lib import download
    download.download(["2/video/train", "2/video/validate"], shard="1,100")
"""

import concurrent.futures
import dataclasses
import os
import sys
from pathlib import Path

from course_lib.download import network
from course_lib.download.network import RETRIES, DownloadError, Failure, Stop
from course_lib.download.plan import Plan
from course_lib.download.protocol import (
    MIRROR,
    MIRRORS,
    VERSION,
    VOCABULARY_NAME,
    Partition,
    check_mirror,
    is_selected,
    local_name,
    parse_shard,
    plan_url,
    shard_url,
    vocabulary_url,
)
from course_lib.download.transfer import State, Task, Transfers, check_vocabulary, run_task

JOBS = 4  # parallel transfers

__all__ = [
    "JOBS", "MIRROR", "MIRRORS", "RETRIES", "DownloadError", "Partition", "Summary", "download",
    "format_size", "is_selected", "local_name", "main", "parse_shard", "plan_url", "shard_url",
    "vocabulary_url",
]


@dataclasses.dataclass
class Summary:
    """What a run did. ``planned`` lists a dry run's files as ``(url, path, size or None, state)``.

    >>> summary = Summary(fetched=[Path("train0000.tfrecord")], fetched_bytes=1_500_000)
    >>> summary.ok, summary.report()
    (True, 'fetched 1 file(s), skipped 0 already verified, failed 0 (1.5 MB transferred)')
    """

    fetched: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)
    failed: dict = dataclasses.field(default_factory=dict)
    not_attempted: list = dataclasses.field(default_factory=list)
    planned: list = dataclasses.field(default_factory=list)
    fetched_bytes: int = 0
    stopped: str = None  # why the run stopped early, if it did

    @property
    def ok(self):
        return not self.failed and not self.not_attempted and self.stopped is None

    def record(self, state, path, reason=None):
        """Count ``path`` under ``state`` (a :class:`~course_lib.download.transfer.State`)."""
        if state is State.FAILED:
            self.failed[path] = reason
        else:
            getattr(self, state.value).append(path)

    def report(self):
        lines = [
            f"fetched {len(self.fetched)} file(s), skipped {len(self.skipped)} already verified, "
            f"failed {len(self.failed)}"
            + (f", not attempted {len(self.not_attempted)}" if self.not_attempted else "")
            + f" ({format_size(self.fetched_bytes)} transferred)"
        ]
        lines += [f"  failed: {path.name}: {reason}" for path, reason in sorted(self.failed.items())]
        return "\n".join(lines)

    def error(self, total):
        """The :class:`DownloadError` of a run that did not finish, carrying this summary."""
        if self.stopped:
            message = self.stopped
        else:
            path, reason = sorted(self.failed.items())[0]
            more = len(self.failed) - 1
            message = (f"{len(self.failed)} of {total} file(s) failed: {path.name} ({reason})"
                       + (f" and {more} more, listed above" if more else "")
                       + "; run the same command again to retry")
        error = DownloadError(message)
        error.summary = self
        return error


def format_size(size):
    """A byte count for people, in powers of 1000.

    >>> format_size(999), format_size(1_234_567), format_size(17.2e9), format_size(None)
    ('999 bytes', '1.2 MB', '17.2 GB', 'unknown size')
    """
    if size is None:
        return "unknown size"
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,} bytes" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000


def _say(message, file=None):
    from tqdm.auto import tqdm

    tqdm.write(message, file=file or sys.stdout)


def _warn(message):
    _say(message, file=sys.stderr)


def download(partitions=(), out=None, *, mirror=MIRROR, shard=None, base_url=None, vocabulary=False,
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
        retries: further attempts after a transient failure (exponential backoff from
            ``network.BACKOFF``).
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

    partitions, shard, jobs, retries = _check_arguments(partitions, shard, jobs, retries, mirror, base_url,
                                                        vocabulary)
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

    stop = Stop()
    tasks = _tasks(partitions, out, shard, mirror, base_url, retries, dry_run, stop, say)
    if vocabulary:
        version = partitions[0].version if partitions else VERSION
        tasks.append(Task(vocabulary_url(version, base_url), out / VOCABULARY_NAME, check=check_vocabulary))
    if dry_run:
        return _dry_run(tasks, jobs, Summary(), say)

    summary = _run(tasks, jobs, retries, stop, progress)
    say(summary.report())
    if not summary.ok:
        raise summary.error(len(tasks))
    data_dir = settings.data_dir()
    if tasks and os.environ.get(settings.DATA_ENV) and str(data_dir) != str(out):
        _warn(f"note: {settings.DATA_ENV} is set, so the notebooks read {data_dir}, not {out}")
    return summary


def _check_arguments(partitions, shard, jobs, retries, mirror, base_url, vocabulary):
    partitions = [partitions] if isinstance(partitions, (str, Partition)) else list(partitions or ())
    partitions = list(dict.fromkeys(Partition.parse(p) for p in partitions))
    shard = parse_shard(shard)
    jobs, retries = int(jobs), int(retries)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1. Received: jobs={jobs}")
    if retries < 0:
        raise ValueError(f"retries must be at least 0. Received: retries={retries}")
    if not base_url:
        check_mirror(mirror)
    if not partitions and not vocabulary:
        raise ValueError("nothing to download: give a partition (e.g. 2/video/train) and/or vocabulary")
    return partitions, shard, jobs, retries


def _tasks(partitions, out, shard, mirror, base_url, retries, dry_run, stop, say):
    """The :class:`Task` of every selected shard of ``partitions``, after reading their plans."""
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
    return tasks


def _run(tasks, jobs, retries, stop, progress):
    """Run ``tasks`` on ``jobs`` threads with progress bars; the :class:`Summary`. On Ctrl-C (or
    any other exception) the transfers are stopped and cut, then the exception goes on."""
    from tqdm.auto import tqdm

    summary = Summary()
    disable = None if progress else True
    with tqdm(total=len(tasks), unit="file", desc="files", disable=disable) as files_bar, \
            tqdm(unit="B", unit_scale=True, desc="bytes", position=1, disable=disable) as bytes_bar:
        run = Transfers(retries, stop, bytes_bar, _warn)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="yt8m-download")
        try:
            futures = {pool.submit(run_task, task, run): task for task in tasks}
            pending = set(futures)
            while pending:  # wake twice a second, so Ctrl-C is seen at once
                done, pending = concurrent.futures.wait(pending, timeout=0.5, return_when="FIRST_COMPLETED")
                for future in done:
                    state, reason = future.result()
                    summary.record(state, futures[future].path, reason)
                    files_bar.update(1)
        except BaseException as error:
            stop.set()
            run.cut()
            pool.shutdown(wait=True, cancel_futures=True)
            if isinstance(error, KeyboardInterrupt):
                _warn("interrupted: no file was left under a final name half-written; run the same "
                      "command again to resume")
            raise
        pool.shutdown(wait=True)
    summary.fetched_bytes = run.fetched_bytes
    summary.stopped = stop.reason
    return summary


def _head_size(url):
    """The ``Content-Length`` of ``url`` by HTTP HEAD, or ``None``."""
    try:
        with network.open_url(url, method="HEAD", timeout=min(network.TIMEOUT, 20.0)) as response:
            length = response.headers.get("Content-Length")
            return int(length) if length and length.isdigit() else None
    except Failure:
        return None


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
