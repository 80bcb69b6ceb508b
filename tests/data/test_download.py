"""``course_lib.data.download`` against a real HTTP server on 127.0.0.1 (no test touches the internet).

The server serves a fixture tree laid out like the YouTube-8M hosts under ``--base-url``: plan JSONs
with the real MD5s of small synthetic shards, the shards under server names (``trainbI.tfrecord``),
and the vocabulary. Switches on the server cut a response mid-file, corrupt a body, answer with an
HTTP error, or ignore range requests.
"""

import errno
import hashlib
import http.server
import json
import re
import shutil
import _thread
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from course_lib import cli, settings
from course_lib.data import download, load_yt8m, synthetic

ROOT = Path(__file__).resolve().parents[2]
TRAIN_NAMES = ["trainaa.tfrecord", "trainab.tfrecord", "trainbI.tfrecord", "train99.tfrecord"]
TRAIN_LOCAL = ["train0000.tfrecord", "train0001.tfrecord", "train0096.tfrecord", "train3843.tfrecord"]
VALIDATE_NAMES = ["validateaa.tfrecord"]


def _md5(data):
    return hashlib.md5(data).hexdigest()


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
            plan = {"files": {name: _md5(data) for name, data in zip(names, shards)}}
            files[f"/2/download_plans/{level}_{split}.json"] = json.dumps(plan).encode()
            files.update({f"/2/{level}/{split}/{name}": data for name, data in zip(names, shards)})
    files["/2/vocabulary.csv"] = (ROOT / "course_lib" / "data" / "vocabulary.csv").read_bytes()
    return files


class _Handler(http.server.BaseHTTPRequestHandler):
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


class _State:
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


@pytest.fixture
def server(tree):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.state = _State(tree)
    httpd.state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd.state
    httpd.state.release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def fast_and_local(monkeypatch):
    monkeypatch.setattr(download, "BACKOFF", 0.0)
    monkeypatch.setattr(download, "TIMEOUT", 10.0)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def run(server, out, *args, partition="2/video/train"):
    argv = ["download", "--base-url", server.url, "--out", str(out), "--retries", "1"]
    argv += ["--partition", partition] if partition else []
    return cli.main([*argv, *args])


def _plan(out, name="2_video_train_download_plan.json"):
    return json.loads((out / name).read_text())


def _final_files(out):
    return sorted(p.name for p in out.glob("*.tfrecord"))


# --- the protocol ---------------------------------------------------------------------------


def test_local_names_follow_the_official_mapping():
    assert download.local_name("trainaa.tfrecord") == "train0000.tfrecord"
    assert download.local_name("trainbI.tfrecord") == "train0096.tfrecord"
    assert download.local_name("train99.tfrecord") == "train3843.tfrecord"
    assert download.local_name("validateaa.tfrecord") == "validate0000.tfrecord"
    assert download.local_name("test9a.tfrecord") == "test3782.tfrecord"
    codes = [synthetic.shard_code(i) for i in range(62 * 62)]
    assert [download.local_name(f"train{c}.tfrecord") for c in codes] == [f"train{i:04d}.tfrecord" for i in range(3844)]
    for bad in ("trainaaa.tfrecord", "train-a.tfrecord", "foo.tfrecord", "trainaa.tfrecord.part"):
        with pytest.raises(ValueError, match="Received: name="):
            download.local_name(bad)


def _official_rule(name, x, y):
    # As in the official download.py: keep f when int(hashlib.md5(f.encode()).hexdigest(), 16) % Y == X - 1.
    return int(hashlib.md5(name.encode()).hexdigest(), 16) % y == x - 1


@pytest.mark.parametrize("split", ["train", "validate"])
def test_shard_selection_is_the_official_rule(split):
    names = [f"{split}{synthetic.shard_code(i)}.tfrecord" for i in range(3844)]  # every real server name
    for x, y in [(1, 100), (7, 100), (1, 1), (2, 3), (10, 10)]:
        expected = [n for n in names if _official_rule(n, x, y)]
        assert [n for n in names if download.is_selected(n, f"{x},{y}")] == expected
        assert [n for n in names if download.is_selected(n, (x, y))] == expected
    # The fractions of one Y split the files: each file in exactly one.
    picks = [{n for n in names if download.is_selected(n, f"{x},7")} for x in range(1, 8)]
    assert sum(map(len, picks)) == len(names) and set().union(*picks) == set(names)
    assert all(download.is_selected(n, None) for n in names)


