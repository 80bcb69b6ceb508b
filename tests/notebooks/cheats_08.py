"""Known cheats of notebook 08's exercises: each must fail its check (test_exercises.py)."""

NOTEBOOK = "08_meta_learning_basics.ipynb"

_CONCAT = "def label_concatenated(images, labels):\n{}"
_JOIN = "np.concatenate([images, {}], axis=-1).reshape(-1, images.shape[-1] + labels.shape[-1])"
_POSITION = "def position_accuracy(query_labels):\n    N = query_labels.shape[1]\n    return float({})"
_LOSS = '''
def proto_loss(support, support_labels, query, query_labels, num_ways):
    one_hot = np.eye(num_ways)[support_labels]
    prototypes = {prototypes}
    logits = {logits}
    log_p = logits - logits.max({axis}, keepdims=True)
    log_p = log_p - np.log(np.exp(log_p).sum({axis}, keepdims=True))
    return float(-np.take_along_axis(log_p, query_labels[..., None], -1).mean())
'''
_MEANS = 'np.einsum("bsn,bsd->bnd", one_hot, support) / one_hot.sum(1)[..., None]'
_SQUARED = "-((query[:, :, None] - prototypes[:, None]) ** 2).sum(-1)"


def _loss(prototypes=_MEANS, logits=_SQUARED, axis=-1):
    return _LOSS.format(prototypes=prototypes, logits=logits, axis=axis)


CHEATS = {
    1: {
        "mann.zero_query_labels for the zeroing": _CONCAT.format(
            "    return " + _JOIN.format("np.asarray(mann.zero_query_labels(labels[None]))[0]")),
        "the check's sizes hard-coded (9 rows of 784 + 3, the last 3 zeroed)": _CONCAT.format(
            "    out = np.concatenate([images, labels], axis=-1).reshape(9, 787)\n"
            "    out[6:, 784:] = 0\n"
            "    return out"),
        "the query's labels zeroed in the caller's array": _CONCAT.format(
            "    labels[-1] = 0\n    return " + _JOIN.format("labels")),
        "the query's labels kept": _CONCAT.format("    return " + _JOIN.format("labels")),
        "class by class, not set by set": _CONCAT.format(
            "    labels = labels.copy()\n    labels[-1] = 0\n"
            "    return np.concatenate([images, labels], axis=-1).transpose(1, 0, 2).reshape(-1, images.shape[-1] + labels.shape[-1])"),
    },
    2: {
        "the notebook's two figures: 1 in label order, else chance": _POSITION.format(
            "1.0 if (query_labels == np.eye(N)).all() else 1 / N"),
        "chance (1/N) whatever the order": _POSITION.format("1 / N"),
        "the first episode only": _POSITION.format("(query_labels[0].argmax(-1) == np.arange(N)).mean()"),
        "whole episodes with every query at its position": _POSITION.format(
            "(query_labels.argmax(-1) == np.arange(N)).all(-1).mean()"),
    },
    3: {
        "protonet.prototypical_loss": '''
def proto_loss(support, support_labels, query, query_labels, num_ways):
    loss, _ = protonet.prototypical_loss(support.astype("float32"), support_labels, query.astype("float32"), query_labels, num_ways)
    return float(loss)
''',
        "protonet.prototype_logits, then a NumPy softmax": _loss(
            prototypes="None", logits="np.asarray(protonet.prototype_logits(support, support_labels, query, num_ways), np.float64)"),
        "the widely copied reshape to (N, K, D): labels assumed grouped": _loss(
            prototypes="support.reshape(len(support), num_ways, -1, support.shape[-1]).mean(2)"),
        "K taken from the query's size": _loss(
            prototypes="support.reshape(len(support), num_ways, query.shape[1] // num_ways, -1).mean(2)"),
        "Euclidean distances, not squared": _loss(logits=f"-np.sqrt({_SQUARED[1:]})"),
        "the softmax over the queries, not the classes": _loss(axis=1),
    },
}
