"""Binary vs categorical cross-entropy for the course's baseline: MAP@10 side by side.

The course demo compiled its FCN (3,862 sigmoid outputs) with ``categorical_crossentropy``. Keras
then divides the sigmoids by their sum and scores ``-sum_j y_j log(p_j / sum_k p_k)``: the loss
only asks the true labels to take a larger *share* of the total, so nothing pushes the 3,859 or
so wrong labels of a video towards 0 on their own, and the ranking it learns is far worse than
with ``binary_crossentropy`` (one independent yes/no question per label, what the sigmoids model).
Same network, data, seed and epochs; only the loss differs. The bench also counts, per validation
video, the labels whose float32 probability is exactly 1.0: categorical cross-entropy lets the
sigmoids saturate, and saturated labels tie, so the top 10 is then decided by class index. How
much that costs depends on who wins ties: ``predict`` gives them to the lowest indices (the most
frequent labels, so a saturated model falls back to about the popularity ranking, also printed),
a hand-written ``np.argsort(p)[::-1][:10]`` to the highest (the rarest labels).

    python bench/loss_choice.py                  # the embedded sample (settings.data_pattern)
    python bench/loss_choice.py --real           # real shards: train 0000-0014, score 0015-0019
    python bench/loss_choice.py --data 'TRAIN*' --validation-data 'VAL*' --epochs 10
"""

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

from _shards import REAL_DIR, real_split

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

LOSSES = ("binary_crossentropy", "categorical_crossentropy")


def saturation(run, pattern):
    """How the trained model's ties matter on ``pattern``.

    Returns ``(labels at p == 1.0 per video, MAP@10 when ties go to the *highest* class index)``.
    ``predict`` (``tf.math.top_k``) gives ties to the lowest index, which in YouTube-8M's vocabulary
    are the most frequent labels; ``np.argsort(p)[::-1][:10]``, a common hand-written top 10,
    gives them to the highest, the rarest labels.
    """
    import numpy as np

    from course_lib import metrics
    from course_lib.data import load_yt8m
    from course_lib.project.runs import load_model

    model = load_model(run)
    evaluator = metrics.TopKEvaluator(k=10, map_k=10)
    counts = []
    for features, labels in load_yt8m(pattern, 512):
        probabilities = np.asarray(model({k: features[k] for k in ("mean_rgb", "mean_audio")}, training=False)["labels"])
        counts.append((probabilities == 1.0).sum(axis=1))
        reversed_top = np.argsort(probabilities, axis=1, kind="stable")[:, ::-1][:, :10]
        evaluator.update_top_k(labels.numpy(), reversed_top)
    return float(np.concatenate(counts).mean()), evaluator.result()["map@10"]


def popularity(data, validation):
    """MAP@10 of a constant submission: the 10 most frequent training labels for every video."""
    import numpy as np

    from course_lib import metrics
    from course_lib.project.score import read_labels

    counts = np.bincount(np.concatenate(list(read_labels(data).values())), minlength=3862)
    top = np.argsort(-counts, kind="stable")[:10]
    truth = list(read_labels(validation).values())
    evaluator = metrics.TopKEvaluator(k=10, map_k=10)
    evaluator.update_top_k(truth, np.tile(top, (len(truth), 1)))
    return evaluator.result()["map@10"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="training shards (default: settings.data_pattern('train'))")
    parser.add_argument("--validation-data", help="scored shards (default: settings.data_pattern('validate'))")
    parser.add_argument("--real", action="store_true", help=f"the real shards in {REAL_DIR}")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from course_lib import settings
    from course_lib.project import predict, score, train

    if args.real:
        split = real_split()
        if split is None:
            print(f"skipped: the real shards validate0000-0019 are not in {REAL_DIR}")
            return 0
        data, validation, where = *split, "real shards, train 0000-0014, scored 0015-0019"
    else:
        data = args.data or settings.data_pattern("train")
        validation = args.validation_data or settings.data_pattern("validate")
        where = f"train {data}, scored {validation}"

    history, submitted, saturated, reversed_ties = {}, {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for loss in LOSSES:
            run = Path(tmp) / loss
            train.train(
                run, data, validation, model="fcn", loss=loss, epochs=args.epochs,
                batch_size=args.batch_size, seed=args.seed, verbose=0,
            )
            with open(run / "history.csv", newline="") as handle:
                history[loss] = [float(row["val_map_at_10"]) for row in csv.DictReader(handle)]
            saturated[loss], reversed_ties[loss] = saturation(run, validation)
            predict.predict(run, Path(tmp) / f"{loss}.csv", validation, progress=False)
            submitted[loss] = score.score(Path(tmp) / f"{loss}.csv", validation)

    binary, categorical = LOSSES
    print(f"FCN baseline, {args.epochs} epochs, batch {args.batch_size}, seed {args.seed}; {where}")
    print(f"{'validation MAP@10':>18}  {'binary':>8}  {'categorical':>11}")
    for epoch, (b, c) in enumerate(zip(history[binary], history[categorical]), 1):
        print(f"{'epoch ' + str(epoch):>18}  {b:8.4f}  {c:11.4f}")
    for name in ("MAP@10", "GAP@20", "hit@1"):
        b, c = submitted[binary][name], submitted[categorical][name]
        print(f"{'submission ' + name:>18}  {b:8.4f}  {c:11.4f}")
    b, c = saturated[binary], saturated[categorical]
    print(f"{'labels at p == 1.0':>18}  {b:8.1f}  {c:11.1f}   (mean per validation video)")
    b, c = reversed_ties[binary], reversed_ties[categorical]
    print(f"{'MAP@10, ties high':>18}  {b:8.4f}  {c:11.4f}   (np.argsort(p)[::-1][:10]: ties to the rarest labels)")
    constant = popularity(data, validation)
    print(f"{'MAP@10 popularity':>18}  {constant:8.4f}  {'':11}   (the 10 most frequent training labels)")
    b, c = submitted[binary]["MAP@10"], submitted[categorical]["MAP@10"]
    print(f"MAP@10 ratio binary / categorical: {b / c:.1f}x" if c > 0 else "categorical MAP@10 is 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
