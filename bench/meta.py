"""Meta-learning on 2 CPU cores: CS330 homework 1's MANN targets, a prototypical network, and MAML.

    python bench/meta.py [--only mann,protonet,maml] [--max-steps 32000] [--maml-steps 20000]
                         [--settings "1,2;1,4"] [--progress]

1. MANN (LSTM(128) -> LSTM(N), labels concatenated, query labels zeroed and shuffled) on the glyph
   set for (K, N) = (1, 2), (2, 2), (1, 3), (1, 4): trained in blocks of 250 steps (meta-batch 32,
   Adam 1e-3) until the accuracy on 500 fixed meta-validation episodes passes the homework's target
   by 0.02 (or ``--max-steps``), then scored on 1,000 fixed meta-test episodes of held-out classes.
2. A prototypical network (4 conv blocks of 64, Snell et al. 2017) on 5-way 1-shot glyph episodes.
3. MAML on the MAML paper's sinusoids (meta-batch 25, alpha 0.01, K = 10) against the same network
   pre-trained on all tasks (phi_i = theta); query MSE on 1,000 test tasks (100 points each) after
   one gradient step on K = 10 points.

Prints one table per part with the training time. Numbers are ours on our glyph set, not a
reproduction of the papers' Omniglot results.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

TARGETS = {(1, 2): 0.90, (2, 2): 0.90, (1, 3): 0.80, (1, 4): 0.60}  # (K, N): the homework's


def confidence(values):
    """Mean and 95 % half-width over episodes."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    return values.mean(), 1.96 * values.std(ddof=1) / np.sqrt(len(values))


def mann_part(images, parts, args):
    import keras
    import numpy as np

    from course_lib.meta import episodes, mann

    print("MANN (CS330 homework 1), meta-batch 32, Adam 1e-3, 500 validation / 1000 test episodes")
    print("  K  N  target  steps  val_acc  test_acc (95% CI)   minutes")
    for (shots, ways), target in TARGETS.items():
        if args.settings and f"{shots},{ways}" not in args.settings.split(";"):
            continue
        keras.utils.set_random_seed(0)
        train = episodes.EpisodeSampler(images[parts["train"]], ways, shots, seed=0)
        valid = episodes.mann_inputs(episodes.EpisodeSampler(images[parts["validation"]], ways, shots).fixed(500), ways)
        test_episodes = episodes.EpisodeSampler(images[parts["test"]], ways, shots).fixed(1000, seed=4321)
        test = episodes.mann_inputs(test_episodes, ways, seed=1)
        model = mann.MANN(ways)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
        start, steps, data = time.perf_counter(), 0, mann.mann_dataset(train, 32, seed=0)
        while steps < args.max_steps:
            model.fit(data, steps_per_epoch=250, epochs=1, verbose=0)
            steps += 250
            val = model.evaluate(*valid, batch_size=500, verbose=0, return_dict=True)["accuracy"]
            if args.progress:
                print(f"    K={shots} N={ways} step {steps}: val_acc {val:.3f}, {time.perf_counter() - start:.0f} s",
                      flush=True)
            if val >= target + 0.02:
                break
        logits = model.predict({"images": test[0], "labels": test[1]}, batch_size=500, verbose=0)[:, -1]
        hits = (logits.argmax(-1) == test[1][:, -1].argmax(-1)).mean(axis=1)
        mean, half = confidence(hits)
        minutes = (time.perf_counter() - start) / 60
        print(f"  {shots}  {ways}  {target:6.2f}  {steps:5d}  {val:7.3f}  {mean:8.3f} (+-{half:.3f})  {minutes:7.1f}",
              flush=True)


def protonet_part(images, parts, args):
    import keras
    import numpy as np

    from course_lib.meta import episodes, protonet

    keras.utils.set_random_seed(0)
    ways, shots, queries = 5, 1, 5
    train = episodes.EpisodeSampler(images[parts["train"]], ways, shots, queries, seed=0)
    test = episodes.EpisodeSampler(images[parts["test"]], ways, shots, queries).fixed(1000, seed=4321)
    net = protonet.PrototypicalNetwork(protonet.conv_encoder(64), ways)
    net.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
    start = time.perf_counter()
    net.fit(protonet.episode_dataset(train, 8), steps_per_epoch=args.protonet_steps, epochs=1, verbose=0)
    logits = net.predict({k: test[k] for k in ("support", "support_labels", "query")}, batch_size=50, verbose=0)
    mean, half = confidence((logits.argmax(-1) == test["query_labels"]).mean(axis=1))
    minutes = (time.perf_counter() - start) / 60
    print("Prototypical network, 4 conv blocks of 64, 5-way 1-shot, 5 queries per class, 8 episodes per step")
    print(f"  steps {args.protonet_steps}  test_acc {mean:.3f} (+-{half:.3f}) on 1000 episodes  minutes {minutes:.1f}",
          flush=True)


def maml_part(args):
    import keras

    from course_lib.meta import maml

    tasks = maml.sinusoid_tasks(args.maml_steps * 25, seed=0)
    test = maml.sinusoid_tasks(1000, num_query=100, seed=99)
    print(f"MAML vs pre-training, sinusoids, {args.maml_steps} steps of 25 tasks, Adam 1e-3; "
          "query MSE on 1000 test tasks (mean +- 95% CI)")
    print("  model        0 steps        1 step         10 steps     minutes")
    for name, inner in (("MAML", 1), ("pretrained", 0)):
        keras.utils.set_random_seed(0)
        model = maml.MAML(inner_steps=inner)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
        start = time.perf_counter()
        model.fit(maml.task_dataset(tasks, 25), epochs=1, verbose=0)
        minutes = (time.perf_counter() - start) / 60
        cells = ["{:.3f} +-{:.3f}".format(*confidence(maml.adapted_mse(model, test, steps=s))) for s in (0, 1, 10)]
        print(f"  {name:10s}  " + "  ".join(f"{c:13s}" for c in cells) + f"  {minutes:6.1f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="mann,protonet,maml", help="comma-separated parts to run")
    parser.add_argument("--max-steps", type=int, default=32000, help="MANN: most training steps per setting")
    parser.add_argument("--protonet-steps", type=int, default=1000)
    parser.add_argument("--maml-steps", type=int, default=20000)
    parser.add_argument("--settings", default="", help='MANN: only these "K,N" settings, e.g. "1,2;1,4"')
    parser.add_argument("--progress", action="store_true", help="MANN: print the validation accuracy every 250 steps")
    args = parser.parse_args(argv)
    parts_to_run = set(args.only.split(","))
    unknown = parts_to_run - {"mann", "protonet", "maml"}
    if unknown:
        parser.error(f"--only takes mann, protonet, maml. Received: --only={args.only}")

    start = time.perf_counter()
    if parts_to_run & {"mann", "protonet"}:
        from course_lib.meta import glyphs

        images, codes = glyphs.load_glyphs()
        parts = glyphs.split_classes(len(codes))
        print(f"glyph set: {len(codes)} classes x {images.shape[1]} renders; split "
              + ", ".join(f"{k} {len(v)}" for k, v in parts.items()))
        if "mann" in parts_to_run:
            mann_part(images, parts, args)
        if "protonet" in parts_to_run:
            protonet_part(images, parts, args)
    if "maml" in parts_to_run:
        maml_part(args)
    print(f"total {(time.perf_counter() - start) / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
