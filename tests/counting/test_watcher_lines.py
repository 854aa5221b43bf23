"""The box's own lines in the fill band (`line_rows`): read from a view's first sample, with the
rows of a later sample with nobody at the box added when someone stood there in the first
(`watcher.LINES_REREAD`, session 14: demo 190 cam-D002-002's false bundle of 4)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pollwatch.counting import watcher
from pollwatch.counting.measures import line_rows
from pollwatch.video.frame import Frame
from pollwatch.video.zone import Zone

ZONE = Zone(np.array([[260, 150], [380, 150], [380, 320], [260, 320]], np.float32))
REGIONS = watcher.BoxRegions.around(ZONE, 640, 360)
FPS = 12.5


def _image(someone: bool, strap: bool = False) -> np.ndarray:
    """A box with two thin bright lines across its fill band; `someone`: a light shirt behind
    the box around both lines, which hides their peaks in the band's profile, or with `strap`
    a dark shirt with a bright strap across it (a peak no line makes)."""
    image = np.full((360, 640), 90, np.uint8)
    cv2.rectangle(image, (260, 150), (380, 320), 200, 1)
    top = REGIONS.fill[1]
    image[top + 30, 255:385] = 220
    image[top + 50, 255:385] = 220
    if someone and strap:
        image[top - 60 : top + 25, 200:440] = 40  # above the band and across its top
        image[top + 35 : top + 46, 200:440] = 40
        image[top + 40, 200:440] = 230
    elif someone:
        image[top + 20 : top + 60, 200:440] = 215
    return image


def _lines(image: np.ndarray) -> list[int]:
    x0, y0, x1, y1 = REGIONS.watch
    return line_rows(image[y0:y1, x0:x1], REGIONS.local(REGIONS.fill)).tolist()


def _watched_lines(
    someone_until_s: float, seconds: float = 20.0, *, strap: bool = False
) -> list[int]:
    w = watcher.BoxWatcher(ZONE)
    for k in range(int(seconds * FPS)):
        t = k / FPS
        w.update(Frame.from_image(_image(t < someone_until_s, strap), pts_s=t))
    w.result()
    return w._s.lines.tolist()


def test_the_picture_shows_the_lines_only_without_someone_there() -> None:
    clear, hidden = _lines(_image(False)), _lines(_image(True))
    assert {30, 50} <= set(clear)
    assert not {30, 50} & set(hidden)


@pytest.mark.parametrize(
    ("reread", "someone_until_s", "expected"),
    [
        (True, 3.0, False),  # someone at the first sample: read again once they left
        (True, 0.0, False),  # nobody: the first sample's rows
        (True, 30.0, True),  # someone there throughout: no clear sample, the first's kept
        (False, 3.0, True),  # the option off: the first sample's (hidden) rows kept
    ],
)
def test_the_lines_are_read_where_nobody_stands(
    monkeypatch, reread: bool, someone_until_s: float, expected: bool
) -> None:
    monkeypatch.setattr(watcher, "LINES_REREAD", reread)
    assert _watched_lines(someone_until_s) == _lines(_image(expected))


def test_rows_are_only_added() -> None:
    """A row the first sample showed and the clear one does not is kept: a background settled
    with people in it can take someone for nobody (the crowded test clip)."""
    first, clear = _lines(_image(True, strap=True)), _lines(_image(False))
    assert 40 in first and 40 not in clear and {30, 50} <= set(first)
    assert _watched_lines(3.0, strap=True) == sorted(set(first) | set(clear))
