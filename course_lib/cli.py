"""The course's command line: ``python -m course_lib COMMAND ...`` (``--help`` on each).

This module only defines arguments; each command's work lives in the module that owns the idea
(``course_lib.data.synthetic``, ``course_lib.data.inspect``, ...) and is imported when the command
runs, so ``--help`` is instant. Errors the user can fix (a bad path, a corrupt shard, a malformed
file) are printed as one line naming what is wrong, exit status 2; never a bare traceback.
"""

import argparse
import importlib
import os
import sys

COMMANDS = {}  # name -> (help, add_arguments, "module:function")


def command(name, help, target):
    def register(add_arguments):
        COMMANDS[name] = (help, add_arguments, target)
        return add_arguments

    return register


@command("synth", "write a synthetic YouTube-8M in the real format", "course_lib.data.synthetic:main")
def _synth(parser):
    from_sample = "default: the embedded sample's"
    parser.add_argument("--out", required=True, help="folder to write train*/validate* shards to")
    parser.add_argument("--videos", type=int, default=10_000, help=f"videos in all ({from_sample}, 10000)")
    parser.add_argument("--shards", type=int, default=10, help="shards in all, train and validate (default 10)")
    parser.add_argument("--seed", type=int, default=2018, help="same seed, same bytes (default 2018)")
    parser.add_argument("--validate-fraction", type=float, default=0.2, help="share of validate videos (default 0.2)")


@command("inspect", "summarise shards: videos, labels, verticals, feature statistics", "course_lib.data.inspect:main")
def _inspect(parser):
    parser.add_argument("pattern", nargs="+", help="glob(s) of TFRecord shards, e.g. 'data/sample/train*.tfrecord'")
    parser.add_argument("--top", type=int, default=10, help="how many of the most frequent labels to list (default 10)")


class UserError(Exception):
    """An error caused by the input, printed as one line without a traceback."""


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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported
    args = build_parser().parse_args(argv)
    module, function = args._target.split(":")
    try:
        return getattr(importlib.import_module(module), function)(args) or 0
    except (UserError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
