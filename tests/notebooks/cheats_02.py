"""Known cheats of notebook 02's exercises: each must fail its check (test_exercises.py)."""

NOTEBOOK = "02_map_at_k_by_hand.ipynb"

CHEATS = {
    1: {
        "metrics.top_k": "def top_k_by_hand(scores, k):\n    return metrics.top_k(scores, k=k)[0]",
        "argsort reversed (ties by decreasing label)": (
            "def top_k_by_hand(scores, k):\n    return np.argsort(scores, axis=1)[:, ::-1][:, :k]"
        ),
        "argsort of the negated scores, default (unstable) sort": (
            "def top_k_by_hand(scores, k):\n    return np.argsort(-scores, axis=1)[:, :k]"
        ),
    },
    2: {
        "Monte Carlo over random rankings": (
            "def expected_random_ap(num_classes, num_true, k, draws=2000):\n"
            "    draw_rng = np.random.default_rng(0)\n"
            "    return float(np.mean([metrics.average_precision_at_k(range(num_true), draw_rng.permutation(num_classes), k=k)\n"
            "                          for _ in range(draws)]))"
        ),
        "labels independent (r/N in place of (r-1)/(N-1))": (
            "def expected_random_ap(num_classes, num_true, k):\n"
            "    if num_true == 0:\n"
            "        return 0.0\n"
            "    p = num_true / num_classes\n"
            "    return sum(p * (1 + (rank - 1) * p) / rank for rank in range(1, min(k, num_classes) + 1)) / min(num_true, k)"
        ),
        "the share of true labels": "def expected_random_ap(num_classes, num_true, k):\n    return num_true / num_classes",
    },
    3: {
        "the raw scores": 'calibrated = scores["nearest centroid"].copy()',
        "minus each video's top score": (
            'calibrated = scores["nearest centroid"] - scores["nearest centroid"].max(axis=1, keepdims=True)'
        ),
        "over each video's top score": (
            'calibrated = scores["nearest centroid"] / scores["nearest centroid"].max(axis=1, keepdims=True)'
        ),
    },
    4: {
        "np.sum over float32 values": "def kahan_sum32(values):\n    return np.sum(np.asarray(values, dtype=np.float32))",
        "np.float32(math.fsum(...))": "def kahan_sum32(values):\n    return np.float32(math.fsum(values))",
        "a float64 running total": (
            "def kahan_sum32(values):\n"
            "    total = 0.0\n"
            "    for value in values:\n"
            "        total += float(value)\n"
            "    return np.float32(total)"
        ),
        "Kahan's method in float64": (
            "def kahan_sum32(values):\n"
            "    total = compensation = 0.0\n"
            "    for value in np.asarray(values, dtype=np.float64):\n"
            "        corrected = value - compensation\n"
            "        new_total = total + corrected\n"
            "        compensation = (new_total - total) - corrected\n"
            "        total = new_total\n"
            "    return np.float32(total)"
        ),
    },
}
