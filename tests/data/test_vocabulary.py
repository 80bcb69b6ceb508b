import numpy as np
import pytest

from course_lib.data import vocabulary


def test_shipped_vocabulary_maps_through_the_index_column():
    voc = vocabulary.load_vocabulary()
    assert voc.num_classes == 3862
    assert voc.num_verticals == 25
    assert "(Unknown)" in voc.vertical_names
    # Rows are sorted by count in the file; the Index column decides.
    assert voc.names[0] == "Game" and voc.train_counts[0] == 788288
    assert voc.names[1] == "Video game" and voc.vertical(1) == "Games"
    assert voc.vertical(2) == "Autos & Vehicles"
    assert int(voc.train_counts.sum()) == 11_711_620
    assert sum(1 for n in voc.names if not n) == 56
    assert voc.name(next(i for i, n in enumerate(voc.names) if not n)).startswith("#")


def test_vertical_groups_partition_the_labels():
    voc = vocabulary.load_vocabulary()
    groups = voc.vertical_groups()
    assert list(groups)[:2] == ["games", "arts_entertainment"]
    assert len(groups["games"]) == 734 and len(groups["real_estate"]) == 6
    labels = np.concatenate(list(groups.values()))
    assert sorted(labels.tolist()) == list(range(3862))
    assert list(voc.vertical_groups(slug=False))[0] == "Games"


def test_shipped_copy_agrees_with_the_official_file(real_shards):
    official = vocabulary.read_vocabulary(real_shards[0].parents[1] / "vocabulary.csv")
    shipped = vocabulary.load_vocabulary()
    assert official.names == shipped.names
    np.testing.assert_array_equal(official.vertical_ids, shipped.vertical_ids)
    np.testing.assert_array_equal(official.train_counts, shipped.train_counts)


@pytest.mark.parametrize(
    "text, message",
    [
        ("Index,Name\n0,a\n", "missing column"),
        ("Index,TrainVideoCount,Name,Vertical1\n0,x,a,Games\n", "line 2"),
        ("Index,TrainVideoCount,Name,Vertical1\n0,1,a,Games\n0,1,b,Games\n", "appears twice"),
        ("Index,TrainVideoCount,Name,Vertical1\n0,1,a,Games\n2,1,b,Games\n", "Index column"),
    ],
)
def test_bad_vocabulary_files_name_the_file(tmp_path, text, message):
    path = tmp_path / "vocabulary.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        vocabulary.read_vocabulary(path)
    assert str(path) in str(error.value)


def test_slugify():
    assert vocabulary.slugify("Arts & Entertainment") == "arts_entertainment"
    assert vocabulary.slugify("(Unknown)") == "unknown"


def test_log_prior_odds_are_the_train_partition_frequencies():
    shipped = vocabulary.load_vocabulary()
    odds = shipped.log_prior_odds()
    frequency = shipped.train_counts / 3_888_919
    np.testing.assert_allclose(1 / (1 + np.exp(-odds)), frequency, rtol=1e-9)
    np.testing.assert_array_equal(shipped.log_prior_odds([5, 0]), odds[[5, 0]])
    assert odds.shape == (3862,) and odds.max() < 0  # every label is in fewer than half the videos