def test_one_percent_picks_these_files():
    names = [f"train{synthetic.shard_code(i)}.tfrecord" for i in range(3844)]
    picked = [n for n in names if download.is_selected(n, "1,100")]
    assert len(picked) == 41
    assert picked[:3] == ["trainbF.tfrecord", "trainbX.tfrecord", "traindw.tfrecord"]


@pytest.mark.parametrize("text", ["0,100", "5,4", "1", "a,b", "1,2,3"])
def test_bad_shard_is_a_clear_error(text):
    with pytest.raises(ValueError, match="Received: shard="):
        download.parse_shard(text)


@pytest.mark.parametrize("text", ["2/video", "2/audio/train", "2/video/dev", "video/train"])
def test_bad_partition_is_a_clear_error(text):
    with pytest.raises(ValueError, match="Received: partition="):
        download.Partition.parse(text)


def test_urls_and_plan_name():
    assert download.plan_url("2/video/train") == "http://data.yt8m.org/2/download_plans/video_train.json"
    assert download.shard_url("2/video/train", "trainbI.tfrecord", "us") == "http://us.data.yt8m.org/2/video/train/trainbI.tfrecord"
    assert download.shard_url("2/frame/validate", "validateaa.tfrecord", "asia") == (
        "http://asia.data.yt8m.org/2/frame/validate/validateaa.tfrecord")
    assert download.plan_url("2/video/train", "http://h:1/m/") == "http://h:1/m/2/download_plans/video_train.json"
    assert download.shard_url("2/video/train", "trainaa.tfrecord", base_url="http://h:1/m") == "http://h:1/m/2/video/train/trainaa.tfrecord"
    assert download.vocabulary_url("2") == "https://research.google.com/youtube8m/csv/2/vocabulary.csv"
    assert download.vocabulary_url("2", "http://h:1") == "http://h:1/2/vocabulary.csv"
    assert download.Partition.parse("2/video/train").plan_filename == "2_video_train_download_plan.json"
    with pytest.raises(ValueError, match="mirror"):
        download.shard_url("2/video/train", "trainaa.tfrecord", "mars")


# --- downloads against the local server --------------------------------------------------------


def test_fresh_download_then_load_yt8m_reads_it(server, tmp_path, capsys):
    out = tmp_path / "yt8m"
    assert run(server, out, "--partition", "2/video/validate", "--jobs", "3") == 0
    assert _final_files(out) == TRAIN_LOCAL + ["validate0000.tfrecord"]
    for name, local in zip(TRAIN_NAMES, TRAIN_LOCAL):
        assert (out / local).read_bytes() == server.files[f"/2/video/train/{name}"]
    assert not list(out.glob("*.part"))
    plan = _plan(out)
    assert plan["files"] == {} and sorted(plan["verified"]) == sorted(TRAIN_NAMES)
    assert (out / "2_video_validate_download_plan.json").exists()
    assert "fetched 5 file(s)" in capsys.readouterr().out
    ids = [i for features, _ in load_yt8m(str(out / "train*.tfrecord"), 8, include_id=True) for i in features["id"].numpy()]
    assert len(ids) == 48 and len(set(ids)) == 48


def test_second_run_fetches_nothing(server, tmp_path, capsys):
    out = tmp_path / "yt8m"
    assert run(server, out) == 0
    server.requests.clear()
    capsys.readouterr()
    assert run(server, out) == 0
    assert server.shard_gets() == [] and server.requests == []  # the saved plan is used too
    assert "fetched 0 file(s), skipped 4 already verified, failed 0 (0 bytes transferred)" in capsys.readouterr().out


def test_a_file_under_its_final_name_is_verified_not_trusted(server, tmp_path, capsys):
    out = tmp_path / "yt8m"
    assert run(server, out) == 0
    broken = out / "train0096.tfrecord"
    broken.write_bytes(broken.read_bytes()[:-10])
    (out / "2_video_train_download_plan.json").unlink()  # also: files present, plan fetched afresh
    server.requests.clear()
    assert run(server, out) == 0
    assert [r[1] for r in server.shard_gets()] == ["/2/video/train/trainbI.tfrecord"]
    assert broken.read_bytes() == server.files["/2/video/train/trainbI.tfrecord"]
    assert "fetched 1 file(s)" in capsys.readouterr().out


