"""Fixtures shared by the unit tests."""

from pathlib import Path

import pytest

REAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "yt8m"


@pytest.fixture(scope="session")
def real_shards():
    """Sorted paths of the 20 real validation shards; skips the test where they are absent."""
    shards = sorted((REAL_DIR / "validate").glob("validate*.tfrecord"))
    if not shards:
        pytest.skip(f"real YouTube-8M shards not present in {REAL_DIR}")
    return shards


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory):
    """A small synthetic YouTube-8M (600 videos: 4 train shards, 1 validate shard), made once."""
    from course_lib.data import synthetic

    out = tmp_path_factory.mktemp("tiny_yt8m")
    synthetic.write_synthetic(out, videos=600, shards=5, seed=7, progress=False)
    return out
