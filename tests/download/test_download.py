"""``course_lib.download`` end to end: the command, the library call, the default folder."""

import shutil
import subprocess
import sys

import pytest

from course_lib import cli, download, settings
from course_lib.data import load_yt8m

from tests.download.server import ROOT, TRAIN_LOCAL, TRAIN_NAMES, final_files, run, saved_plan


def test_fresh_download_then_load_yt8m_reads_it(server, tmp_path, capsys):
    out = tmp_path / "yt8m"
    assert run(server, out, "--partition", "2/video/validate", "--jobs", "3") == 0
    assert final_files(out) == TRAIN_LOCAL + ["validate0000.tfrecord"]
    for name, local in zip(TRAIN_NAMES, TRAIN_LOCAL):
        assert (out / local).read_bytes() == server.files[f"/2/video/train/{name}"]
    assert not list(out.glob("*.part"))
    plan = saved_plan(out)
    assert plan["files"] == {} and sorted(plan["verified"]) == sorted(TRAIN_NAMES)
    assert (out / "2_video_validate_download_plan.json").exists()
    assert "fetched 5 file(s)" in capsys.readouterr().out
    ids = [i for features, _ in load_yt8m(str(out / "train*.tfrecord"), 8, include_id=True) for i in features["id"].numpy()]
    assert len(ids) == 48 and len(set(ids)) == 48


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


@pytest.mark.parametrize("module", ["course_lib.download", "course_lib.data.names", "course_lib.data.vocabulary"])
def test_importing_loads_no_tensorflow_and_no_generator(module):
    code = (f"import sys, {module}; loaded = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')"
            " or m == 'course_lib.data.synthetic']; assert not loaded, loaded")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
