"""CVAT's mask encoding: a run-length code of a bitmap cropped to a box.

A mask shape's ``points`` are the lengths of alternating runs of 0 and 1 (starting with 0,
so the first run may be empty) over the box's pixels in row-major order, followed by the box
``[left, top, right, bottom]`` with the right and bottom edges inclusive.

Needs numpy: ``pip install "cvat-sdk[masks]"``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cvat_sdk._optional import require

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray
else:
    np = require("numpy", "masks", "cvat_sdk.masks")

__all__ = ["decode_mask", "encode_mask"]


def encode_mask(bitmap: ArrayLike, /, bbox: Sequence[float]) -> list[float]:
    """The ``points`` of a mask shape for the pixels of ``bitmap`` inside ``bbox``.

    Args:
        bitmap: a 2D array (height x width) of the whole image; non-zero pixels are the mask.
        bbox: ``[x1, y1, x2, y2]``, the box that holds the mask (pixels outside it are
            ignored); fractional edges are widened to whole pixels and clipped to the image.

    Raises:
        ValueError: ``bitmap`` is not 2D, or ``bbox`` is not 4 numbers inside the image.
    """
    array = np.asarray(bitmap)
    if array.ndim != 2:
        raise ValueError(f"bitmap: expected a 2D array, got {array.ndim} dimensions")
    if len(bbox) != 4:
        raise ValueError(f"bbox: expected [x1, y1, x2, y2], got {len(bbox)} values")
    height, width = array.shape
    left = max(math.floor(bbox[0]), 0)
    top = max(math.floor(bbox[1]), 0)
    right = min(math.ceil(bbox[2]), width - 1)
    bottom = min(math.ceil(bbox[3]), height - 1)
    if not (left <= right and top <= bottom):
        raise ValueError(f"bbox: {list(bbox)} holds no pixel of a {width}x{height} bitmap")
    flat = array[top : bottom + 1, left : right + 1].astype(bool).ravel()
    # positions where the value changes, framed by the start and the end
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(edges).tolist()
    if flat[0]:
        runs.insert(0, 0)
    return [*runs, left, top, right, bottom]


def decode_mask(points: Sequence[float], /, image_width: int, image_height: int) -> NDArray[Any]:
    """The bitmap (``image_height`` x ``image_width``, bool) of a mask shape's ``points``.

    Raises:
        ValueError: the points are not a valid encoding (too short, runs that do not fill
            the box, a box outside the image).
    """
    if len(points) < 5:
        raise ValueError(f"points: a mask needs runs and a box, got {len(points)} values")
    left, top, right, bottom = (math.trunc(v) for v in points[-4:])
    if not (0 <= left <= right < image_width and 0 <= top <= bottom < image_height):
        raise ValueError(
            f"points: box {[left, top, right, bottom]} is not inside a "
            f"{image_width}x{image_height} image"
        )
    box_width, box_height = right - left + 1, bottom - top + 1
    runs = np.asarray(points[:-4], dtype=np.int64)
    if (runs < 0).any() or int(runs.sum()) != box_width * box_height:
        raise ValueError(
            f"points: the runs cover {int(runs.sum())} pixels, the box has {box_width * box_height}"
        )
    values = np.zeros(len(runs), dtype=bool)
    values[1::2] = True
    tight = np.repeat(values, runs).reshape(box_height, box_width)
    full = np.zeros((image_height, image_width), dtype=bool)
    full[top : bottom + 1, left : right + 1] = tight
    return full