def test_resume_after_a_cut_uses_a_range_request(server, tmp_path, capsys):
    out = tmp_path / "yt8m"
    path = "/2/video/train/trainab.tfrecord"
    server.cut_once.add(path)
    assert run(server, out, "--retries", "0") == 2
    captured = capsys.readouterr()
    assert "failed: train0001.tfrecord: connection dropped after" in captured.out
    assert captured.err.strip().splitlines()[-1].startswith("error: 1 of 4 file(s) failed: train0001.tfrecord (")
    assert "train0001.tfrecord" not in _final_files(out)  # never a broken shard under a final name
    part = out / "train0001.tfrecord.part"
    size = len(server.files[path])
    assert part.stat().st_size == size // 2
    assert "trainab.tfrecord" in _plan(out)["files"]  # still on the to-do list

    assert run(server, out) == 0
    assert server.gets(path)[-1][2] == f"bytes={size // 2}-"
    assert (out / "train0001.tfrecord").read_bytes() == server.files[path]
    assert not part.exists()
    assert "fetched 1 file(s)" in capsys.readouterr().out and _plan(out)["files"] == {}


def test_a_cut_is_retried_within_the_run(server, tmp_path):
    out = tmp_path / "yt8m"
    path = "/2/video/train/train99.tfrecord"
    server.cut_once.add(path)
    assert run(server, out) == 0
    assert [r[2] for r in server.gets(path)] == [None, f"bytes={len(server.files[path]) // 2}-"]
    assert (out / "train3843.tfrecord").read_bytes() == server.files[path]


def test_resume_from_scratch_when_the_server_ignores_ranges(server, tmp_path):
    out = tmp_path / "yt8m"
    path = "/2/video/train/trainaa.tfrecord"
    server.range_support = False
    server.cut_once.add(path)
    assert run(server, out, "--retries", "0") == 2
    assert (out / "train0000.tfrecord.part").exists() and not (out / "train0000.tfrecord").exists()
    assert run(server, out) == 0
    assert (out / "train0000.tfrecord").read_bytes() == server.files[path]
    assert not (out / "train0000.tfrecord.part").exists()


def test_a_complete_part_is_renamed_without_fetching_again(server, tmp_path):
    out = tmp_path / "yt8m"
    assert run(server, out) == 0
    final = out / "train0000.tfrecord"
    final.rename(out / "train0000.tfrecord.part")  # as if stopped between the check and the rename
    plan = _plan(out)
    plan["files"]["trainaa.tfrecord"] = plan["verified"].pop("trainaa.tfrecord")
    (out / "2_video_train_download_plan.json").write_text(json.dumps(plan))
    server.requests.clear()
    assert run(server, out) == 0
    assert final.read_bytes() == server.files["/2/video/train/trainaa.tfrecord"]
    assert [r[2] for r in server.shard_gets()] == [f"bytes={len(final.read_bytes())}-"]  # a 416, no body


def test_a_corrupted_body_is_retried_then_reported(server, tmp_path, capsys):
    out = tmp_path / "yt8m"
    path = "/2/video/train/trainbI.tfrecord"
    server.corrupt.add(path)
    assert run(server, out, "--retries", "2") == 2
    captured = capsys.readouterr()
    assert len(server.gets(path)) == 3
    assert "MD5 mismatch" in captured.err and "train0096.tfrecord" in captured.out
    assert "fetched 3 file(s)" in captured.out and "failed 1" in captured.out
    assert _final_files(out) == ["train0000.tfrecord", "train0001.tfrecord", "train3843.tfrecord"]
    assert not (out / "train0096.tfrecord.part").exists()  # wrong bytes are not kept for resume
    assert list(_plan(out)["files"]) == ["trainbI.tfrecord"]


@pytest.mark.parametrize("code, attempts", [(404, 1), (500, 2)])
def test_http_errors_fail_the_file_with_its_url(server, tmp_path, capsys, code, attempts):
    out = tmp_path / "yt8m"
    path = "/2/video/train/trainaa.tfrecord"
    server.status[path] = code
    assert run(server, out) == 2
    err = capsys.readouterr().err
    assert f"HTTP {code}" in err and server.url + path in err and "Traceback" not in err
    assert len(server.gets(path)) == attempts  # 4xx is not retried, 5xx is
    assert _final_files(out) == TRAIN_LOCAL[1:]


def test_a_transient_500_is_retried(server, tmp_path):
    out = tmp_path / "yt8m"
    server.status_once["/2/video/train/trainaa.tfrecord"] = 503
    assert run(server, out) == 0
    assert _final_files(out) == TRAIN_LOCAL


