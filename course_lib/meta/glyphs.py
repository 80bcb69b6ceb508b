"""An offline Omniglot-like data set: letters of many scripts, rendered from a font matplotlib ships.

Taught in notebook 08. Omniglot (Lake et al. 2015) has 1,623 handwritten characters of 50 alphabets,
20 drawings each. No package ships it, so the course draws a stand-in: every *letter* (Unicode
category ``Lu``, ``Ll``, ``Lo``, without a canonical decomposition, so no accented copies) of
DejaVu Sans, the font inside matplotlib, is one class: Latin, Greek, Cyrillic, Armenian, Georgian,
Hebrew, Arabic, Canadian syllabics, Tifinagh, Lao, Lisu, N'Ko, ... Letters that render identically
(Latin ``a`` and Cyrillic ``а``) are kept once. Each class gets ``renders`` distorted 28x28 drawings::

    glyph (FreeType, 40 px) -> centred on a 56x56 canvas -> thickened 0, 1 or 2 pixels (stroke width)
      -> sampled on a 28x28 grid moved by  A (rotation, scale, shear) + shift + elastic noise

The elastic noise is a smooth random displacement field (a 4x4 grid of Gaussian offsets, bilinearly
upsampled), the cheap cousin of Simard et al.'s elastic distortions. Strokes are 1, background 0.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed gives the same array on
every machine that has the same font file. The set is cached under ``<course>/data/glyphs/`` (like the
YouTube-8M sample, git-ignored); building it takes about 10 seconds on one core.
"""

import hashlib
import os
import unicodedata
from pathlib import Path

import numpy as np

from course_lib import settings

IMAGE_SIZE = 28
CANVAS = 56
LETTER_CATEGORIES = ("Lu", "Ll", "Lo")
SPLITS = ("train", "validation", "test")
VERSION = 1


def font_path():
    """The DejaVu Sans file inside matplotlib."""
    from matplotlib import font_manager

    return font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"), fallback_to_default=False)


def letters(path=None):
    """Sorted code points of the font's letters without a canonical decomposition."""
    from matplotlib import ft2font

    font = ft2font.FT2Font(str(path or font_path()))
    return sorted(
        code
        for code in font.get_charmap()
        if unicodedata.category(chr(code)) in LETTER_CATEGORIES and not unicodedata.decomposition(chr(code))
    )


def _canvas(font, code):
    """One glyph at 40 px, centred on a CANVAS x CANVAS float canvas (None when it has no ink)."""
    font.clear()
    font.set_size(40, 72)
    font.set_text(chr(code), 0.0)
    font.draw_glyphs_to_bitmap(antialiased=True)
    image = np.asarray(font.get_image(), dtype=np.float32) / 255.0
    rows, cols = np.nonzero(image > 0.2)
    if rows.size < 12:
        return None
    image = image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    height, width = image.shape
    if max(height, width) > CANVAS - 12:
        step = int(np.ceil(max(height, width) / (CANVAS - 12)))
        image = image[::step, ::step]
        height, width = image.shape
    canvas = np.zeros((CANVAS, CANVAS), np.float32)
    top, left = (CANVAS - height) // 2, (CANVAS - width) // 2
    canvas[top : top + height, left : left + width] = image
    return canvas


def _thicken(canvas):
    """Grey-scale dilation by one pixel (3x3 maximum)."""
    padded = np.pad(canvas, 1)
    shifts = [padded[i : i + CANVAS, j : j + CANVAS] for i in range(3) for j in range(3)]
    return np.max(shifts, axis=0)


def _fingerprint(canvas):
    """Coarse binary picture of a glyph: letters that look the same share it."""
    small = canvas.reshape(14, 4, 14, 4).mean(axis=(1, 3)) > 0.3
    return hashlib.sha1(np.packbits(small).tobytes()).hexdigest()


def _grids(rng, renders):
    """Source coordinates (renders, 28, 28, 2) on the canvas for ``renders`` random distortions."""
    angle = rng.uniform(-0.3, 0.3, renders)  # radians, about +-17 degrees
    scale = rng.uniform(0.8, 1.15, renders)
    shear = rng.uniform(-0.3, 0.3, renders)
    shift = rng.normal(0.0, 1.0, (renders, 2))
    cos, sin = np.cos(angle), np.sin(angle)
    # Inverse map output -> canvas: R(angle) @ [[1, shear], [0, 1]] / scale, applied to centred pixels.
    matrix = np.stack([np.stack([cos, cos * shear - sin], -1), np.stack([sin, sin * shear + cos], -1)], -2)
    matrix = matrix / scale[:, None, None] * (CANVAS / IMAGE_SIZE)
    axis = np.arange(IMAGE_SIZE) - (IMAGE_SIZE - 1) / 2
    pixels = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1)  # (28, 28, 2) as (row, col)
    coords = np.einsum("nij,hwj->nhwi", matrix, pixels) + (CANVAS - 1) / 2 + 2 * shift[:, None, None, :]
    coarse = rng.normal(0.0, 2.0, (renders, 2, 4, 4))  # elastic noise, in canvas pixels
    fine = np.linspace(0, 3, IMAGE_SIZE)
    low, frac = np.minimum(fine.astype(int), 2), fine - np.minimum(fine.astype(int), 2)
    rows = coarse[:, :, low, :] * (1 - frac)[None, None, :, None] + coarse[:, :, low + 1, :] * frac[None, None, :, None]
    field = rows[..., low] * (1 - frac) + rows[..., low + 1] * frac
    return coords + np.moveaxis(field, 1, -1)


