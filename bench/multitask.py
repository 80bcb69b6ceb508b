"""MAP@10 / GAP@20 of the FCN against the shared-bottom model on real YouTube-8M, three seeds each.

Notebook 04's section 2 at full size, through the project's ``train``: the FCN (one output layer
for the 3,862 labels) and ``shared_bottom`` (the same trunk, a tower and a head per topic
vertical, one loss per vertical with size weights; towers as wide as gives the FCN's parameter
count), trained on real shards 0000-0014 for the same epochs, batch and learning rate, scored
on 0015-0019 after the last epoch (the validation MAP@10 / GAP@20 ``train`` records).

    python bench/multitask.py [--epochs 10] [--seeds 0 1 2] [--real-dir ../shared/data/yt8m/validate]

Skips (exit 0, with a message) where the real shards are absent.
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

MODELS = ("fcn", "shared_bottom")


def last_scores(run):
    """``(MAP@10, GAP@20)`` of the last epoch in a run's history (single- or multi-output names)."""
    with open(Path(run) / "history.csv", newline="") as handle:
        row = list(csv.DictReader(handle))[-1]
    prefix = "val_labels_" if "val_labels_map_at_10" in row else "val_"
    return float(row[prefix + "map_at_10"]), float(row[prefix + "gap_at_20"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--real-dir", default=str(REAL_DIR), help="folder of validate0000..0019.tfrecord")
    args = parser.parse_args(argv)
    split = real_split(args.real_dir)
    if split is None:
        print(f"skipped: the real shards validate0000-0019 are not in {args.real_dir}")
        return 0
    train_files, test_files = split

    import numpy as np

    from course_lib import models
    from course_lib.project import train

    params = {name: models.build_model(name).count_params() for name in MODELS}
    print(f"{args.epochs} epochs, batch {args.batch_size}, seeds {args.seeds}; train: real shards 0000-0014, "
          "scored: 0015-0019")
    print("model          params      seed  MAP@10   GAP@20   train s")
    results = {name: [] for name in MODELS}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for name in MODELS:
                run = Path(tmp) / f"{name}_{seed}"
                start = time.perf_counter()
                train.train(run, train_files, test_files, model=name, epochs=args.epochs,
                            batch_size=args.batch_size, seed=seed, verbose=0)
                results[name].append(last_scores(run))
                print(f"{name:13s} {params[name]:9,d} {seed:5d}  {results[name][-1][0]:.4f}   "
                      f"{results[name][-1][1]:.4f}   {time.perf_counter() - start:6.0f}", flush=True)
    print("mean (min - max) over seeds")
    for name in MODELS:
        values = np.array(results[name])
        print(f"{name:13s} MAP@10 {values[:, 0].mean():.4f} ({values[:, 0].min():.4f} - {values[:, 0].max():.4f})  "
              f"GAP@20 {values[:, 1].mean():.4f} ({values[:, 1].min():.4f} - {values[:, 1].max():.4f})")
    gain = np.array(results["shared_bottom"])[:, 0] - np.array(results["fcn"])[:, 0]
    print(f"shared_bottom - fcn, MAP@10 per seed: {' '.join(f'{g:+.4f}' for g in gain)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
