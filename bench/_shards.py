"""Where the benches find data: the real YouTube-8M sample beside the repository, or the sample."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL_DIR = ROOT.parent / "shared" / "data" / "yt8m" / "validate"


def real_split(real_dir=REAL_DIR, train=range(0, 15), test=range(15, 20)):
    """``(train files, test files)`` of the real shards ``validate0000`` ... or ``None`` if absent.

    The 20 real shards all come from YouTube-8M's validation partition; the benches train on
    0000-0014 and score on 0015-0019.
    """
    real_dir = Path(real_dir)
    pick = lambda numbers: [real_dir / f"validate{n:04d}.tfrecord" for n in numbers]  # noqa: E731
    train_files, test_files = pick(train), pick(test)
    if not all(path.is_file() for path in train_files + test_files):
        return None
    return [str(p) for p in train_files], [str(p) for p in test_files]
