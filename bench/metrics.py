"""Speed of course_lib.metrics on 20,000 x 3,862 scores, as multiples of one memory pass.

    PYTHONPATH=. python bench/metrics.py [--videos 20000] [--repeat 7] [--no-tf]

Prints, in one run, min / median / max seconds over ``--repeat`` interleaved runs (other work
on the machine hits every implementation alike) of:

* the yardstick: one memory pass over the score matrix, ``y_score.max(axis=1)``; every other row
  also gives its multiple of it (min over min, and median over median), which depends much less
  on the machine than seconds do, and the multiple in CPU time (``time.process_time``, all threads
  of the process, min over min): the work done, which the load of a shared machine changes less
  than wall time (on a quiet 2-core machine the wall multiple of a 2-thread metric is lower);
* ``tf.math.top_k(scores, 20)`` on the same scores (already a tensor), for comparison;
* ``course_lib.metrics``: ``top_k`` (k = 20), ``gap_at_k`` (k = 20), ``map_at_k`` (k = 10),
  ``hit_at_1``, ``perr`` and the streaming ``TopKEvaluator`` over batches of 1,024 videos (the
  per-batch top 20 of every update, then ``result()``): each including its input checks;
* the references: a re-implementation of the YouTube-8M starter code's ``eval_util.calculate_gap``
  (``top_k_by_class`` with per-video ``argpartition``, a heapq ``AveragePrecisionCalculator``, a
  Python ``sorted`` of the pooled pairs) and a per-video Python loop like the course demo's
  ``ap_at_10`` (``argsort`` each row, then a Python AP over the ten labels).

Values are compared with the starter code's (``calculate_gap``, ``calculate_hit_at_one``,
``calculate_precision_at_equal_recall_rate``, once, untimed) and the loop's, to 1e-6.
"""

import argparse
import time

import numpy as np

from course_lib import metrics
from course_lib.metrics import selection, starter  # starter: the starter code's metrics, ported

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


def run_interleaved(functions, repeat):
    """Run every function ``repeat`` times, interleaved; return each one's wall times, CPU times
    (all threads) and last value."""
    times = {name: [] for name in functions}
    cpu = {name: [] for name in functions}
    values = {}
    for _ in range(repeat):
        for name, function in functions.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            values[name] = function()
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return times, cpu, values


def stream(y_true, y_score, batch_size=1024):
    evaluator = metrics.TopKEvaluator(k=20, num_classes=y_score.shape[1], map_k=10)
    for start in range(0, len(y_true), batch_size):
        evaluator.update(y_true[start : start + batch_size], y_score[start : start + batch_size])
    result = evaluator.result()
    result["kept_bytes"] = sum(a.nbytes for part in (evaluator._scores, evaluator._hits, evaluator._num_true) for a in part)
    return result


def implementations(y_true, y_score, y_true64, use_tf):
    """name -> (label, function); the first is the yardstick."""
    table = {
        "pass": ("one memory pass: y_score.max(axis=1)", lambda: y_score.max(axis=1)),
    }
    if use_tf:
        import tensorflow as tf  # only here: course_lib.metrics imports no TensorFlow

        tensor = tf.constant(y_score)
        table["tf_top_k"] = ("tf.math.top_k(scores, 20)", lambda: tf.math.top_k(tensor, 20)[0].numpy())
    table.update(
        {
            "top_k": ("course_lib.metrics.top_k(k=20)", lambda: metrics.top_k(y_score, 20)),
            "gap": ("course_lib.metrics.gap_at_k(k=20)", lambda: metrics.gap_at_k(y_true, y_score, k=20)),
            "map": ("course_lib.metrics.map_at_k(k=10)", lambda: metrics.map_at_k(y_true, y_score, k=10)),
            "hit": ("course_lib.metrics.hit_at_1", lambda: metrics.hit_at_1(y_true, y_score)),
            "perr": ("course_lib.metrics.perr", lambda: metrics.perr(y_true, y_score)),
            "stream": ("TopKEvaluator, batches of 1,024", lambda: stream(y_true, y_score)),
            "starter_gap": (
                "starter calculate_gap (heapq, sorted)",
                lambda: starter.calculate_gap(y_score, y_true64, top_k=20),
            ),
            "loop_map": ("per-video loop (argsort + ap_at_10)", lambda: loop_map_at_10(y_true, y_score)),
        }
    )
    return table


