"""Training-step time of notebook 07's models, with and without XLA, and batched experts against a loop.

Two measurements on random inputs of the real feature sizes (no data needed), batch 256:

1. **Batched experts against the loop.** ``course_lib.layers.Experts`` (one ``(n, d, u)`` kernel, one
   ``(batch, d) x (d, n u)`` matmul) against ``n`` separate ``Dense`` layers stacked, the same outputs
   (tested in ``tests/layers/test_experts.py``), as a training step of a sum-of-squares loss (Adam).
   Goal: batched at least 1.3 times faster, for MMoE's bank (8 x 256 on the 1,152 inputs). A
   tower-sized bank (25 x 64 on 256 inputs) is timed too: batching saves per-operation overhead,
   not arithmetic, so it pays where the experts are small.
2. **Each model's step against the FCN's**, at comparable parameter counts (printed): fcn,
   shared-bottom (``vertical_heads``), omoe, mmoe, snr, cgc, ple, each compiled as ``train``
   compiles it (binary cross-entropy per output that has a loss, Adam), eager graph and
   ``jit_compile=True``. Goal: every model within 1.5 times the FCN's step.

The networks compared are interleaved step by step (one timed ``train_on_batch`` of each in turn,
after ``--warmup`` untimed ones), so load from other jobs falls on all of them alike; the eager
models are interleaved with each other and the XLA ones with each other. A time is the median of
``--steps`` steps, and the minimum over ``--repeats`` rounds is printed.

    PYTHONPATH=. python bench/multitask_speed.py [--steps 20] [--repeats 3] [--no-xla]
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

from course_lib import console  # noqa: E402

console.quiet_tensorflow()  # before keras: TensorFlow's start-up lines (WARNING: All log messages..., I0000) filtered

MODELS = {  # label: (registered name, arguments), about 3.1M parameters each (printed)
    "fcn": ("fcn", {"hidden_units": 512}),
    "shared_bottom": ("vertical_heads", {"hidden_units": 512}),
    "omoe": ("omoe", {"num_experts": 8, "expert_units": 256, "tower_units": 64}),
    "mmoe": ("mmoe", {"num_experts": 8, "expert_units": 256, "tower_units": 64}),
    "snr": ("snr", {"num_experts": 8, "expert_units": 176, "output_units": 32, "tower_units": 64}),
    "cgc": ("cgc", {"task_experts": 1, "shared_experts": 4, "expert_units": 80, "tower_units": 64}),
    "ple": ("ple", {"task_experts": 1, "shared_experts": 4, "expert_units": 72, "tower_units": 64}),
}


def step_times(runs, steps, warmup, repeats):
    """``{key: seconds}`` for ``runs = {key: (model, x, y)}``: steps interleaved across the models.

    A time is the median over ``steps`` timed ``train_on_batch`` calls; the min over ``repeats``
    rounds is returned.
    """
    for model, x, y in runs.values():
        for _ in range(warmup):
            model.train_on_batch(x, y)
    best = {}
    for _ in range(repeats):
        times = {key: [] for key in runs}
        for _ in range(steps):
            for key, (model, x, y) in runs.items():
                start = time.perf_counter()
                model.train_on_batch(x, y)
                times[key].append(time.perf_counter() - start)
        for key, t in times.items():
            best[key] = min(best.get(key, float("inf")), statistics.median(t))
    return best


def expert_models(n, d, u):
    import keras

    from course_lib import layers

    x = keras.Input((d,))
    batched = keras.Model(x, layers.Experts(n, u, seed=0)(x))
    loop = [keras.layers.Dense(u, activation="relu", name=f"expert_{i}")(x) for i in range(n)]
    looped = keras.Model(x, keras.ops.stack(loop, axis=1))
    return batched, looped


def experts_row(n, d, u, x, args):
    """One printed line: a training step of ``Experts(n, u)`` against a loop of ``n`` ``Dense`` on ``x``."""
    import keras
    import numpy as np

    y = np.zeros((x.shape[0], n, u), "float32")
    runs = {}
    for name, net in zip(("batched", "loop"), expert_models(n, d, u)):
        net.compile(keras.optimizers.Adam(1e-3), loss="mse")
        runs[name] = (net, x, y)
    t = step_times(runs, args.steps, args.warmup, args.repeats)
    goal = " (goal >= 1.3)" if n == 8 else ""
    return (f"experts ({n} x {u} on {d}): batched {t['batched'] * 1e3:.2f} ms, loop of Dense {t['loop'] * 1e3:.2f} ms, "
            f"loop / batched {t['loop'] / t['batched']:.2f}{goal}")


def compiled(name, args, jit):
    import keras

    from course_lib import models

    net = models.build_model(name, **args)
    tasks = models.model_tasks(name, **args)
    loss = {k: "binary_crossentropy" for k, t in tasks.items() if t.loss is not None}
    net.compile(keras.optimizers.Adam(1e-3), loss=loss, loss_weights={k: tasks[k].weight for k in loss}, jit_compile=jit)
    return net, loss


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--no-xla", action="store_true", help="skip the jit_compile=True runs")
    args = parser.parse_args(argv)
    import logging

    # Fourteen models each trace their own train step once; TensorFlow counts the traces per code
    # object (one_step_on_data) across models and warns of "retracing", a false alarm here.
    logging.getLogger("tensorflow").addFilter(lambda record: "tf.function retracing" not in record.getMessage())
    import numpy as np

    from course_lib.data import load_vocabulary, spec

    rng = np.random.default_rng(0)
    b = args.batch_size
    x_flat = rng.normal(size=(b, spec.RGB_SIZE + spec.AUDIO_SIZE)).astype("float32")
    x = {"mean_rgb": x_flat[:, :spec.RGB_SIZE], "mean_audio": x_flat[:, spec.RGB_SIZE:]}
    labels = (rng.uniform(size=(b, spec.NUM_CLASSES)) < 3 / spec.NUM_CLASSES).astype("float32")
    groups = load_vocabulary().vertical_groups()
    targets = {"labels": labels, **{g: labels[:, ids] for g, ids in groups.items()}}

    print(f"batch {b}, median of {args.steps} interleaved steps, min over {args.repeats} rounds")
    for n, d, u in ((8, x_flat.shape[1], 256), (25, 256, 64)):
        print(experts_row(n, d, u, rng.normal(size=(b, d)).astype("float32"), args), flush=True)

    modes = [False] if args.no_xla else [False, True]
    nets = {(label, jit): compiled(*MODELS[label], jit) for label in MODELS for jit in modes}
    runs = {key: (net, x, {k: targets[k] for k in net.output}) for key, (net, _) in nets.items()}
    times = {}
    for jit in modes:  # eager and XLA apart: steps of one slowed the other's when interleaved
        times.update(step_times({key: run for key, run in runs.items() if key[1] == jit}, args.steps, args.warmup,
                                args.repeats))
    print("model          params   eager ms  / fcn" + ("    xla ms  / fcn" if True in modes else ""))
    for label in MODELS:
        net = nets[label, False][0]
        row = f"{label:13s} {net.count_params() / 1e6:6.2f}M"
        for jit in modes:
            t, t_fcn = times[label, jit], times["fcn", jit]
            row += f"  {t * 1e3:8.2f}  {t / t_fcn:5.2f}"
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
