"""The course demo's baseline: a fully connected network on the video-level features.

Taught in notebook 02. Each modality goes through one block, the two are concatenated, one more
block follows, and a sigmoid layer gives one independent probability per label::

    block(x) = Dropout(LeakyReLU(BatchNorm(x W + b)))
    h        = block([block(mean_audio), block(mean_rgb)])
    p        = sigmoid(h V + c)                # (batch, 3862), p_j = P(label j | video)

The sizes, Glorot-normal initialisation, LeakyReLU slope (0.3) and dropout (0.2) are the demo's;
the batch normalisation is synchronised across replicas (the same as the demo's on one device).
Train it with binary cross-entropy: the labels are independent yes/no questions, and the
categorical cross-entropy the demo compiled it with renormalises the 3,862 sigmoids into one
distribution, which ranks labels far worse (``bench/loss_choice.py``).
"""

import itertools

import keras
from keras import layers

from course_lib.data import spec
from course_lib.layers.heads import head_bias_initializer
from course_lib.models.registry import register_model


@register_model("fcn")
def fcn(num_classes=spec.NUM_CLASSES, hidden_units=1024, dropout=0.2, head_bias="zeros", seed=0):
    """The baseline FCN: ``{mean_rgb, mean_audio}`` -> ``labels`` probabilities.

    Args:
        num_classes: output width, one sigmoid per label. Default 3,862.
        hidden_units: width of every block. Default 1,024 (the demo's).
        dropout: dropout rate of every block. Default 0.2 (the demo's).
        head_bias: the output layer's bias: ``"zeros"`` (default, the demo's) or ``"prior"``, each
            label's log-prior odds (:func:`course_lib.layers.heads.head_bias_initializer`).
        seed: seeds the initialisers and dropouts; each layer gets its own (``seed + i``).

    Input shape:
        A dict ``{"mean_rgb": (batch, 1024), "mean_audio": (batch, 128)}`` (extra keys are ignored
        by the caller, see ``course_lib.project.predict``).

    Output shape:
        ``{"labels": (batch, num_classes)}`` float32 probabilities, also under ``mixed_float16``.

    Example:

    >>> model = fcn(hidden_units=64)
    >>> model({"mean_rgb": keras.ops.zeros((2, 1024)), "mean_audio": keras.ops.zeros((2, 128))})["labels"].shape
    TensorShape([2, 3862])
    """
    _check_positive(num_classes=num_classes)
    inputs, hidden, seeds = trunk(hidden_units, dropout, seed)
    # float32 output: probabilities and the loss stay exact under mixed_float16.
    probabilities = layers.Dense(
        num_classes,
        activation="sigmoid",
        kernel_initializer=keras.initializers.GlorotNormal(seed=next(seeds)),
        bias_initializer=head_bias_initializer(head_bias, range(num_classes)),
        dtype="float32",
        name="labels",
    )(hidden)
    return keras.Model(inputs, {"labels": probabilities}, name="fcn")


def trunk(hidden_units=1024, dropout=0.2, seed=0):
    """The FCN without its output layer: ``(inputs, h, seeds)``, shared by the multi-head models.

    ``inputs`` is the dict of the two ``keras.Input``; ``h`` the ``(batch, hidden_units)`` joint
    block; ``seeds`` an iterator of the seeds not yet used (``seed + 6``, ``seed + 7``, ...), so a
    model adding layers on top gives each its own.
    """
    _check_positive(hidden_units=hidden_units)
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout!r}")
    seeds = itertools.count(seed)

    def block(x, name):
        x = layers.Dense(
            hidden_units, kernel_initializer=keras.initializers.GlorotNormal(seed=next(seeds)), name=f"{name}_dense"
        )(x)
        # synchronized: under tf.distribute every replica normalises with the global batch's
        # statistics, so all replicas (and workers) keep the same moving mean and variance.
        x = layers.BatchNormalization(synchronized=True, name=f"{name}_norm")(x)
        x = layers.LeakyReLU(name=f"{name}_relu")(x)
        return layers.Dropout(dropout, seed=next(seeds), name=f"{name}_dropout")(x)

    rgb = keras.Input((spec.RGB_SIZE,), name="mean_rgb")
    audio = keras.Input((spec.AUDIO_SIZE,), name="mean_audio")
    hidden = layers.Concatenate(name="concat")([block(audio, "audio"), block(rgb, "rgb")])
    return {"mean_rgb": rgb, "mean_audio": audio}, block(hidden, "joint"), seeds


def _check_positive(**values):
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