def print_times(table, times, cpu):
    base, base_cpu = times["pass"], cpu["pass"]
    print(f"{'implementation':40} {'min s':>7} {'median':>7} {'max':>7}   {'x pass (min, median)':>20}"
          f"   {'CPU x pass':>10}")
    for name, (label, _) in table.items():
        t = times[name]
        ratio = f"{min(t) / min(base):8.1f} {np.median(t) / np.median(base):8.1f}" if name != "pass" else ""
        cpu_ratio = f"{min(cpu[name]) / min(base_cpu):10.1f}" if name != "pass" else ""
        print(f"{label:40} {min(t):7.3f} {np.median(t):7.3f} {max(t):7.3f}   {ratio:>20}   {cpu_ratio:>10}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-tf", action="store_true", help="skip tf.math.top_k (no TensorFlow import)")
    args = parser.parse_args()

    y_true, y_score = make_data(args.videos)
    # float64 labels for the starter code: with float32 labels it sums in float32 under NumPy 2.
    y_true64 = y_true.astype(np.float64)
    print(f"data: {y_score.shape[0]:,} videos x {y_score.shape[1]:,} classes, float32 scores and labels "
          f"({y_score.nbytes / 1e6:,.0f} MB each), {int(y_true.sum()):,} true labels; "
          f"{args.repeat} runs of each, interleaved; metrics.selection.THREADS = {selection.THREADS}")
    table = implementations(y_true, y_score, y_true64, not args.no_tf)
    times, cpu, values = run_interleaved({name: function for name, (_, function) in table.items()}, args.repeat)
    print()
    print_times(table, times, cpu)
    print()
    print_ratios(times, cpu)
    print_values(values, y_true, y_score, y_true64)


def print_ratios(times, cpu):
    fastest = {name: min(t) for name, t in times.items()}
    worst = [name for name in ("gap", "map", "hit", "perr", "stream") if name in fastest]
    print(f"slowest metric (min time): {max(fastest[n] for n in worst) / fastest['pass']:.1f}x one memory pass; "
          f"in CPU time: {max(min(cpu[n]) for n in worst) / min(cpu['pass']):.1f}x")
    if "tf_top_k" in fastest:
        print("faster than tf.math.top_k (min times): " + ", ".join(
            f"{n} {fastest['tf_top_k'] / fastest[n]:.1f}x" for n in ["top_k", *worst]))
    print(f"GAP@20 speed-up over the starter code:   {fastest['starter_gap'] / fastest['gap']:5.1f}x (min times)")
    print(f"MAP@10 speed-up over the per-video loop: {fastest['loop_map'] / fastest['map']:5.1f}x (min times)")


def print_values(values, y_true, y_score, y_true64):
    reference = {
        "gap": values["starter_gap"],
        "map": values["loop_map"],
        "hit": float(starter.calculate_hit_at_one(y_score, y_true64)),
        "perr": float(starter.calculate_precision_at_equal_recall_rate(y_score, y_true64)),
    }
    stream_result = values["stream"]
    ours = {"gap": values["gap"], "map": values["map"], "hit": values["hit"], "perr": values["perr"]}
    streamed = {"gap": stream_result["gap@20"], "map": stream_result["map@10"], "hit": stream_result["hit@1"],
                "perr": stream_result["perr"]}
    worst = 0.0
    for name in ours:
        diff = max(abs(ours[name] - reference[name]), abs(streamed[name] - reference[name]))
        worst = max(worst, diff)
        print(f"{name:5} course_lib {ours[name]:.8f}  streaming {streamed[name]:.8f}  "
              f"starter code / loop {reference[name]:.8f}  |difference| <= {diff:.1e}")
    starter_gap32 = float(starter.calculate_gap(y_score, y_true, top_k=20))
    print(f"starter code fed float32 labels (sums in float32 under NumPy 2): {starter_gap32:.8f}, "
          f"|difference| = {abs(starter_gap32 - values['gap']):.1e}")
    print(f"TopKEvaluator keeps {stream_result['kept_bytes'] / 1e6:.1f} MB (dense scores: {y_score.nbytes / 1e6:,.0f} MB)")
    print(f"same values to 1e-6: {'yes' if worst <= 1e-6 else 'NO'}")


if __name__ == "__main__":
    main()
