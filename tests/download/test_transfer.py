"""One file: verified not trusted, ``.part`` and resume, MD5 checks, a full disk, Ctrl-C."""

import errno
import json

from course_lib.download import transfer

from tests.download.server import TRAIN_LOCAL, TRAIN_NAMES, final_files, run, saved_plan


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
    assert "train0001.tfrecord" not in final_files(out)  # never a broken shard under a final name
    part = out / "train0001.tfrecord.part"
    size = len(server.files[path])
    assert part.stat().st_size == size // 2
    assert "trainab.tfrecord" in saved_plan(out)["files"]  # still on the to-do list

    assert run(server, out) == 0
    assert server.gets(path)[-1][2] == f"bytes={size // 2}-"
    assert (out / "train0001.tfrecord").read_bytes() == server.files[path]
    assert not part.exists()
    assert "fetched 1 file(s)" in capsys.readouterr().out and saved_plan(out)["files"] == {}


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
    plan = saved_plan(out)
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
    assert final_files(out) == ["train0000.tfrecord", "train0001.tfrecord", "train3843.tfrecord"]
    assert not (out / "train0096.tfrecord.part").exists()  # wrong bytes are not kept for resume
    assert list(saved_plan(out)["files"]) == ["trainbI.tfrecord"]


def test_a_full_disk_is_a_clear_message_and_leaves_no_final_file(server, tmp_path, capsys, monkeypatch):
    def full(file, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(transfer, "_write", full)
    out = tmp_path / "yt8m"
    assert run(server, out, "--jobs", "1") == 2
    err = capsys.readouterr().err
    assert "error: disk full writing" in err and "Traceback" not in err
    assert final_files(out) == []
    monkeypatch.setattr(transfer, "_write", lambda file, data: file.write(data))
    assert run(server, out) == 0 and final_files(out) == TRAIN_LOCAL


def test_ctrl_c_leaves_no_broken_shard_and_the_next_run_resumes(server, tmp_path, capsys, monkeypatch):
    chunks = []

    def interrupted(file, data):
        chunks.append(len(data))
        if len(chunks) == 20:  # in the second file, part-way
            raise KeyboardInterrupt
        file.write(data)

    monkeypatch.setattr(transfer, "CHUNK", 4096)
    monkeypatch.setattr(transfer, "_write", interrupted)
    out = tmp_path / "yt8m"
    assert run(server, out, "--jobs", "1") == 130
    assert "interrupted" in capsys.readouterr().err
    assert final_files(out) == ["train0000.tfrecord"]  # whole and verified; the second is only a .part
    first_file_chunks = -(-len(server.files["/2/video/train/trainaa.tfrecord"]) // 4096)
    kept = (out / "train0001.tfrecord.part").stat().st_size
    assert kept == 4096 * (19 - first_file_chunks) > 0
    monkeypatch.setattr(transfer, "_write", lambda file, data: file.write(data))
    server.requests.clear()
    assert run(server, out) == 0 and final_files(out) == TRAIN_LOCAL
    assert server.gets("/2/video/train/trainab.tfrecord")[0][2] == f"bytes={kept}-"
    for name, local in zip(TRAIN_NAMES, TRAIN_LOCAL):
        assert (out / local).read_bytes() == server.files[f"/2/video/train/{name}"]


def test_ctrl_c_on_a_stalled_connection_stops_and_keeps_only_a_part(server, tmp_path, capsys):
    out = tmp_path / "yt8m"
    path = "/2/video/train/trainaa.tfrecord"
    server.stall_once = path
    assert run(server, out, "--jobs", "2") == 130
    assert "interrupted" in capsys.readouterr().err
    assert "train0000.tfrecord" not in final_files(out)
    assert (out / "train0000.tfrecord.part").stat().st_size <= len(server.files[path]) // 2
    server.release.set()
    assert run(server, out) == 0 and final_files(out) == TRAIN_LOCAL
    assert (out / "train0000.tfrecord").read_bytes() == server.files[path]


def test_a_disk_full_at_close_names_the_part_and_says_run_again(server, tmp_path, capsys, monkeypatch):
    # Buffered writes succeed and the full disk shows when the file is flushed on close (issue 11).
    real_open = open

    class FlushFailsOnClose:
        def __init__(self, path, mode):
            self.file = real_open(path, mode)

        def write(self, data):
            return self.file.write(data)

        def close(self):
            self.file.close()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.close()

    monkeypatch.setattr(transfer, "open", FlushFailsOnClose, raising=False)
    out = tmp_path / "yt8m"
    assert run(server, out, "--jobs", "1") == 2
    err = capsys.readouterr().err
    part = out / "train0000.tfrecord.part"
    assert f"disk full writing {part}: free some space and run the same command again to resume" in err
    assert "Traceback" not in err and final_files(out) == []
    monkeypatch.undo()
    assert run(server, out) == 0 and final_files(out) == TRAIN_LOCAL
