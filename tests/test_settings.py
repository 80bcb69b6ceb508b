import subprocess
import sys
from pathlib import Path

import pytest

from course_lib import settings


def test_data_location_order(tmp_path, monkeypatch):
    monkeypatch.delenv("YT8M_DATA", raising=False)
    monkeypatch.setenv("COURSE_HOME", str(tmp_path))
    assert settings.data_dir() == tmp_path / "data" / "sample"
    (tmp_path / "data" / "yt8m").mkdir(parents=True)
    assert settings.data_dir() == tmp_path / "data" / "sample"  # an empty folder is not data
    (tmp_path / "data" / "yt8m" / "train0000.tfrecord").write_bytes(b"")
    assert settings.data_dir() == tmp_path / "data" / "yt8m"
    monkeypatch.setenv("YT8M_DATA", "gs://bucket/yt8m/")
    assert settings.data_pattern("validate") == "gs://bucket/yt8m/validate*.tfrecord"
    with pytest.raises(ValueError, match="split"):
        settings.data_pattern("training")


def test_course_size(monkeypatch):
    monkeypatch.setenv("COURSE_SIZE", "Medium")
    assert settings.course_size().scaled(100) == 400
    monkeypatch.setenv("COURSE_SIZE", "huge")
    with pytest.raises(ValueError, match="COURSE_SIZE"):
        settings.course_size()


def test_help_lists_the_commands_without_loading_tensorflow():
    code = "import sys; from course_lib import cli; cli.build_parser(); print('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    out = subprocess.run([sys.executable, "-m", "course_lib", "--help"], capture_output=True, text=True).stdout
    for command in ("synth", "inspect", "download", "train", "predict", "score"):
        assert command in out
