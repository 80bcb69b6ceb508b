"""MAP@10 of the course's baseline on real YouTube-8M: train on shards 0000-0014, score 0015-0019.

The whole project loop, as the commands run it: ``train`` (FCN, binary cross-entropy), ``predict``
(top 10 per video), ``score`` (the submission against the shards' labels). Prints the validation
MAP@10 / GAP@20 of each epoch (from the model's probabilities) and the submission's scores.

    python bench/quality.py [--epochs 20] [--real-dir ../shared/data/yt8m/validate]

Skips (exit 0, with a message) where the real shards are absent: they are not part of the
repository. CPU only is fine: the 15 training shards hold 4,438 videos; 20 epochs take about
1.5 minutes on 2 cores.
"""

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

from _shards import REAL_DIR, real_split

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--real-dir", default=str(REAL_DIR), help="folder of validate0000..0019.tfrecord")
    args = parser.parse_args(argv)
    split = real_split(args.real_dir)
    if split is None:
        print(f"skipped: the real shards validate0000-0019 are not in {args.real_dir}")
        return 0
    train_files, test_files = split

    from course_lib.project import predict, score, train

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "fcn"
        start = time.perf_counter()
        train.train(
            run, train_files, test_files, model="fcn", epochs=args.epochs, batch_size=args.batch_size,
            seed=args.seed, verbose=0,
        )
        trained = time.perf_counter() - start
        submission = Path(tmp) / "submission.csv"
        videos = predict.predict(run, submission, test_files, progress=False)
        scores = score.score(submission, test_files)
        with open(run / "history.csv", newline="") as handle:
            history = list(csv.DictReader(handle))

    print(f"baseline FCN (binary cross-entropy), {args.epochs} epochs, batch {args.batch_size}, seed {args.seed}")
    print(f"train: real shards 0000-0014; scored: 0015-0019 ({videos} videos); training {trained:.0f} s")
    print("epoch  val_MAP@10  val_GAP@20")
    for row in history:
        print(f"{int(row['epoch']) + 1:5d}  {float(row['val_map_at_10']):10.4f}  {float(row['val_gap_at_20']):10.4f}")
    print("submission: " + "  ".join(f"{k} {scores[k]:.4f}" for k in ("MAP@10", "GAP@20", "hit@1")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
