"""The saved plan: reused, checked, its fraction by the official rule."""

from course_lib import download

from tests.download.server import TRAIN_LOCAL, TRAIN_NAMES, final_files, official_rule, run


def test_second_run_fetches_nothing(server, tmp_path, capsys):
    out = tmp_path / "yt8m"
    assert run(server, out) == 0
    server.requests.clear()
    capsys.readouterr()
    assert run(server, out) == 0
    assert server.shard_gets() == [] and server.requests == []  # the saved plan is used too
    assert "fetched 0 file(s), skipped 4 already verified, failed 0 (0 bytes transferred)" in capsys.readouterr().out


def test_shard_selects_by_the_official_rule(server, tmp_path):
    out = tmp_path / "yt8m"
    first = [download.local_name(n) for n in TRAIN_NAMES if official_rule(n, 1, 2)]
    assert 0 < len(first) < len(TRAIN_NAMES)  # the fixture really tests a fraction
    assert run(server, out, "--shard", "1,2") == 0
    assert final_files(out) == sorted(first)
    assert run(server, out, "--shard", "2,2") == 0
    assert final_files(out) == TRAIN_LOCAL


def test_a_missing_plan_is_a_clear_error(server, tmp_path, capsys):
    assert run(server, tmp_path, partition="2/video/test") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no download plan for 2/video/test: HTTP 404")
    assert "/2/download_plans/video_test.json" in err


def test_a_damaged_saved_plan_is_a_clear_error(server, tmp_path, capsys):
    (tmp_path / "2_video_train_download_plan.json").write_text('{"files": {"trainaa.tfrecord": "nope"}}')
    assert run(server, tmp_path) == 2
    assert "has no valid MD5" in capsys.readouterr().err
    (tmp_path / "2_video_train_download_plan.json").write_text("{not json")
    assert run(server, tmp_path) == 2
    assert "delete it to fetch it again" in capsys.readouterr().err
