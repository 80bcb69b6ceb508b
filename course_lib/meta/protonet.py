"""Prototypical networks (Snell et al. 2017): a metric-based meta-learner.

Taught in notebook 08. An encoder f_theta embeds every example; a class's prototype is the mean
embedding of its support examples, and a query is classified by a softmax over minus its squared
Euclidean distances to the prototypes::

    c_n            = 1/|S_n| sum_(x in S_n) f(x)                         (S_n: support of class n)
    p(y = n | x)   = exp(-||f(x) - c_n||^2) / sum_m exp(-||f(x) - c_m||^2)
    L              = - 1/|Q| sum_((x, y) in Q) log p(y | x)

phi_i = the prototypes, a non-parametric function of D_i^tr. Support and query may have different
sizes (K shots, Q queries per class): the prototypes are means over the support only and the loss a
mean over the query only. Implementations that build the prototypes by reshaping the query-sized
embedding tensor, or that average the loss over support-sized axes, are silently wrong when K != Q.
"""

import copy

import keras
import tensorflow as tf
from keras import layers, ops


def prototype_logits(support, support_labels, query, num_ways):
    """Minus squared distances ``(B, M, N)`` of the ``query`` embeddings to the class prototypes.

    Args:
        support: ``(B, S, D)`` support embeddings. support_labels: ``(B, S)`` ints in [0, N).
        query: ``(B, M, D)`` query embeddings (M need not equal S). num_ways: N.
    """
    # float32 distances, also under mixed_float16: squared distances overflow float16 quickly.
    support, query = ops.cast(support, "float32"), ops.cast(query, "float32")
    one_hot = ops.one_hot(ops.cast(support_labels, "int32"), num_ways, dtype="float32")  # (B, S, N)
    counts = ops.sum(one_hot, axis=1)[..., None]  # (B, N, 1)
    prototypes = ops.einsum("bsn,bsd->bnd", one_hot, support) / ops.maximum(counts, 1)
    distances = (ops.sum(query**2, -1)[..., None] - 2 * ops.einsum("bmd,bnd->bmn", query, prototypes)
                 + ops.sum(prototypes**2, -1)[:, None, :])
    return -distances


def prototypical_loss(support, support_labels, query, query_labels, num_ways):
    """The episode loss L, averaged over queries and episodes; also returns the query accuracy."""
    logits = prototype_logits(support, support_labels, query, num_ways)
    loss = keras.losses.sparse_categorical_crossentropy(ops.cast(query_labels, "int32"), logits, from_logits=True)
    hits = ops.equal(ops.argmax(logits, -1), ops.cast(query_labels, "int64"))
    return ops.mean(loss), ops.mean(ops.cast(hits, "float32"))


def conv_encoder(filters=64, blocks=4, seed=0, input_shape=(28, 28)):
    """Snell et al.'s encoder: ``blocks`` x [3x3 conv(filters), batch norm, ReLU, 2x2 max-pool], flattened."""
    inputs = keras.Input(input_shape, name="image")
    x = layers.Reshape(input_shape + (1,), name="channel")(inputs)
    for b in range(blocks):
        x = layers.Conv2D(filters, 3, padding="same", kernel_initializer=keras.initializers.HeNormal(seed=seed + b),
                          name=f"conv_{b}")(x)
        x = layers.BatchNormalization(name=f"norm_{b}")(x)
        x = layers.MaxPooling2D(2, name=f"pool_{b}")(layers.ReLU(name=f"relu_{b}")(x))
    return keras.Model(inputs, layers.Flatten(name="flatten")(x), name="conv_encoder")


def mlp_encoder(input_size, units=(256, 128), seed=0):
    """A small MLP encoder (Dense + ReLU, the last layer linear), e.g. over YouTube-8M's 1,152 features."""
    inputs = keras.Input((input_size,), name="features")
    x = inputs
    for i, width in enumerate(units):
        x = layers.Dense(width, kernel_initializer=keras.initializers.HeNormal(seed=seed + i), name=f"dense_{i}")(x)
        if i < len(units) - 1:
            x = layers.ReLU(name=f"relu_{i}")(x)
    return keras.Model(inputs, x, name="mlp_encoder")


