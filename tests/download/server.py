"""A local HTTP server laid out like the YouTube-8M hosts under ``--base-url``, and test helpers.

The server (started by the ``server`` fixture in ``conftest.py``) serves a fixture tree: plan JSONs
with the real MD5s of small synthetic shards, the shards under server names (``trainbI.tfrecord``),
and the vocabulary. Switches on its state cut a response mid-file, corrupt a body, answer with an
HTTP error, stall and press Ctrl-C, or ignore range requests. No test touches the internet.
"""

import hashlib
import http.server
import json
import re
import socket
import threading
import _thread
from pathlib import Path

from course_lib import cli

ROOT = Path(__file__).resolve().parents[2]
TRAIN_NAMES = ["trainaa.tfrecord", "trainab.tfrecord", "trainbI.tfrecord", "train99.tfrecord"]
TRAIN_LOCAL = ["train0000.tfrecord", "train0001.tfrecord", "train0096.tfrecord", "train3843.tfrecord"]
VALIDATE_NAMES = ["validateaa.tfrecord"]


def md5(data):
    return hashlib.md5(data).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self._serve()

    def do_GET(self):
        self._serve()

    def _serve(self):
        state = self.server.state
        path, wanted = self.path, self.headers.get("Range")
        with state.lock:
            state.requests.append((self.command, path, wanted))
            code = state.status.get(path) or state.status_once.pop(path, None)
            cut = self.command == "GET" and path in state.cut_once
            state.cut_once.discard(path)
            stall = self.command == "GET" and path == state.stall_once
            state.stall_once = None if stall else state.stall_once
        if code:
            self.send_error(code)
            return
        data = state.files.get(path)
        if data is None:
            self.send_error(404)
            return
        if path in state.corrupt:
            data = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
        start = 0
        if wanted and state.range_support:
            start = int(re.match(r"bytes=(\d+)-$", wanted).group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes" if state.range_support else "none")
        self.end_headers()
        if stall:  # half the body, then Ctrl-C in the client while the connection hangs
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            _thread.interrupt_main()
            state.release.wait(30)
        elif self.command == "GET":
            self.wfile.write(body[: len(body) // 2] if cut else body)  # a cut: the connection closes


class State:
    def __init__(self, files):
        self.files = dict(files)
        self.lock = threading.Lock()
        self.requests = []  # (method, path, Range header)
        self.range_support = True
        self.cut_once = set()  # paths whose next GET stops half-way
        self.corrupt = set()  # paths served with one byte flipped
        self.status = {}  # path -> HTTP status, always
        self.status_once = {}  # path -> HTTP status, once
        self.stall_once = None  # a path whose next GET hangs half-way and presses Ctrl-C
        self.release = threading.Event()

    def gets(self, path):
        return [r for r in self.requests if r[0] == "GET" and r[1] == path]

    def shard_gets(self):
        return [r for r in self.requests if r[0] == "GET" and r[1].endswith(".tfrecord")]


def run(server, out, *args, partition="2/video/train"):
    argv = ["download", "--base-url", server.url, "--out", str(out), "--retries", "1"]
    argv += ["--partition", partition] if partition else []
    return cli.main([*argv, *args])


def saved_plan(out, name="2_video_train_download_plan.json"):
    return json.loads((out / name).read_text())


def final_files(out):
    return sorted(p.name for p in out.glob("*.tfrecord"))


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def official_rule(name, x, y):
    # As in the official download.py: keep f when int(hashlib.md5(f.encode()).hexdigest(), 16) % Y == X - 1.
    return int(hashlib.md5(name.encode()).hexdigest(), 16) % y == x - 1
