"""The course's command line: ``python -m course_lib COMMAND ...`` (``--help`` on each).

This module only defines arguments; each command's work lives in the module that owns the idea
(``course_lib.data.synthetic``, ``course_lib.data.summary``, ...) and is imported when the command
runs, so ``--help`` is instant. Errors the user can fix (a bad path, a corrupt shard, a malformed
file) are printed as one line naming what is wrong, exit status 2; never a bare traceback.
"""

import argparse
import importlib
import sys

from course_lib import console

COMMANDS = {}  # name -> (help, add_arguments, "module:function")


def command(name, help, target):
    def register(add_arguments):
        COMMANDS[name] = (help, add_arguments, target)
        return add_arguments

    return register


@command("synth", "write a synthetic YouTube-8M in the real format", "course_lib.data.synthetic:main")
def _synth(parser):
    from course_lib.data.options import SAMPLE_ARGS as sample

    parser.add_argument("--out", required=True, help="folder to write train*/validate* shards to")
    parser.add_argument("--videos", type=int, default=sample["videos"],
                        help=f"videos in all (default: the embedded sample's, {sample['videos']})")
    parser.add_argument("--shards", type=int, default=sample["shards"],
                        help=f"shards in all, train and validate (default {sample['shards']})")
    parser.add_argument("--seed", type=int, default=sample["seed"], help=f"same seed, same bytes (default {sample['seed']})")
    parser.add_argument("--validate-fraction", type=float, default=sample["validate_fraction"],
                        help=f"share of validate videos (default {sample['validate_fraction']})")
    parser.add_argument("--relatedness", type=float, default=sample["relatedness"],
                        help=f"cosine between related verticals' directions, in [0, 1] (default {sample['relatedness']})")


@command("inspect", "summarise shards: videos, labels, verticals, feature statistics", "course_lib.data.summary:main")
def _inspect(parser):
    from course_lib.data.options import SUMMARY_TOP

    parser.add_argument("pattern", nargs="+", help="glob(s) of TFRecord shards, e.g. 'data/sample/train*.tfrecord'")
    parser.add_argument("--top", type=int, default=SUMMARY_TOP,
                        help=f"how many of the most frequent labels to list (default {SUMMARY_TOP})")


@command("download", "download real YouTube-8M safely (official plan and MD5s; resume, verify, retry)",
         "course_lib.download:main")
def _download(parser):
    from course_lib import download  # light: no TensorFlow; the one copy of the choices and defaults

    parser.add_argument("--partition", action="append", metavar="V/LEVEL/SPLIT",
                        help="e.g. 2/video/train, 2/video/validate, 2/video/test (frame level too: far larger); "
                             "repeat for several")
    parser.add_argument("--mirror", choices=download.MIRRORS, default=download.MIRROR,
                        help=f"download mirror (default {download.MIRROR})")
    parser.add_argument("--shard", metavar="X,Y",
                        help="fraction X of Y, the official rule (md5(name) %% Y == X-1): 1,100 is about 1 %%")
    parser.add_argument("--out", help="folder (default: the course's real-data folder <course>/data/yt8m, "
                                      "which the notebooks find)")
    parser.add_argument("--vocabulary", action="store_true", help="also fetch the official vocabulary.csv")
    parser.add_argument("--dry-run", action="store_true",
                        help="list what would be fetched and its total size where the server says; write nothing")
    parser.add_argument("--jobs", type=int, default=download.JOBS, help=f"parallel transfers (default {download.JOBS})")
    parser.add_argument("--retries", type=int, default=download.RETRIES,
                        help=f"further attempts after a transient error, with backoff (default {download.RETRIES})")
    parser.add_argument("--base-url", metavar="URL",
                        help="take the plan from URL/V/download_plans/LEVEL_SPLIT.json and the shards from "
                             "URL/V/LEVEL/SPLIT/NAME (tests, private mirrors)")


