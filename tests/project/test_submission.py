"""The submission validator: every malformed line is an error naming the file and the line."""

import pytest

from course_lib import cli
from course_lib.project.score import SubmissionError, read_submission

IDS = {"aaaa": [1, 2], "bbbb": [3], "cccc": [0, 5, 9]}
GOOD = "0 1 2 3 4 5 6 7 8 9"


def write(tmp_path, *lines, header="VideoId,Label"):
    path = tmp_path / "submission.csv"
    path.write_text("\n".join(([header] if header is not None else []) + list(lines)) + "\n")
    return path


def check(path):
    return dict(read_submission(path, IDS))


def test_a_valid_submission_is_read_in_order(tmp_path):
    path = write(tmp_path, f"cccc,{GOOD}", f"aaaa,{GOOD}", "", f"bbbb,9 8 7 6 5 4 3 2 1 0")
    rows = check(path)
    assert list(rows) == ["cccc", "aaaa", "bbbb"]  # blank lines are skipped
    assert rows["bbbb"].tolist() == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]


@pytest.mark.parametrize(
    "lines, line, message",
    [
        ([f"aaaa,{GOOD}", f"zzzz,{GOOD}"], 3, "unknown video id 'zzzz'"),
        ([f"aaaa,{GOOD}", f"bbbb,{GOOD}", f"aaaa,{GOOD}"], 4, "video id 'aaaa' repeated (first on line 2)"),
        (["aaaa,0 1 2 3 4 5 6 7 8"], 2, "expected 10 labels separated by spaces, found 9"),
        (["aaaa,0 1 2 3 4 5 6 7 8 9 10"], 2, "expected 10 labels separated by spaces, found 11"),
        (["aaaa,"], 2, "found 0"),
        (["aaaa,0 1 2 3 4 5 6 7 8 x"], 2, "label 'x' is not an integer"),
        (["aaaa,0 1 2 3 4 5 6 7 8 9.0"], 2, "label '9.0' is not an integer"),
        (["aaaa,0 1 2 3 4 5 6 7 8 1_0"], 2, "label '1_0' is not an integer"),
        ([","], 2, "unknown video id ''"),
        (["aaaa,0 1 2 3 4 5 6 7 8 8"], 2, "label 8 repeated"),
        (["aaaa,0 1 2 3 4 5 6 7 8 3862"], 2, "label 3862 is out of range [0, 3862)"),
        (["aaaa,-1 1 2 3 4 5 6 7 8 9"], 2, "label -1 is out of range"),
        ([f"aaaa,{GOOD},extra"], 2, "expected 2 fields"),
        (["aaaa"], 2, "expected 2 fields"),
    ],
)
def test_bad_lines_are_named(tmp_path, lines, line, message):
    path = write(tmp_path, *lines)
    with pytest.raises(SubmissionError) as error:
        check(path)
    assert str(error.value).startswith(f"{path}, line {line}: ")
    assert message in str(error.value)


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("\ufeffVideoId,Label\n" + "".join(f"{i},{GOOD}\n" for i in IDS), encoding="utf-8")
    assert list(check(path)) == list(IDS)


def test_bad_header_and_empty_file(tmp_path):
    with pytest.raises(SubmissionError, match=r", line 1: the header must be VideoId,Label"):
        check(write(tmp_path, f"aaaa,{GOOD}", header="id,labels"))
    with pytest.raises(SubmissionError, match=r", line 1: the header must be VideoId,Label"):
        check(write(tmp_path, header=f"aaaa,{GOOD}"))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SubmissionError, match=r"empty.csv, line 1: empty file"):
        check(empty)


def test_missing_videos_are_named(tmp_path):
    path = write(tmp_path, f"aaaa,{GOOD}", f"cccc,{GOOD}")
    with pytest.raises(SubmissionError, match=r"1 video\(s\) of the shards have no row, first 'bbbb'"):
        check(path)


def test_the_command_prints_one_line_and_exits_2(tmp_path, tiny_world, capsys):
    path = write(tmp_path, "abcd,0 1 2 3 4 5 6 7 8 9")
    assert cli.main(["score", str(path), "--data", str(tiny_world / "validate*.tfrecord")]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {path}, line 2: unknown video id 'abcd': it is in none of the shards scored\n"


def test_an_unterminated_quote_is_reported_where_it_opens_in_one_short_line(tmp_path):
    ids = {f"v{i:04d}" for i in range(800)}
    lines = [f"v{i:04d},{GOOD}" for i in range(800)]
    lines[5] = '"' + lines[5]  # line 7 of the file
    path = write(tmp_path, *lines)
    with pytest.raises(SubmissionError) as caught:
        list(read_submission(path, ids))
    message = str(caught.value)
    assert message.startswith(f'{path}, line 7: a quote (") opened on this line is not closed on it: ')
    assert len(message) < 300 and "\n" not in message.replace("\\n", "")
    many = [f"v{i:05d},{GOOD}" for i in range(20_000)]  # so long that csv stops at its field limit
    many[5] = '"' + many[5]
    path = write(tmp_path, *many)
    with pytest.raises(SubmissionError) as caught:
        list(read_submission(path, {f"v{i:05d}" for i in range(20_000)}))
    assert str(caught.value) == (f"{path}, line 7: not valid CSV (field larger than field limit (131072)); "
                                 'a quote (") opened on this line may not be closed')
