"""Speed of course_lib.metrics on 20,000 x 3,862 scores against the per-video and starter-code ways.

    PYTHONPATH=. python bench/metrics.py [--videos 20000] [--repeat 3]

Prints, in one run:

* GAP@20: ``course_lib.metrics.gap_at_k`` against a re-implementation of the YouTube-8M starter
  code's ``eval_util.calculate_gap`` (``top_k_by_class`` with per-video ``argpartition``, a heapq
  ``AveragePrecisionCalculator``, a Python ``sorted`` of the pooled pairs); values compared to 1e-6.
* MAP@10: ``course_lib.metrics.map_at_k`` against a per-video Python loop like the course demo's
  ``ap_at_10`` (``argsort`` each row, then a Python AP over the ten labels).
* The streaming ``TopKEvaluator`` over batches of 1,024 videos (all metrics at once).

Times are the best of ``--repeat`` interleaved runs of every implementation, on whatever else the
machine is doing at the time: read the ratios, not the seconds.
"""

import argparse
import time

import numpy as np

from course_lib import metrics
from course_lib.metrics import starter  # the starter code's calculate_gap, ported

# ---------------------------------------------------------------------------------------------
# A per-video loop like the course demo's ap_at_10.


def ap_at_10(actual, predicted):
    hits, total = 0, 0.0
    for rank, label in enumerate(predicted[:10], start=1):
        if label in actual:
            hits += 1
            total += hits / rank
    return total / min(len(actual), 10) if actual else 0.0


def loop_map_at_10(y_true, y_score):
    total = 0.0
    for truth_row, score_row in zip(y_true, y_score):
        top10 = np.argsort(score_row)[::-1][:10]
        total += ap_at_10(set(np.flatnonzero(truth_row).tolist()), top10.tolist())
    return total / len(y_true)


# ---------------------------------------------------------------------------------------------


def make_data(videos, classes=3862, seed=0):
    """Multi-hot truth with the real label-count histogram (1 to 15 labels) and noisy scores."""
    rng = np.random.default_rng(seed)
    histogram = np.array([1540, 1290, 1024, 927, 539, 259, 156, 84, 31, 18, 13, 2, 3, 1, 2], float)
    counts = rng.choice(np.arange(1, 16), size=videos, p=histogram / histogram.sum())
    prior = 1.0 / np.arange(1, classes + 1) ** 0.8  # a long tail of label frequencies
    y_true = np.zeros((videos, classes), np.float32)
    for row, count in enumerate(counts):
        y_true[row, rng.choice(classes, count, replace=False, p=prior / prior.sum())] = 1
    y_score = rng.random((videos, classes), dtype=np.float32) * 0.6
    y_score += y_true * rng.random((videos, classes), dtype=np.float32) * 0.5
    return y_true, y_score


def best_times(functions, repeat):
    """Run every function ``repeat`` times, interleaved (so machine load hits all alike); best time."""
    best = {name: float("inf") for name in functions}
    values = {}
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.perf_counter()
            values[name] = function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, values


def stream(y_true, y_score, batch_size=1024):
    evaluator = metrics.TopKEvaluator(k=20, num_classes=y_score.shape[1], map_k=10)
    for start in range(0, len(y_true), batch_size):
        evaluator.update(y_true[start : start + batch_size], y_score[start : start + batch_size])
    kept = sum(a.nbytes for part in (evaluator._scores, evaluator._hits, evaluator._num_true) for a in part)
    return evaluator.result(), kept


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    y_true, y_score = make_data(args.videos)
    # float64 labels for the starter code: with float32 labels it sums in float32 under NumPy 2.
    y_true64 = y_true.astype(np.float64)
    print(f"data: {y_score.shape[0]:,} videos x {y_score.shape[1]:,} classes, float32 scores "
          f"({y_score.nbytes / 1e6:,.0f} MB), {int(y_true.sum()):,} true labels; best of {args.repeat}")

    seconds, values = best_times(
        {
            "gap": lambda: metrics.gap_at_k(y_true, y_score, k=20),
            "starter_gap": lambda: starter.calculate_gap(y_score, y_true64, top_k=20),
            "map": lambda: metrics.map_at_k(y_true, y_score, k=10),
            "loop_map": lambda: loop_map_at_10(y_true, y_score),
            "stream": lambda: stream(y_true, y_score),
        },
        args.repeat,
    )
    stream_result, kept = values["stream"]
    starter_gap32 = float(starter.calculate_gap(y_score, y_true, top_k=20))

    rows = [
        ("GAP@20", "course_lib.metrics.gap_at_k", "gap", values["gap"]),
        ("GAP@20", "starter calculate_gap (heapq, sorted)", "starter_gap", values["starter_gap"]),
        ("MAP@10", "course_lib.metrics.map_at_k", "map", values["map"]),
        ("MAP@10", "per-video loop (argsort + ap_at_10)", "loop_map", values["loop_map"]),
        ("all", "TopKEvaluator, batches of 1,024", "stream", stream_result["gap@20"]),
    ]
    print()
    print(f"{'metric':8} {'implementation':40} {'seconds':>8} {'value':>12}")
    for metric, name, key, value in rows:
        print(f"{metric:8} {name:40} {seconds[key]:8.3f} {value:12.8f}")
    print()
    gap_diff = abs(values["gap"] - values["starter_gap"])
    map_diff = abs(values["map"] - values["loop_map"])
    print(f"GAP@20 speed-up over the starter code:   {seconds['starter_gap'] / seconds['gap']:5.1f}x  "
          f"|difference| = {gap_diff:.1e}")
    print(f"MAP@10 speed-up over the per-video loop: {seconds['loop_map'] / seconds['map']:5.1f}x  "
          f"|difference| = {map_diff:.1e}")
    print(f"TopKEvaluator (GAP@20, MAP@10, hit@1, PERR at once) vs starter GAP alone: "
          f"{seconds['starter_gap'] / seconds['stream']:5.1f}x; keeps {kept / 1e6:.1f} MB "
          f"(dense scores: {y_score.nbytes / 1e6:,.0f} MB); "
          f"|GAP - gap_at_k| = {abs(stream_result['gap@20'] - values['gap']):.1e}, "
          f"|MAP - map_at_k| = {abs(stream_result['map@10'] - values['map']):.1e}")
    print(f"starter code fed float32 labels (sums in float32 under NumPy 2): {starter_gap32:.8f}, "
          f"|difference| = {abs(starter_gap32 - values['gap']):.1e}")
    print(f"same values to 1e-6: {'yes' if gap_diff <= 1e-6 and map_diff <= 1e-6 else 'NO'}")


if __name__ == "__main__":
    main()