@keras.saving.register_keras_serializable(package="course_lib")
class PrototypicalNetwork(keras.Model):
    """An encoder trained episode by episode with the prototypical loss.

    Args:
        encoder: a Keras model mapping one example to an embedding ``(D,)``.
        num_ways: N, classes per episode.

    Input shape:
        A dict ``{"support": (B, S, ...), "support_labels": (B, S), "query": (B, M, ...)}``.

    Output shape:
        ``(B, M, N)`` logits (minus squared distances to the prototypes).

    ``fit`` takes ``(inputs, query_labels)`` pairs (``EpisodeSampler.sample`` provides both).

    Example:

    >>> import numpy as np
    >>> net = PrototypicalNetwork(mlp_encoder(4, units=(8,)), num_ways=2)
    >>> net({"support": np.zeros((3, 2, 4)), "support_labels": np.array([[0, 1]] * 3),
    ...      "query": np.zeros((3, 5, 4))}).shape
    TensorShape([3, 5, 2])
    """

    def __init__(self, encoder, num_ways, **kwargs):
        super().__init__(**kwargs)
        if int(num_ways) != num_ways or num_ways < 2:
            raise ValueError(f"num_ways must be an integer >= 2. Received: num_ways={num_ways!r}")
        self.encoder, self.num_ways = encoder, int(num_ways)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")

    def embed(self, examples, training=False):
        """Embeddings ``(B, M, D)`` of examples ``(B, M, ...)``."""
        shape = ops.shape(examples)
        flat = self.encoder(ops.reshape(examples, (-1,) + tuple(examples.shape[2:])), training=training)
        return ops.reshape(flat, (shape[0], shape[1], -1))

    def _embed_episode(self, inputs, training):
        support, query = inputs["support"], inputs["query"]
        both = self.embed(ops.concatenate([support, ops.cast(query, support.dtype)], axis=1), training=training)
        count = support.shape[1]
        return both[:, :count], both[:, count:]

    def call(self, inputs, training=False):
        support, query = self._embed_episode(inputs, training)
        return prototype_logits(support, inputs["support_labels"], query, self.num_ways)

    def train_step(self, data):
        inputs, query_labels = data
        with tf.GradientTape() as tape:
            support, query = self._embed_episode(inputs, training=True)
            loss, accuracy = prototypical_loss(support, inputs["support_labels"], query, query_labels, self.num_ways)
        self.optimizer.apply(tape.gradient(loss, self.trainable_weights), self.trainable_weights)
        return self._track(loss, accuracy)

    def test_step(self, data):
        inputs, query_labels = data
        support, query = self._embed_episode(inputs, training=False)
        return self._track(*prototypical_loss(support, inputs["support_labels"], query, query_labels, self.num_ways))

    def _track(self, loss, accuracy):
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(accuracy)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def get_config(self):
        return {**super().get_config(), "encoder": keras.saving.serialize_keras_object(self.encoder),
                "num_ways": self.num_ways}

    @classmethod
    def from_config(cls, config):
        config = copy.deepcopy(config)  # deserialising consumes the nested config
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)


def episode_dataset(sampler, batch_size):
    """An endless ``tf.data.Dataset`` of ``(inputs, query_labels)`` episode batches from ``sampler``."""
    first = sampler.sample(1)
    names = ("support", "support_labels", "query")
    signature = ({n: tf.TensorSpec((batch_size,) + first[n].shape[1:], tf.float32 if n != "support_labels" else tf.int32)
                  for n in names}, tf.TensorSpec((batch_size, first["query_labels"].shape[1]), tf.int32))

    def generate():
        while True:
            episode = sampler.sample(batch_size)
            yield ({n: episode[n].astype("int32" if n == "support_labels" else "float32") for n in names},
                   episode["query_labels"].astype("int32"))

    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)