def test_a_missing_plan_is_a_clear_error(server, tmp_path, capsys):
    assert run(server, tmp_path, partition="2/video/test") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no download plan for 2/video/test: HTTP 404")
    assert "/2/download_plans/video_test.json" in err


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_server_at_all_is_a_clear_message(tmp_path, capsys):
    port = _closed_port()
    code = cli.main(["download", "--base-url", f"http://127.0.0.1:{port}", "--out", str(tmp_path / "o"),
                     "--partition", "2/video/train", "--retries", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "retrying in 0 s (attempt 2 of 2)" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot reach 127.0.0.1:{port} (Connection refused)") and "no network?" in last
    assert "Traceback" not in err and not list((tmp_path / "o").iterdir())


def test_the_network_going_away_mid_run_stops_cleanly(tree, tmp_path, capsys):
    out = tmp_path / "yt8m"
    out.mkdir()
    (out / "2_video_train_download_plan.json").write_bytes(tree["/2/download_plans/video_train.json"])
    port = _closed_port()
    code = cli.main(["download", "--base-url", f"http://127.0.0.1:{port}", "--out", str(out),
                     "--partition", "2/video/train", "--retries", "0", "--jobs", "1"])
    captured = capsys.readouterr()
    assert code == 2 and "cannot reach" in captured.err and "Traceback" not in captured.err
    assert "fetched 0 file(s)" in captured.out and "not attempted" in captured.out
    assert _final_files(out) == []


def test_a_full_disk_is_a_clear_message_and_leaves_no_final_file(server, tmp_path, capsys, monkeypatch):
    def full(file, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download, "_write", full)
    out = tmp_path / "yt8m"
    assert run(server, out, "--jobs", "1") == 2
    err = capsys.readouterr().err
    assert "error: disk full writing" in err and "Traceback" not in err
    assert _final_files(out) == []
    monkeypatch.setattr(download, "_write", lambda file, data: file.write(data))
    assert run(server, out) == 0 and _final_files(out) == TRAIN_LOCAL


def test_ctrl_c_leaves_no_broken_shard_and_the_next_run_resumes(server, tmp_path, capsys, monkeypatch):
    chunks = []

    def interrupted(file, data):
        chunks.append(len(data))
        if len(chunks) == 20:  # in the second file, part-way
            raise KeyboardInterrupt
        file.write(data)

    monkeypatch.setattr(download, "CHUNK", 4096)
    monkeypatch.setattr(download, "_write", interrupted)
    out = tmp_path / "yt8m"
    assert run(server, out, "--jobs", "1") == 130
    assert "interrupted" in capsys.readouterr().err
    assert _final_files(out) == ["train0000.tfrecord"]  # whole and verified; the second is only a .part
    first_file_chunks = -(-len(server.files["/2/video/train/trainaa.tfrecord"]) // 4096)
    kept = (out / "train0001.tfrecord.part").stat().st_size
    assert kept == 4096 * (19 - first_file_chunks) > 0
    monkeypatch.setattr(download, "_write", lambda file, data: file.write(data))
    server.requests.clear()
    assert run(server, out) == 0 and _final_files(out) == TRAIN_LOCAL
    assert server.gets("/2/video/train/trainab.tfrecord")[0][2] == f"bytes={kept}-"
    for name, local in zip(TRAIN_NAMES, TRAIN_LOCAL):
        assert (out / local).read_bytes() == server.files[f"/2/video/train/{name}"]


def test_ctrl_c_on_a_stalled_connection_stops_and_keeps_only_a_part(server, tmp_path, capsys):
    out = tmp_path / "yt8m"
    path = "/2/video/train/trainaa.tfrecord"
    server.stall_once = path
    assert run(server, out, "--jobs", "2") == 130
    assert "interrupted" in capsys.readouterr().err
    assert "train0000.tfrecord" not in _final_files(out)
    assert (out / "train0000.tfrecord.part").stat().st_size <= len(server.files[path]) // 2
    server.release.set()
    assert run(server, out) == 0 and _final_files(out) == TRAIN_LOCAL
    assert (out / "train0000.tfrecord").read_bytes() == server.files[path]


def test_shard_selects_by_the_official_rule(server, tmp_path):
    out = tmp_path / "yt8m"
    first = [download.local_name(n) for n in TRAIN_NAMES if _official_rule(n, 1, 2)]
    assert 0 < len(first) < len(TRAIN_NAMES)  # the fixture really tests a fraction
    assert run(server, out, "--shard", "1,2") == 0
    assert _final_files(out) == sorted(first)
    assert run(server, out, "--shard", "2,2") == 0
    assert _final_files(out) == TRAIN_LOCAL


def test_dry_run_lists_files_and_sizes_and_writes_nothing(server, tmp_path, capsys):
    out = tmp_path / "yt8m"
    assert run(server, out, "--dry-run", "--vocabulary") == 0
    printed = capsys.readouterr().out
    total = sum(len(server.files[f"/2/video/train/{n}"]) for n in TRAIN_NAMES) + len(server.files["/2/vocabulary.csv"])
    assert f"dry run: 5 file(s), {download.format_size(total)}; nothing written" in printed
    assert f"{server.url}/2/video/train/trainbI.tfrecord -> train0096.tfrecord" in printed
    assert not out.exists() and not [r for r in server.requests if r[0] == "GET" and r[1].endswith(".tfrecord")]


def test_frame_level_warns_about_size(server, tmp_path, capsys):
    assert run(server, tmp_path, "--dry-run", partition="2/frame/train") == 0
    assert "warning: frame-level" in capsys.readouterr().err


def test_vocabulary_is_fetched_checked_and_then_verified(server, tmp_path, capsys):
    out = tmp_path / "yt8m"
    assert run(server, out, "--vocabulary", partition=None) == 0
    assert (out / "vocabulary.csv").read_bytes() == server.files["/2/vocabulary.csv"]
    assert run(server, out, "--vocabulary", partition=None) == 0
    assert "skipped 1 already verified" in capsys.readouterr().out
    server.files["/2/vocabulary.csv"] = b"<html>not a vocabulary</html>"
    (out / "vocabulary.csv").unlink()
    assert run(server, out, "--vocabulary", partition=None) == 2
    assert "not a valid vocabulary" in capsys.readouterr().err
    assert not (out / "vocabulary.csv").exists()


def test_nothing_to_do_is_a_usage_error(tmp_path, capsys):
    assert cli.main(["download", "--out", str(tmp_path)]) == 2
    assert "nothing to download" in capsys.readouterr().err


def test_default_out_is_where_the_course_finds_real_data(server, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_HOME", str(tmp_path))
    monkeypatch.delenv("YT8M_DATA", raising=False)
    assert cli.main(["download", "--base-url", server.url, "--partition", "2/video/train",
                     "--partition", "2/video/validate"]) == 0
    assert settings.data_dir() == tmp_path / "data" / "yt8m" == settings.real_data_dir()
    batches = list(load_yt8m(settings.data_pattern("validate"), 8))
    assert sum(int(labels.shape[0]) for _, labels in batches) == 12


def test_library_api_returns_a_summary_and_raises_with_it(server, tmp_path):
    out = tmp_path / "yt8m"
    summary = download.download("2/video/train", out, base_url=server.url, progress=False, verbose=False)
    assert summary.ok and sorted(p.name for p in summary.fetched) == TRAIN_LOCAL
    assert summary.fetched_bytes == sum(len(server.files[f"/2/video/train/{n}"]) for n in TRAIN_NAMES)
    shutil.rmtree(out)
    server.status["/2/video/train/trainaa.tfrecord"] = 404
    with pytest.raises(download.DownloadError, match="1 of 4 file") as caught:
        download.download(["2/video/train"], out, base_url=server.url, verbose=False, retries=0)
    assert list(caught.value.summary.failed) == [out / "train0000.tfrecord"]
    assert len(caught.value.summary.fetched) == 3


def test_the_script_is_the_same_command():
    result = subprocess.run([sys.executable, str(ROOT / "data_scripts" / "download_yt8m.py"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--partition" in result.stdout and "--base-url" in result.stdout


def test_a_damaged_saved_plan_is_a_clear_error(server, tmp_path, capsys):
    (tmp_path / "2_video_train_download_plan.json").write_text('{"files": {"trainaa.tfrecord": "nope"}}')
    assert run(server, tmp_path) == 2
    assert "has no valid MD5" in capsys.readouterr().err
    (tmp_path / "2_video_train_download_plan.json").write_text("{not json")
    assert run(server, tmp_path) == 2
    assert "delete it to fetch it again" in capsys.readouterr().err
