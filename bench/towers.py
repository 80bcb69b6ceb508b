"""MAP@10 / GAP@20 of FCN, shared-bottom, MMoE and PLE with 25 vertical towers on the real shards.

Notebook 07's comparison at a real size: every model trains through the project's ``train`` (Adam,
binary cross-entropy per vertical, the same batches) on real shards 0000-0014 and is scored each
epoch on 0015-0019; three seeds each, equal epochs. Prints the last epoch's validation MAP@10 and
GAP@20 of every seed, their mean and range, the parameters and the multiplications per video.

    python bench/towers.py [--epochs 10] [--seeds 0 1 2] [--models fcn shared_bottom mmoe ple ...]

``shared_bottom`` here is the ``vertical_heads`` model (the FCN's trunk, one head per vertical).
MMoE and PLE run with their defaults ``tower_normalize=True, head_bias="prior"`` (layer-normalised
towers, heads starting at the labels' log-prior odds; without them both reached less than half the
FCN's MAP@10, README "Learned sharing with 25 vertical towers"). ``fcn_prior`` and
``shared_bottom_prior`` start the baselines' heads at the log-priors too (``head_bias="prior"``);
``--models mmoe_plain mmoe_prior_only mmoe_normalize_only`` runs the ablation.
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

MMOE = {"num_experts": 8, "expert_units": 256, "tower_units": 64}
PLAIN = {"tower_normalize": False, "head_bias": "zeros"}  # the towers before issue 17
MODELS = {  # label: (registered name, arguments); parameters within 10 % of each other (printed)
    "fcn": ("fcn", {"hidden_units": 512}),
    "shared_bottom": ("vertical_heads", {"hidden_units": 512}),
    "mmoe": ("mmoe", MMOE),
    "ple": ("ple", {"task_experts": 1, "shared_experts": 4, "expert_units": 72, "tower_units": 64}),
    # the baselines with their heads at the labels' log-priors too, as the mixtures' towers start
    "fcn_prior": ("fcn", {"hidden_units": 512, "head_bias": "prior"}),
    "shared_bottom_prior": ("vertical_heads", {"hidden_units": 512, "head_bias": "prior"}),
}
ABLATIONS = {  # run with --models: MMoE's towers with one, the other or neither of the two options
    "mmoe_plain": ("mmoe", {**MMOE, **PLAIN}),
    "mmoe_prior_only": ("mmoe", {**MMOE, **PLAIN, "head_bias": "prior"}),
    "mmoe_normalize_only": ("mmoe", {**MMOE, **PLAIN, "tower_normalize": True}),
}
CHOICES = {**MODELS, **ABLATIONS}


def multiplications(net):
    """Multiply-adds of the matrix products for one video: every kernel entry once."""
    import numpy as np

    return sum(int(np.prod(v.shape)) for v in net.trainable_weights if len(v.shape) >= 2)


def run_one(label, seed, epochs, batch_size, train_files, test_files):
    from course_lib.project import train

    name, model_args = CHOICES[label]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        train.train(Path(tmp) / label, train_files, test_files, model=name, model_args=model_args, epochs=epochs,
                    batch_size=batch_size, seed=seed, verbose=0)
        seconds = time.perf_counter() - start
        with open(Path(tmp) / label / "history.csv", newline="") as handle:
            last = list(csv.DictReader(handle))[-1]
    prefix = "val_" if "val_map_at_10" in last else "val_labels_"
    return float(last[prefix + "map_at_10"]), float(last[prefix + "gap_at_20"]), seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(CHOICES))
    parser.add_argument("--real-dir", default=str(REAL_DIR), help="folder of validate0000..0019.tfrecord")
    args = parser.parse_args(argv)
    split = real_split(args.real_dir)
    if split is None:
        print(f"skipped: the real shards validate0000-0019 are not in {args.real_dir}")
        return 0
    from course_lib import models

    print(f"real shards 0000-0014 -> 0015-0019, {args.epochs} epochs, batch {args.batch_size}, seeds {args.seeds}")
    print("model                params  mult/video  MAP@10 per seed           mean (range)      GAP@20 mean (range)   s/run")
    for label in args.models:
        net = models.build_model(CHOICES[label][0], **CHOICES[label][1])
        runs = [run_one(label, seed, args.epochs, args.batch_size, *split) for seed in args.seeds]
        maps, gaps, secs = zip(*runs)
        mean = lambda v: sum(v) / len(v)  # noqa: E731
        print(f"{label:19s} {net.count_params() / 1e6:6.2f}M {multiplications(net) / 1e6:9.2f}M  "
              f"{' '.join(f'{m:.4f}' for m in maps):24s}  {mean(maps):.4f} ({min(maps):.4f}-{max(maps):.4f})  "
              f"{mean(gaps):.4f} ({min(gaps):.4f}-{max(gaps):.4f})  {mean(secs):5.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
