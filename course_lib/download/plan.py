"""A partition's download plan: the official to-do list, plus the ``"verified"`` map.

The published plan is ``{"files": {"trainbI.tfrecord": "<md5>", ...}}``. It is saved in the output
folder as ``{V}_{LEVEL}_{SPLIT}_download_plan.json`` and read from there on later runs, as the
official script does. ``"files"`` is a to-do list: a verified entry leaves it. We move it to an
extra ``"verified"`` map (the official script ignores the key), so a later run can still check
the file. The worker threads share one :class:`Plan`; each change is saved at once (atomically).

>>> data = {"files": {"trainbI.tfrecord": "0" * 32}}
>>> plan = Plan.from_data("2/video/train", "data/yt8m", data, source="plan.json")
>>> plan.path.as_posix(), plan.saved
('data/yt8m/2_video_train_download_plan.json', False)
>>> plan.entries(shard="1,2"), plan.entries(shard="2,2")
([('trainbI.tfrecord', '00000000000000000000000000000000', False)], [])
"""

import json
import os
import re
import threading
from pathlib import Path

from course_lib.download.network import RETRIES, Action, DownloadError, Failure, Stop, fetch_bytes, local_failure
from course_lib.download.protocol import PART_SUFFIX, Partition, is_selected, local_name, plan_url

_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")


def check_plan(data, source):
    """``(files, verified)`` of plan ``data`` (parsed JSON read from ``source``), or a
    :class:`DownloadError` naming ``source`` and the bad entry.

    >>> check_plan({"files": {"trainaa.tfrecord": "nope"}}, "plan.json")
    Traceback (most recent call last):
    ...
    course_lib.download.network.DownloadError: plan.json: entry 'trainaa.tfrecord' has no valid MD5 ('nope')
    """
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


def write_atomic(path, text):
    """Write ``text`` to ``path`` through ``path.part`` and a rename; a :class:`DownloadError` if
    the folder cannot be written."""
    tmp = path.with_name(path.name + PART_SUFFIX)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as error:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise DownloadError(str(local_failure(error, path))) from None


class Plan:
    """A partition's download plan: ``files`` still to do, ``verified`` done (name -> MD5).

    Args:
        partition: a :class:`~course_lib.download.protocol.Partition`.
        path: where the plan is saved.
        files, verified: name -> MD5.
        saved: whether ``path`` holds it (a dry run does not save a fetched plan).
    """

    def __init__(self, partition, path, files, verified, saved):
        self.partition = partition
        self.path = Path(path)
        self.files = dict(files)
        self.verified = dict(verified)
        self.saved = saved
        self._lock = threading.Lock()

    @classmethod
    def from_data(cls, partition, out, data, source, saved=False):
        """The plan of ``partition`` in folder ``out`` from parsed JSON ``data`` (checked)."""
        partition = Partition.parse(partition)
        return cls(partition, Path(out) / partition.plan_filename, *check_plan(data, source), saved=saved)

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
                raise DownloadError(
                    f"cannot read the saved plan {path} ({error}); delete it to fetch it again"
                ) from None
            return cls.from_data(partition, out, data, path, saved=True)
        url = plan_url(partition, base_url)
        try:
            body = fetch_bytes(url, retries, stop or Stop(), on_retry)
        except Failure as error:
            raise DownloadError(_plan_failure(error, partition)) from None
        try:
            data = json.loads(body)
        except ValueError:
            raise DownloadError(f"{url}: the download plan is not valid JSON") from None
        plan = cls.from_data(partition, out, data, url)
        if save:
            plan.save()
        return plan

    def entries(self, shard=None):
        """``[(name, md5, done)]`` of the files selected by ``shard``, in local-name order."""
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
        """Write the plan to ``path`` (atomically)."""
        data = {"files": self.files, "verified": self.verified}
        write_atomic(self.path, json.dumps(data, indent=0, sort_keys=True) + "\n")
        self.saved = True


def _plan_failure(error, partition):
    """The message of a plan that could not be fetched, by the kind of failure."""
    if error.final is Action.STOP:  # no route to the host
        return f"{error}: no network? Check the connection (or --base-url) and run again"
    if error.action is Action.GIVE_UP:  # HTTP 404 and other 4xx
        return f"no download plan for {partition}: {error}"
    return f"cannot fetch the download plan: {error}"
