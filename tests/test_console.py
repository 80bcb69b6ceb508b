"""A quiet console (issue 11): TensorFlow's start-up lines never reach stderr; real warnings do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib import console

ROOT = Path(__file__).resolve().parents[1]

# What `import tensorflow` then a first op printed with TensorFlow 2.21 on a machine without a GPU.
STARTUP = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796347742.278552    9205 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results.
I0000 00:00:1796347742.278877    9205 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
I0000 00:00:1796347742.404365    9205 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions.
To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.
/x/keras/src/trainers/epoch_iterator.py:74: UserWarning: a real warning
  self.data_adapter = data_adapters.get_data_adapter(
W0000 00:00:1796347746.211974    9205 some_kernel.cc:12] a TensorFlow warning
E0000 00:00:1796347749.624777    9205 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)
E0000 00:00:1796347749.624999    9205 other.cc:7] a TensorFlow error
"""
PYTHON_WARNING = STARTUP.splitlines()[5:7]


@pytest.mark.parametrize("level, kept", [
    (0, STARTUP.splitlines()),
    (1, PYTHON_WARNING + ["W0000 00:00:1796347746.211974    9205 some_kernel.cc:12] a TensorFlow warning",
                          "E0000 00:00:1796347749.624999    9205 other.cc:7] a TensorFlow error"]),
    (2, PYTHON_WARNING + ["E0000 00:00:1796347749.624999    9205 other.cc:7] a TensorFlow error"]),
    (3, PYTHON_WARNING),
])
def test_start_up_lines_below_the_level_go_and_the_rest_stays(level, kept):
    assert console.without_startup_noise(STARTUP, level).splitlines() == kept


def test_the_cuinit_error_stays_when_a_driver_was_found():
    text = "E0000 00:00:1.2 5 cuda_platform.cc:52] failed call to cuInit: CUDA_ERROR_NO_DEVICE\n"
    assert console.without_startup_noise(text, 2) == text


def quiet_env():
    env = {k: v for k, v in os.environ.items() if k != console.LEVEL_ENV}  # as a student's shell has it
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_importing_course_lib_then_tensorflow_prints_only_real_warnings():
    code = ("import warnings, course_lib, tensorflow as tf\n"
            "tf.constant(1.0) + 1\n"
            "warnings.warn('a real warning')\n")
    result = subprocess.run([sys.executable, "-c", code], env=quiet_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["<string>:3: UserWarning: a real warning"]


def test_a_command_prints_no_start_up_line(tiny_world):
    result = subprocess.run([sys.executable, "-m", "course_lib", "inspect", str(tiny_world / "validate*.tfrecord")],
                            env=quiet_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.startswith("files: 1  videos: 120")
