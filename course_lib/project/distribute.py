"""``train --strategy``: one device, several on one machine, or several machines, with tf.distribute.

Taught in notebook 02 (the options of ``train``)::

    default       tf.distribute.get_strategy(): one device
    mirrored      MirroredStrategy over the visible GPUs (or --cpu-devices N logical CPUs)
    multiworker   MultiWorkerMirroredStrategy over the machines listed in TF_CONFIG

Under ``multiworker`` every worker runs the same command. Each reads its own files
(``load_yt8m(input_context=...)`` keeps files ``input_pipeline_id::num_input_pipelines``), and
every worker runs the same number of steps per epoch (``epoch_steps``: a worker whose files hold
fewer videos starts them over), because a worker that stops early would leave the others waiting
in an all-reduce. Variables start from the chief's values and every step all-reduces the
gradients, so all workers hold the same weights. Only the chief writes the run folder; the other
workers save to a temporary folder that is deleted (TensorFlow's multi-worker checkpointing
advice: every worker saves, the chief to the real path).
"""

import json
import os

import tensorflow as tf

from course_lib.data import tfrecord
from course_lib.project.options import STRATEGIES


def make_strategy(name, jit=False):
    """The ``tf.distribute.Strategy`` named ``name`` (one of :data:`STRATEGIES`).

    ``multiworker`` must be made before any other TensorFlow operation of the process, and needs
    ``TF_CONFIG`` (the cluster and this worker's place in it).
    """
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}. Received: strategy={name!r}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "multiworker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError("--strategy multiworker needs TF_CONFIG (the cluster and this worker's task); see README")
        strategy = _MultiWorkerStrategy()
        print(f"multi-worker: task {task_name(strategy)} of {strategy.num_replicas_in_sync} replicas")
        return strategy
    devices = [d.name for d in tf.config.list_logical_devices("GPU")]
    if not devices:
        devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        if jit and len(devices) > 1:
            # XLA compiles for CPU:0 and cannot read the replica variables on CPU:1, CPU:2, ...
            raise ValueError(
                "--jit with --strategy mirrored needs GPUs; XLA does not support replicas on logical CPU devices"
            )
    strategy = tf.distribute.MirroredStrategy(devices)
    print(f"mirrored over {strategy.num_replicas_in_sync} devices: {', '.join(devices)}")
    return strategy


class _MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """``MultiWorkerMirroredStrategy`` whose ``reduce`` takes what Keras 3's ``fit`` passes it.

    Keras 3.15 calls ``strategy.reduce("MEAN", value, axis=0)`` on a nested batch (dict features)
    and on scalar logs; the multi-worker strategy reduces one tensor and needs ``axis=None`` for
    a scalar (keras-team/keras issues 20329 and 20585). Here each leaf is reduced on its own, a
    scalar over replicas only.
    """

    def reduce(self, reduce_op, value, axis):
        def one(leaf):
            rank = self.experimental_local_results(leaf)[0].shape.rank
            return super(_MultiWorkerStrategy, self).reduce(reduce_op, leaf, None if rank == 0 else axis)

        return tf.nest.map_structure(one, value)


def is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
    """Whether this process writes the run folder: the ``chief`` task, or worker 0 without one."""
    if not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    has_chief = "chief" in json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return resolver.task_type == "chief" or (not has_chief and resolver.task_type == "worker" and resolver.task_id == 0)


def task_name(strategy):
    resolver = strategy.cluster_resolver
    return f"{resolver.task_type}:{resolver.task_id}"


def epoch_steps(files, global_batch):
    """Steps of one epoch over ``files`` at ``global_batch`` videos a step (full batches only)."""
    records = sum(count_records(path) for path in files)
    steps = records // global_batch
    if steps < 1:
        raise ValueError(f"{records} videos in {len(files)} file(s): fewer than one batch of {global_batch}")
    return steps


def count_records(path):
    """Records in the TFRecord file ``path`` (its frames walked, payloads skipped)."""
    if "://" in path:  # remote: read through TensorFlow
        return int(tf.data.TFRecordDataset(path).reduce(0, lambda count, _: count + 1))
    return sum(1 for _ in tfrecord.iter_frames(path, read_data=False))


def use_cpu_devices(count):
    """Split the CPU into ``count`` logical devices (for ``--strategy mirrored`` without GPUs).

    Must run before TensorFlow initialises its devices, that is before the first op in a process.
    """
    if int(count) != count or count < 1:
        raise ValueError(f"cpu_devices must be a positive integer. Received: cpu_devices={count!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * int(count))
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise ValueError(
                f"cpu_devices={count}: TensorFlow has already started with "
                f"{len(tf.config.list_logical_devices('CPU'))} CPU device(s) in this process; "
                "set it in a fresh process (the command line does)"
            ) from None
