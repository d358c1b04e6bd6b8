"""cvat_sdk.masks: CVAT's run-length mask code, both ways, checked against hand-made codes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cvat_sdk.masks import decode_mask, encode_mask


def test_encode_crops_to_the_box_and_starts_with_zeros() -> None:
    bitmap = np.zeros((4, 5), dtype=bool)
    bitmap[1, 2] = bitmap[2, 1] = bitmap[2, 2] = True
    # box x 1..3, y 1..2: rows [0 1 0] [1 1 0] -> runs 1 zero, 1 one, 1 zero, 2 ones, 1 zero
    assert encode_mask(bitmap, [1, 1, 3, 2]) == [1, 1, 1, 2, 1, 1, 1, 3, 2]
    # a box starting on a set pixel begins with an empty run of zeros
    assert encode_mask(bitmap, [2, 1, 2, 2]) == [0, 2, 2, 1, 2, 2]


def test_fractional_boxes_widen_and_clip() -> None:
    bitmap = np.ones((3, 3), dtype=np.uint8)
    assert encode_mask(bitmap, [0.5, 0.2, 7.9, 9]) == [0, 9, 0, 0, 2, 2]


@pytest.mark.parametrize("seed", range(5))
def test_round_trip(seed: int) -> None:
    rng = np.random.default_rng(seed)
    bitmap = rng.random((17, 23)) > 0.6
    ys, xs = np.nonzero(bitmap)
    box = [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]
    points = encode_mask(bitmap, box)
    assert points[-4:] == box
    assert np.array_equal(decode_mask(points, image_width=23, image_height=17), bitmap)


def test_bad_input_names_the_parameter() -> None:
    with pytest.raises(ValueError, match="bitmap"):
        encode_mask(np.zeros(3), [0, 0, 1, 1])
    with pytest.raises(ValueError, match="bbox"):
        encode_mask(np.zeros((3, 3)), [0, 0, 1])
    with pytest.raises(ValueError, match="bbox"):
        encode_mask(np.zeros((3, 3)), [5, 5, 6, 6])
    with pytest.raises(ValueError, match="cover 3 pixels"):
        decode_mask([1, 2, 0, 0, 1, 1], image_width=4, image_height=4)
    with pytest.raises(ValueError, match="not inside"):
        decode_mask([4, 0, 0, 1, 1], image_width=1, image_height=1)


def test_import_cvat_sdk_loads_no_extra() -> None:
    """The adapters' dependencies are loaded by the adapters only."""
    code = (
        "import sys, cvat_sdk, cvat_sdk.core.client, cvat_sdk.datasets; "
        "print(sorted(m for m in ('numpy', 'PIL', 'torch', 'torchvision') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_extra_names_it() -> None:
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "try:\n    import cvat_sdk.masks\n"
        "except ImportError as e:\n    print(type(e).__name__, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "MissingExtraError cvat_sdk.masks needs numpy, which is not installed: "
        'pip install "cvat-sdk[masks]"'
    )
