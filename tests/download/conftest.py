"""Fixtures of the download tests: the fixture tree, the local server, no backoff."""

import http.server
import json
import threading

import pytest

from course_lib.data import synthetic
from course_lib.download import network

from tests.download.server import ROOT, TRAIN_NAMES, VALIDATE_NAMES, Handler, State, md5


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """``{url path: bytes}``: 4 train shards and 1 validate shard (60 synthetic videos), plans, vocabulary."""
    made = tmp_path_factory.mktemp("synthetic")
    synthetic.write_synthetic(made, videos=60, shards=5, seed=11, progress=False)
    train = [(made / f"train{i:04d}.tfrecord").read_bytes() for i in range(4)]
    validate = [(made / "validate0000.tfrecord").read_bytes()]
    files = {}
    for level in ("video", "frame"):
        for split, names, shards in (("train", TRAIN_NAMES, train), ("validate", VALIDATE_NAMES, validate)):
            plan = {"files": {name: md5(data) for name, data in zip(names, shards)}}
            files[f"/2/download_plans/{level}_{split}.json"] = json.dumps(plan).encode()
            files.update({f"/2/{level}/{split}/{name}": data for name, data in zip(names, shards)})
    files["/2/vocabulary.csv"] = (ROOT / "course_lib" / "data" / "vocabulary.csv").read_bytes()
    return files


@pytest.fixture
def server(tree):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.state = State(tree)
    httpd.state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd.state
    httpd.state.release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def fast_and_local(monkeypatch):
    monkeypatch.setattr(network, "BACKOFF", 0.0)
    monkeypatch.setattr(network, "TIMEOUT", 10.0)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