def _sample(canvases, choice, coords):
    """Bilinear samples of ``canvases[choice[n]]`` at ``coords[n]``; zero outside the canvas."""
    padded = np.pad(canvases, ((0, 0), (1, 1), (1, 1)))
    coords = np.clip(coords + 1, 0, CANVAS + 0.999)
    top, left = np.floor(coords[..., 0]).astype(int), np.floor(coords[..., 1]).astype(int)
    dy, dx = coords[..., 0] - top, coords[..., 1] - left
    top1, left1 = np.minimum(top + 1, CANVAS + 1), np.minimum(left + 1, CANVAS + 1)
    index = choice[:, None, None]
    return (
        padded[index, top, left] * (1 - dy) * (1 - dx)
        + padded[index, top, left1] * (1 - dy) * dx
        + padded[index, top1, left] * dy * (1 - dx)
        + padded[index, top1, left1] * dy * dx
    )


def render_glyphs(renders=20, seed=0, max_classes=None):
    """Render the glyph set: ``(images, codes)``.

    Args:
        renders: distorted drawings per class. Default 20 (as Omniglot).
        seed: seeds every distortion.
        max_classes: keep only the first classes (in code-point order); ``None`` keeps all.

    Returns:
        ``images``: uint8 ``(classes, renders, 28, 28)``, strokes 255 on 0; ``codes``: int
        ``(classes,)`` Unicode code points (``chr(codes[c])`` is class ``c``).
    """
    from matplotlib import ft2font

    if int(renders) != renders or renders < 1:
        raise ValueError(f"renders must be a positive integer. Received: renders={renders!r}")
    font = ft2font.FT2Font(str(font_path()))
    rng = np.random.default_rng(seed)
    seen, images, codes = set(), [], []
    for code in letters():
        canvas = _canvas(font, code)
        if canvas is None or _fingerprint(canvas) in seen:
            continue
        seen.add(_fingerprint(canvas))
        thick = _thicken(canvas)
        strokes = np.stack([canvas, thick, _thicken(thick)])
        choice = rng.integers(0, 3, renders)
        drawn = _sample(strokes, choice, _grids(rng, renders))
        images.append(np.round(np.clip(drawn, 0, 1) * 255).astype(np.uint8))
        codes.append(code)
        if max_classes is not None and len(codes) == max_classes:
            break
    return np.stack(images), np.asarray(codes)


def cache_path(renders=20, seed=0):
    """Where :func:`load_glyphs` caches the set: ``<course>/data/glyphs/glyphs_v1_r20_s0.npz``."""
    return settings.course_root() / "data" / "glyphs" / f"glyphs_v{VERSION}_r{renders}_s{seed}.npz"


def load_glyphs(renders=20, seed=0, cache=True):
    """The glyph set, from the cache or rendered (and cached): ``(images, codes)``.

    ``images`` is float32 ``(classes, renders, 28, 28)`` in [0, 1]; ``codes`` the code points.

    Example:

    >>> images, codes = load_glyphs()
    >>> images.shape[1:], images.dtype, len(codes) > 1500
    ((20, 28, 28), dtype('float32'), True)
    """
    path = Path(cache_path(renders, seed))
    if cache and path.exists():
        with np.load(path) as stored:
            images, codes = stored["images"], stored["codes"]
    else:
        images, codes = render_glyphs(renders, seed)
        if cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
            with open(temporary, "wb") as handle:
                np.savez(handle, images=images, codes=codes)
            os.replace(temporary, path)
    return images.astype(np.float32) / 255.0, codes


def split_classes(num_classes, fractions=(0.7, 0.1, 0.2), seed=0):
    """Disjoint class indices ``{"train", "validation", "test"}``: a seeded shuffle cut by ``fractions``.

    The meta-train, meta-validation and meta-test tasks are drawn from these three sets only, so no
    class ever appears in two of them.

    Example:

    >>> parts = split_classes(100)
    >>> [len(parts[name]) for name in ("train", "validation", "test")]
    [70, 10, 20]
    """
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three positive numbers summing to 1. Received: fractions={fractions!r}")
    order = np.random.default_rng(seed).permutation(num_classes)
    cuts = np.round(np.cumsum(fractions)[:2] * num_classes).astype(int)
    return dict(zip(SPLITS, (np.sort(part) for part in np.split(order, cuts))))


def script_of(code):
    """The script a code point belongs to, by its Unicode name (``LATIN``, ``GREEK``, ...)."""
    return unicodedata.name(chr(int(code)), "UNKNOWN").split()[0]
