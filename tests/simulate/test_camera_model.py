"""The pinhole camera: projection against OpenCV's, turning, near-plane clipping."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pollwatch.simulate.camera_model import PinholeCamera, ViewChange


def _camera(**kw: float) -> PinholeCamera:
    args = dict(x=4.0, y=0.05, z=2.75, yaw_deg=2.0, pitch_deg=27.0, roll_deg=0.5, hfov_deg=84.0)
    args.update(kw)
    return PinholeCamera(width=640, height=360, **args)  # type: ignore[arg-type]


def test_projection_matches_opencv() -> None:
    # independent implementation: cv2.projectPoints with rvec/tvec from our R and C
    cam = _camera()
    pts = np.array([[4.2, 2.2, 0.9], [1.0, 6.0, 0.0], [7.5, 3.0, 2.0], [3.0, 5.0, 1.7]])
    ours, depth = cam.project(pts)
    rvec, _ = cv2.Rodrigues(cam.rotation)
    tvec = -cam.rotation @ cam.center
    ref, _ = cv2.projectPoints(pts, rvec, tvec, cam.intrinsics, None)
    assert np.all(depth > 0)
    np.testing.assert_allclose(ours, ref[:, 0, :], atol=1e-6)
    homog = cam.projection_matrix @ np.c_[pts, np.ones(len(pts))].T
    np.testing.assert_allclose(ours, (homog[:2] / homog[2]).T, atol=1e-6)


def test_optical_axis_hits_principal_point() -> None:
    cam = _camera(roll_deg=0.0)
    ahead = cam.center + 3.0 * cam.rotation[2]
    px, _ = cam.project(ahead[None])
    np.testing.assert_allclose(px[0], (320, 180), atol=1e-9)


@pytest.mark.parametrize(
    ("change", "moves"),
    [
        (ViewChange(pan_deg=20), "left"),  # turning right moves the scene left
        (ViewChange(pan_deg=-20), "right"),
        (ViewChange(tilt_deg=10), "down"),  # tilting up moves the scene down
        (ViewChange(dx=15), "right"),
    ],
)
def test_view_change_moves_the_scene(change: ViewChange, moves: str) -> None:
    cam = _camera()
    p = np.array([[4.0, 3.5, 0.5]])
    before, _ = cam.project(p)
    after, _ = cam.changed(change).project(p)
    du, dv = (after - before)[0]
    assert {"left": du < -5, "right": du > 5, "down": dv > 5}[moves]


def test_points_behind_are_nan_and_polygons_are_clipped() -> None:
    cam = _camera(pitch_deg=0.0, yaw_deg=0.0, roll_deg=0.0)
    px, depth = cam.project(np.array([[4.0, -1.0, 2.75]]))
    assert depth[0] < 0 and np.all(np.isnan(px))
    assert cam.clip_polygon(np.array([[3, -2, 0], [5, -2, 0], [5, -1, 0]], float)) is None
    floor = np.array([[0, -3, 0], [8, -3, 0], [8, 7, 0], [0, 7, 0]], float)
    clipped = cam.clip_polygon(floor)
    assert clipped is not None and np.all(np.isfinite(clipped))


@pytest.mark.parametrize(
    "kwargs",
    [dict(hfov_deg=0.5), dict(hfov_deg=175.0), dict(scale=0.0)],
)
def test_bad_camera_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        _camera(**kwargs)


def test_bad_view_change_is_refused() -> None:
    with pytest.raises(ValueError, match="scale"):
        ViewChange(scale=-1.0)
