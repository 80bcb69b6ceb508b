"""The YouTube-8M starter code's metric functions, ported to Python 3: the reference for
``course_lib.metrics`` (the tests check equality with it, ``bench/metrics.py`` measures against it).

Source: github.com/google/youtube-8m, ``eval_util.py`` (``flatten``, ``calculate_hit_at_one``,
``calculate_precision_at_equal_recall_rate``, ``calculate_gap``, ``top_k_by_class``,
``top_k_triplets``) and ``average_precision_calculator.py`` (``AveragePrecisionCalculator``:
``accumulate``, ``peek_ap_at_n``, ``ap_at_n``, ``_shuffle``), Apache License 2.0. Re-typed here
with the same logic (``xrange`` -> ``range``), only what the tests call; nothing is imported from
the internet. ``bench/metrics.py`` carries its own copy of ``calculate_gap`` so that it runs alone.
"""

import heapq
import random

import numpy


def flatten(lists):
    return [item for sublist in lists for item in sublist]


def calculate_hit_at_one(predictions, actuals):
    top_prediction = numpy.argmax(predictions, 1)
    hits = actuals[numpy.arange(actuals.shape[0]), top_prediction]
    return numpy.average(hits)


def calculate_precision_at_equal_recall_rate(predictions, actuals):
    aggregated_precision = 0.0
    num_videos = actuals.shape[0]
    for row in numpy.arange(num_videos):
        num_labels = int(numpy.sum(actuals[row]))
        top_indices = numpy.argpartition(predictions[row], -num_labels)[-num_labels:]
        item_precision = 0.0
        for label_index in top_indices:
            if predictions[row][label_index] > 0:
                item_precision += actuals[row][label_index]
        item_precision /= top_indices.size
        aggregated_precision += item_precision
    aggregated_precision /= num_videos
    return aggregated_precision


def top_k_triplets(predictions, labels, k=20):
    m = len(predictions)
    k = min(k, m)
    indices = numpy.argpartition(predictions, -k)[-k:]
    return [(index, predictions[index], labels[index]) for index in indices]


def top_k_by_class(predictions, labels, k=20):
    if k <= 0:
        raise ValueError("k must be a positive integer.")
    k = min(k, predictions.shape[1])
    num_classes = predictions.shape[1]
    prediction_triplets = []
    for video_index in range(predictions.shape[0]):
        prediction_triplets.extend(top_k_triplets(predictions[video_index], labels[video_index], k))
    out_predictions = [[] for _ in range(num_classes)]
    out_labels = [[] for _ in range(num_classes)]
    for triplet in prediction_triplets:
        out_predictions[triplet[0]].append(triplet[1])
        out_labels[triplet[0]].append(triplet[2])
    out_true_positives = [numpy.sum(labels[:, i]) for i in range(num_classes)]
    return out_predictions, out_labels, out_true_positives


class AveragePrecisionCalculator:
    def __init__(self, top_n=None):
        self._top_n = top_n
        self._total_positives = 0
        self._heap = []

    @property
    def heap_size(self):
        return len(self._heap)

    def accumulate(self, predictions, actuals, num_positives=None):
        if len(predictions) != len(actuals):
            raise ValueError("the shape of predictions and actuals does not match.")
        if num_positives is not None:
            self._total_positives += num_positives
        else:
            self._total_positives += numpy.size(numpy.where(numpy.asarray(actuals) > 0))
        topk = self._top_n
        heap = self._heap
        for i in range(numpy.size(predictions)):
            if topk is None or len(heap) < topk:
                heapq.heappush(heap, (predictions[i], actuals[i]))
            elif predictions[i] > heap[0][0]:
                heapq.heappop(heap)
                heapq.heappush(heap, (predictions[i], actuals[i]))

    def peek_ap_at_n(self):
        if self.heap_size <= 0:
            return 0
        predlists = numpy.array(list(zip(*self._heap)))
        return self.ap_at_n(predlists[0], predlists[1], n=self._top_n, total_num_positives=self._total_positives)

    @staticmethod
    def ap_at_n(predictions, actuals, n=20, total_num_positives=None):
        if len(predictions) != len(actuals):
            raise ValueError("the shape of predictions and actuals does not match.")
        ap = 0.0
        predictions = numpy.array(predictions)
        actuals = numpy.array(actuals)
        predictions, actuals = AveragePrecisionCalculator._shuffle(predictions, actuals)
        sortidx = sorted(range(len(predictions)), key=lambda k: predictions[k], reverse=True)
        if total_num_positives is None:
            numpos = numpy.size(numpy.where(actuals > 0))
        else:
            numpos = total_num_positives
        if numpos == 0:
            return 0
        if n is not None:
            numpos = min(numpos, n)
        delta_recall = 1.0 / numpos
        poscount = 0.0
        r = len(sortidx)
        if n is not None:
            r = min(r, n)
        for i in range(r):
            if actuals[sortidx[i]] > 0:
                poscount += 1
                ap += poscount / (i + 1) * delta_recall
        return ap

    @staticmethod
    def _shuffle(predictions, actuals):
        random.seed(0)
        suffidx = random.sample(range(len(predictions)), len(predictions))
        return predictions[suffidx], actuals[suffidx]


def calculate_gap(predictions, actuals, top_k=20):
    gap_calculator = AveragePrecisionCalculator()
    sparse_predictions, sparse_labels, num_positives = top_k_by_class(predictions, actuals, top_k)
    gap_calculator.accumulate(flatten(sparse_predictions), flatten(sparse_labels), sum(num_positives))
    return gap_calculator.peek_ap_at_n()


def mean_ap_at_n(predictions, actuals, n=10):
    """The mean over videos of ``ap_at_n`` on each video's full score row (what MAP@K means here)."""
    return numpy.mean([AveragePrecisionCalculator.ap_at_n(p, a, n=n) for p, a in zip(predictions, actuals)])
