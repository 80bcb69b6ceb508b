"""HTTP for the downloader: open a URL (with a range), retry with backoff, and sort failures.

Every failure of a request or of a write in the output folder is a :class:`Failure` whose
``action`` says what to do next, one of three kinds (:class:`Action`):

- ``RETRY``: worth another attempt, with exponential backoff (a dropped connection, a time-out,
  HTTP 5xx/408/429, an MD5 mismatch). ``final`` says what happens once the retries are spent:
  this file fails (``GIVE_UP``), or, for a host that cannot be reached at all, the run stops
  (``STOP``).
- ``GIVE_UP`` on this file: not worth retrying (HTTP 404, 403 and the other 4xx).
- ``STOP`` the run: nothing else can succeed either (a full disk, an unwritable folder).

:class:`Stopped` is not a failure: Ctrl-C or another file's ``STOP`` ended this transfer, and its
``.part`` is kept. :class:`DownloadError` is what the user sees: one message naming the URL or the
file and what to do.

The module is named ``network``, not ``http``, so that it never hides the standard library's
``http`` (which it uses) in a module that imports both.

>>> http_failure(404, "Not Found", "http://h/x").action
<Action.GIVE_UP: 'give up on this file'>
>>> failure = http_failure(503, "Service Unavailable", "http://h/x")
>>> failure.action, failure.final
(<Action.RETRY: 'retry'>, <Action.GIVE_UP: 'give up on this file'>)
"""

import enum
import errno
import http.client
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request

RETRIES = 3
BACKOFF = 1.0  # seconds before the first retry, doubled for each further one
TIMEOUT = 60.0  # seconds without a byte before a transfer counts as stalled
USER_AGENT = "course_lib-download/0.1 (+YouTube-8M course)"

_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_UNREACHABLE = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}
_RETRY_STATUS = {408, 429}


class DownloadError(OSError):
    """A download that could not be done: the message names the URL or file and what to do.

    ``summary`` holds the :class:`~course_lib.download.Summary` of the run when transfers had
    started (else ``None``).
    """

    summary = None


class Action(enum.Enum):
    """What to do after a :class:`Failure`."""

    RETRY = "retry"
    GIVE_UP = "give up on this file"
    STOP = "stop the run"


class Failure(Exception):
    """A request or a write that failed, with what to do next.

    Args:
        message: one line naming the URL or file and what went wrong.
        action: an :class:`Action`: what to do now.
        final: what to do once retries are spent (``GIVE_UP`` or ``STOP``); default ``GIVE_UP``
            for ``RETRY``, else ``action``.
        status: the HTTP status, when the server answered (``416`` matters to a resume).
        advice: what the user can do, added to the message when the failure stops the run.
    """

    def __init__(self, message, action, final=None, status=None, advice=None):
        super().__init__(message)
        self.action = action
        self.final = final or (Action.GIVE_UP if action is Action.RETRY else action)
        self.status = status
        self.advice = advice

    def stop_message(self):
        """The line the run stops with."""
        return f"{self}: {self.advice}" if self.advice else str(self)


class Stopped(Exception):
    """Ctrl-C or another file's ``STOP``: end this transfer, keep its ``.part``."""


class Stop(threading.Event):
    """The run's stop signal: set by Ctrl-C, or by the first failure that stops the run, whose
    message is kept as ``reason`` (later ones do not replace it).

    >>> stop = Stop()
    >>> stop.set("disk full"); stop.set("another"); stop.is_set(), stop.reason
    (True, 'disk full')
    """

    def __init__(self):
        super().__init__()
        self.reason = None
        self._reason_lock = threading.Lock()

    def set(self, reason=None):
        with self._reason_lock:
            if self.reason is None:
                self.reason = reason
        super().set()


def _reason_text(reason):
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    return str(reason) or type(reason).__name__


def network_failure(reason, url):
    """The :class:`Failure` of a connection error ``reason`` while fetching ``url``: retried; a
    host that cannot be reached at all then stops the run."""
    if isinstance(reason, socket.gaierror) or getattr(reason, "errno", None) in _UNREACHABLE:
        host = urllib.parse.urlsplit(url).netloc
        return Failure(f"cannot reach {host} ({_reason_text(reason)}) for {url}", Action.RETRY, final=Action.STOP,
                       advice="no network? Check the connection (or --mirror/--base-url) and run the same "
                              "command again to resume")
    return Failure(f"{url}: {_reason_text(reason)}", Action.RETRY)


def http_failure(code, reason, url):
    """The :class:`Failure` of an HTTP error status: 5xx, 408, 429 and 416 are retried, other 4xx
    give up on the file."""
    retry = code >= 500 or code in _RETRY_STATUS or code == 416
    return Failure(f"HTTP {code} {reason} from {url}", Action.RETRY if retry else Action.GIVE_UP, status=code)


def local_failure(error, path):
    """The :class:`Failure` of writing ``path`` in the output folder: it stops the run."""
    if error.errno in _DISK_FULL:
        message = f"disk full writing {path}: free some space and run the same command again to resume"
    else:
        message = f"cannot write {path}: {error.strerror or error}"
    return Failure(message, Action.STOP)


def open_url(url, offset=0, method="GET", timeout=None):
    """``urlopen`` with a range from ``offset``; every error becomes a :class:`Failure`."""
    request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        return urllib.request.urlopen(request, timeout=timeout or TIMEOUT)
    except urllib.error.HTTPError as error:
        error.close()
        raise http_failure(error.code, error.reason, url) from None
    except urllib.error.URLError as error:
        raise network_failure(error.reason, url) from None
    except (OSError, http.client.HTTPException) as error:
        raise network_failure(error, url) from None


def retrying(attempt, retries, stop, on_retry=None):
    """Run ``attempt()`` up to ``retries + 1`` times while it fails with ``Action.RETRY``, waiting
    ``BACKOFF * 2**n`` seconds before retry ``n + 1``; raise :class:`Stopped` when ``stop`` is set
    during a wait. The last failure is raised as it is.

    >>> calls = []
    >>> def flaky():
    ...     calls.append(1)
    ...     if len(calls) == 1:
    ...         raise Failure("http://h/x: timed out", Action.RETRY)
    ...     return "done"
    >>> retrying(flaky, retries=3, stop=Stop(), on_retry=print)
    http://h/x: timed out; retrying in 1 s (attempt 2 of 4)
    'done'
    """
    for number in range(retries + 1):
        try:
            return attempt()
        except Failure as error:
            if error.action is not Action.RETRY or number == retries:
                raise
            delay = BACKOFF * 2**number
            if on_retry:
                on_retry(f"{error}; retrying in {delay:g} s (attempt {number + 2} of {retries + 1})")
            if stop.wait(delay):
                raise Stopped() from None


def fetch_bytes(url, retries, stop, on_retry=None):
    """The whole body of ``url`` (a plan), retried as :func:`retrying` does."""

    def attempt():
        with open_url(url) as response:
            try:
                return response.read()
            except (OSError, http.client.HTTPException) as error:
                raise network_failure(error, url) from None

    return retrying(attempt, retries, stop, on_retry)
