"""``python -m course_lib predict``: a submission CSV for every video of every shard.

Taught in notebook 02. The format is the course project's::

    VideoId,Label
    AAaa,11 3 0 172 29 522 7 1 58 40
    ...

one row per video, the 10 labels of highest predicted probability as vocabulary indices,
separated by spaces, most confident first. Shards are read in sorted file order, and each file's
videos in record order, so the same data always gives the same file.

The model's ``labels`` output (scores in label-id order, which every registered model has) is
ranked inside the TensorFlow graph (``tf.math.top_k`` on each batch), so only
``(batch, 10)`` indices reach Python, and rows are streamed to disk: memory stays flat however many
shards there are. The CSV is written to a temporary file beside ``--out`` and renamed at the end.
"""

import csv
import os
from pathlib import Path

import tensorflow as tf
from tqdm.auto import tqdm

from course_lib import settings
from course_lib.data import ShardError, list_shards
from course_lib.data.videos import VideoIds, videos
from course_lib.project import runs
from course_lib.project.options import PREDICT_BATCH_SIZE

TOP_K = 10
HEADER = ("VideoId", "Label")


def predict(run, out, data=None, *, batch_size=PREDICT_BATCH_SIZE, checkpoint=None, top_k=TOP_K, progress=True):
    """Write the submission of run ``run`` (its newest checkpoint) on ``data`` to ``out``.

    Args:
        run: a run folder written by :func:`course_lib.project.train.train`.
        out: the CSV to write (replaced atomically; its folder is created).
        data: glob of shards to predict. Default ``settings.data_pattern("validate")``.
        batch_size: videos per forward pass.
        checkpoint: a ``.keras`` file to use instead of the run's newest checkpoint.
        top_k: labels per video (the project asks for 10).
        progress: show a progress bar over the shards (on a terminal).

    Returns:
        The number of videos written.
    """
    if int(top_k) != top_k or top_k < 1:
        raise ValueError(f"top_k must be a positive integer. Received: top_k={top_k!r}")
    model = runs.load_model(run, checkpoint)
    files = list_shards(data or settings.data_pattern("validate"))
    input_names = [tensor.name for tensor in model.inputs]  # the features the model reads, not "id"
    num_labels = labels_output(model).shape[-1]
    if top_k > num_labels:
        raise ValueError(f"top_k={top_k} is more than the model's {num_labels} labels")

    @tf.function(reduce_retracing=True)
    def top_labels(features):
        scores = model({name: features[name] for name in input_names}, training=False)["labels"]
        return tf.math.top_k(tf.cast(scores, tf.float32), k=top_k, sorted=True).indices

    out = _output_path(out)
    _remove_stale_temporaries(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    written = 0
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(HEADER)
            ids = VideoIds()  # every id UTF-8, without spaces around it, once in all the shards
            for path in tqdm(files, unit="shard", desc="predict", disable=None if progress else True):
                for batch_ids, features, _ in videos(path, batch_size, ids):
                    labels = top_labels(features).numpy()
                    writer.writerows((video_id, " ".join(map(str, row))) for video_id, row in zip(batch_ids, labels))
                    written += len(labels)
        if written == 0:
            raise ShardError(f"{', '.join(files)}: no video to predict (empty shards); {out} not written")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return written


def _output_path(out):
    """``out`` as a Path whose folder exists; ``ValueError`` naming what is in the way."""
    if not str(out).strip() or Path(out).is_dir():
        raise ValueError(f"--out must name a CSV file, e.g. submission.csv. Received: out={str(out)!r}")
    out = Path(out)
    blocker = next((p for p in reversed(out.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise ValueError(f"{blocker}: is a file, so it cannot hold {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _remove_stale_temporaries(out):
    """Delete ``.NAME.PID.tmp`` left beside ``out`` by a killed predict (its process is gone)."""
    for tmp in out.parent.glob(f".{out.name}.*.tmp"):
        pid = tmp.name[len(out.name) + 2 : -len(".tmp")]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def labels_output(model):
    """The model's ``labels`` output (symbolic), the one every registered model has (``ValueError`` if not)."""
    outputs = model.output
    if not isinstance(outputs, dict) or "labels" not in outputs:
        names = sorted(outputs) if isinstance(outputs, dict) else [t.name for t in model.outputs]
        raise ValueError(f"the model has no output named 'labels' (scores in label-id order). Received: {names}")
    return outputs["labels"]


def main(args):
    """``python -m course_lib predict``."""
    written = predict(args.run, args.out, args.data, batch_size=args.batch_size, checkpoint=args.checkpoint)
    print(f"wrote {written} videos to {args.out}")
    return 0
