"""Black-box adaptation: a memory-augmented network (MANN) that reads a whole episode.

Taught in notebook 08; the model of CS330 homework 1, after Santoro et al. 2016 ("Meta-learning
with memory-augmented neural networks"). The learner f_theta is a recurrent network: it reads the
support set as (image, one-hot label) pairs, then the query images with their labels zeroed, and
its output at a query step is the predicted label::

    x_t = [image_t, y_t]       for the N*K support steps (y_t one-hot)
    x_t = [image_t, 0]         for the N query steps (the query's labels zeroed), in random order
    h   = LSTM_N(LSTM_128(x_1 .. x_(K+1)N))           # logits, (B, K + 1, N, N)
    L   = - sum_(query t) log softmax(h_t)[y_t]       # loss on the query only

phi_i = f_theta(D_i^tr) is the LSTM state after the support steps; nothing in the model is
specific to images or classes, which is what makes the approach general and hard to optimise.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from course_lib.meta import episodes


def zero_query_labels(labels):
    """``labels`` ``(B, K + 1, N, N)`` with the last set (the query) set to zero."""
    keep = ops.concatenate([ops.ones_like(labels[:, :-1, :1, :1]), ops.zeros_like(labels[:, -1:, :1, :1])], axis=1)
    return labels * keep


@keras.saving.register_keras_serializable(package="course_lib")
class MANN(keras.Model):
    """LSTM(units) -> LSTM(N) over the label-concatenated sequence of one episode.

    Args:
        num_ways: N, classes per episode (the width of the second LSTM).
        units: width of the first LSTM. Default 128 (the homework's).
        seed: seeds the two LSTMs' initialisers (each its own).

    Input shape:
        A dict ``{"images": (B, K + 1, N, D), "labels": (B, K + 1, N, N)}``; the last of the K + 1
        sets is the query (its labels are zeroed inside the model, whatever they hold).

    Output shape:
        ``(B, K + 1, N, N)`` logits; the query's are ``[:, -1]``.

    ``fit`` takes ``(images, labels)`` pairs (``course_lib.meta.episodes.mann_inputs``); the loss is
    the cross-entropy of the query only, and ``accuracy`` the query's accuracy.

    Example:

    >>> model = MANN(num_ways=2, units=8)
    >>> model({"images": np.zeros((3, 2, 2, 784)), "labels": np.zeros((3, 2, 2, 2))}).shape
    TensorShape([3, 2, 2, 2])
    """

    def __init__(self, num_ways, units=128, seed=0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("num_ways", num_ways), ("units", units)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        self.num_ways, self.units, self.seed = int(num_ways), int(units), seed
        init = lambda s: dict(kernel_initializer=keras.initializers.GlorotUniform(seed=s),  # noqa: E731
                              recurrent_initializer=keras.initializers.Orthogonal(seed=s + 1))
        self.memory = layers.LSTM(self.units, return_sequences=True, unroll=True, name="lstm_memory", **init(seed))
        self.readout = layers.LSTM(self.num_ways, return_sequences=True, unroll=True, name="lstm_readout", **init(seed + 2))
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")

    def call(self, inputs, training=False):
        images, labels = inputs["images"], inputs["labels"]
        shape = ops.shape(images)
        sets, ways = shape[1], shape[2]
        sequence = ops.concatenate([ops.cast(images, "float32"), ops.cast(zero_query_labels(labels), "float32")], axis=-1)
        sequence = ops.reshape(sequence, (-1, sets * ways, ops.shape(sequence)[-1]))
        logits = self.readout(self.memory(sequence, training=training), training=training)
        return ops.reshape(logits, (-1, sets, ways, self.num_ways))

    def _query_loss(self, labels, logits):
        query_labels, query_logits = labels[:, -1], logits[:, -1]
        loss = ops.mean(keras.losses.categorical_crossentropy(query_labels, query_logits, from_logits=True))
        hits = ops.equal(ops.argmax(query_logits, axis=-1), ops.argmax(query_labels, axis=-1))
        return loss, ops.mean(ops.cast(hits, "float32"))

    def train_step(self, data):
        images, labels = data
        with tf.GradientTape() as tape:
            logits = self({"images": images, "labels": labels}, training=True)
            loss, accuracy = self._query_loss(labels, logits)
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._track(loss, accuracy)

    def test_step(self, data):
        images, labels = data
        return self._track(*self._query_loss(labels, self({"images": images, "labels": labels})))

    def _track(self, loss, accuracy):
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(accuracy)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def get_config(self):
        return {**super().get_config(), "num_ways": self.num_ways, "units": self.units, "seed": self.seed}


def mann_dataset(sampler, batch_size, shuffle_query=True, seed=0):
    """An endless ``tf.data.Dataset`` of ``(images, labels)`` batches drawn from ``sampler``."""
    rng = np.random.default_rng(seed)
    ways, shots = sampler.num_ways, sampler.num_shots
    size = int(np.prod(sampler.data[0].shape[1:]))

    def generate():
        while True:
            yield episodes.mann_inputs(sampler.sample(batch_size), ways, shuffle_query, seed=rng.integers(2**31))

    signature = (tf.TensorSpec((batch_size, shots + 1, ways, size), tf.float32),
                 tf.TensorSpec((batch_size, shots + 1, ways, ways), tf.float32))
    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)
