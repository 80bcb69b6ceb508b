"""``train --strategy multiworker``: two worker processes on 127.0.0.1 train one epoch in step."""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from course_lib.project import runs, train
from tests.project.conftest import train_args

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 900  # seconds per worker (about 60 s on an idle 2-core machine); a hung all-reduce fails, not blocks


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_two_workers_finish_with_identical_weights_and_only_the_chief_writes(tiny_world, tmp_path):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    outs = [tmp_path / "run", tmp_path / "worker1_run"]  # the same --out on a shared disk; two here to check
    workers = []
    try:
        for index, out in enumerate(outs):
            env = dict(
                os.environ,
                TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                TF_CPP_MIN_LOG_LEVEL="3",
            )
            command = [sys.executable, "-m", "course_lib", *train_args(tiny_world, out, "--strategy", "multiworker")]
            workers.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        results = [worker.communicate(timeout=TIMEOUT) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for worker, (stdout, stderr) in zip(workers, results):
        assert worker.returncode == 0, stderr[-3000:]
    digests = [re.search(r"^weights (\w+)$", stdout, re.M).group(1) for stdout, _ in results]
    assert digests[0] == digests[1]  # the gradients were all-reduced: both workers hold the same model
    assert "multi-worker: task worker:0 of 2 replicas" in results[0][0]

    chief = outs[0]
    assert [epoch for epoch, _ in runs.checkpoints(chief)] == [1]
    assert train.weights_digest(runs.load_model(chief)) == digests[0]
    config = json.loads((chief / runs.CONFIG).read_text())
    assert config["strategy"] == "multiworker"
    assert (chief / runs.HISTORY).read_text().count("\n") == 2  # header + one epoch
    assert not outs[1].exists()  # the other worker saved to a temporary folder, then deleted it