@command("train", "train a model on YouTube-8M shards into a run folder (resumes)", "course_lib.project.train:main")
def _train(parser):
    from course_lib.project import options

    default = options.TRAIN_DEFAULTS
    parser.add_argument("--out", required=True,
                        help="run folder, e.g. runs/fcn; an existing run resumes from its last checkpoint")
    parser.add_argument("--data", help="glob of training shards (default: settings.data_pattern('train'))")
    parser.add_argument("--validation-data",
                        help="glob of shards scored each epoch (default: settings.data_pattern('validate'))")
    parser.add_argument("--model", default=default["model"],
                        help=f"a registered model (default {default['model']}, the course demo's baseline; "
                             "also vertical_heads, cross_stitch)")
    parser.add_argument("--model-arg", action="append", metavar="NAME=VALUE",
                        help="a keyword argument of the model, repeatable, e.g. hidden_units=256")
    parser.add_argument("--epochs", type=int, default=default["epochs"],
                        help=f"epochs in all, counting resumed ones (default {default['epochs']})")
    parser.add_argument("--batch-size", type=int, default=default["batch_size"],
                        help=f"global batch size (default {default['batch_size']})")
    parser.add_argument("--learning-rate", type=float, default=default["learning_rate"],
                        help=f"Adam's learning rate (default {default['learning_rate']})")
    parser.add_argument("--loss", default=default["loss"], choices=options.LOSSES,
                        help=f"default {default['loss']}; categorical_crossentropy is what the course demo "
                             "compiled, for comparison (bench/loss_choice.py)")
    parser.add_argument("--seed", type=int, default=default["seed"],
                        help=f"seeds weights, dropout and data order (default {default['seed']})")
    parser.add_argument("--strategy", default=default["strategy"], choices=options.STRATEGIES,
                        help="tf.distribute strategy (default: one device; multiworker reads TF_CONFIG)")
    parser.add_argument("--cpu-devices", type=int, metavar="N",
                        help="split the CPU into N logical devices (--strategy mirrored without GPUs)")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="mixed_float16 compute, float32 variables and outputs")
    parser.add_argument("--jit", action="store_true", help="compile the train and test steps with XLA")
    parser.add_argument("--keep-checkpoints", type=int, default=default["keep_checkpoints"],
                        help=f"newest checkpoints kept in the run folder (default {default['keep_checkpoints']})")


@command("predict", "write a submission CSV (top 10 labels of every video) from a trained run",
         "course_lib.project.predict:main")
def _predict(parser):
    from course_lib.project.options import PREDICT_BATCH_SIZE

    parser.add_argument("--run", required=True, help="run folder written by train")
    parser.add_argument("--out", required=True, help="CSV to write, e.g. submission.csv (replaced atomically)")
    parser.add_argument("--data", help="glob of shards to predict (default: settings.data_pattern('validate'))")
    parser.add_argument("--checkpoint", help="a .keras checkpoint to use instead of the run's newest")
    parser.add_argument("--batch-size", type=int, default=PREDICT_BATCH_SIZE,
                        help=f"videos per forward pass (default {PREDICT_BATCH_SIZE})")


@command("score", "check a submission CSV and print its MAP@10, GAP@20 and hit@1", "course_lib.project.score:main")
def _score(parser):
    parser.add_argument("submission", help="the CSV written by predict (header VideoId,Label)")
    parser.add_argument("--data", help="glob of the shards it predicts (default: settings.data_pattern('validate'))")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m course_lib",
        description="Multi-task and meta-learning, hands-on with YouTube-8M: the course's commands.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (summary, add_arguments, target) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        add_arguments(sub)
        sub.set_defaults(_target=target)
    return parser


def main(argv=None):
    console.quiet_tensorflow()  # before TensorFlow is imported: no start-up lines on stderr
    args = build_parser().parse_args(argv)
    module, function = args._target.split(":")
    try:
        return getattr(importlib.import_module(module), function)(args) or 0
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a TensorFlow error no command turned into a ValueError naming its file
        tf = sys.modules.get("tensorflow")
        if tf is None or not isinstance(error, tf.errors.OpError):
            raise
        from course_lib.data.pipeline import tf_error_text

        print(f"error: {tf_error_text(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
