"""HTTP errors and no network: which failures are retried, which fail the file, which stop the run."""

import errno

import pytest

from course_lib import cli
from course_lib.download import network

from tests.download.server import TRAIN_LOCAL, closed_port, final_files, run


@pytest.mark.parametrize("code, attempts", [(404, 1), (500, 2)])
def test_http_errors_fail_the_file_with_its_url(server, tmp_path, capsys, code, attempts):
    out = tmp_path / "yt8m"
    path = "/2/video/train/trainaa.tfrecord"
    server.status[path] = code
    assert run(server, out) == 2
    err = capsys.readouterr().err
    assert f"HTTP {code}" in err and server.url + path in err and "Traceback" not in err
    assert len(server.gets(path)) == attempts  # 4xx is not retried, 5xx is
    assert final_files(out) == TRAIN_LOCAL[1:]


def test_a_transient_500_is_retried(server, tmp_path):
    out = tmp_path / "yt8m"
    server.status_once["/2/video/train/trainaa.tfrecord"] = 503
    assert run(server, out) == 0
    assert final_files(out) == TRAIN_LOCAL


def test_no_server_at_all_is_a_clear_message(tmp_path, capsys):
    port = closed_port()
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
    port = closed_port()
    code = cli.main(["download", "--base-url", f"http://127.0.0.1:{port}", "--out", str(out),
                     "--partition", "2/video/train", "--retries", "0", "--jobs", "1"])
    captured = capsys.readouterr()
    assert code == 2 and "cannot reach" in captured.err and "Traceback" not in captured.err
    assert "fetched 0 file(s)" in captured.out and "not attempted" in captured.out
    assert final_files(out) == []


@pytest.mark.parametrize("code, action", [(404, "GIVE_UP"), (403, "GIVE_UP"), (500, "RETRY"), (503, "RETRY"),
                                          (408, "RETRY"), (429, "RETRY"), (416, "RETRY")])
def test_http_status_is_sorted_into_one_of_three_kinds(code, action):
    failure = network.http_failure(code, "Reason", "http://h/x")
    assert failure.action is network.Action[action] and failure.final is network.Action.GIVE_UP
    assert failure.status == code and str(failure) == f"HTTP {code} Reason from http://h/x"


def test_an_unreachable_host_is_retried_then_stops_the_run_and_a_full_disk_stops_it_at_once(tmp_path):
    refused = network.network_failure(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "http://h:1/x")
    assert (refused.action, refused.final) == (network.Action.RETRY, network.Action.STOP)
    assert refused.stop_message().startswith("cannot reach h:1 (Connection refused) for http://h:1/x: no network?")
    dropped = network.network_failure(TimeoutError(), "http://h/x")
    assert (dropped.action, dropped.final, str(dropped)) == (network.Action.RETRY, network.Action.GIVE_UP,
                                                             "http://h/x: timed out")
    full = network.local_failure(OSError(errno.ENOSPC, "No space left on device"), tmp_path / "a.part")
    assert full.action is full.final is network.Action.STOP and str(full).startswith("disk full writing")


def test_the_stop_signal_keeps_the_first_reason():
    stop = network.Stop()
    assert not stop.is_set() and stop.reason is None
    stop.set()  # Ctrl-C: no reason
    stop.set("disk full")
    stop.set("cannot reach h")
    assert stop.is_set() and stop.reason == "disk full"
