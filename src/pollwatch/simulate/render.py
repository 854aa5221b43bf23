"""Render one camera's recording from its `CameraPlan`: the per-frame loop and the conditions.

For every frame time the renderer picks the view (the intended camera, or turned by a
`view_shifted` condition), takes that view's precomputed background, draws the people, the
ballot box and the furniture that hides them in painter's order (far to near, with a furniture
piece pasted back over whoever stands behind it), applies `defocus`, converts to I420, applies
exposure (lighting drift, auto-exposure, `dark`) and sensor noise, and encodes. Only what was
drawn is converted and exposed (`picture.PictureMaker`), and a figure standing or sitting still
is pasted from its last drawing while the pixels under it are unchanged. `frozen` repeats
the last encoded picture, `outage` writes nothing (a gap in timestamps, audio included), and the
audio conditions act on the room sound.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pollwatch.simulate import room
from pollwatch.simulate.audio import RoomSound, apply_audio_conditions
from pollwatch.simulate.ballot_box import BoxPainter, box_polygon
from pollwatch.simulate.camera_model import PinholeCamera, ViewChange
from pollwatch.simulate.canvas import Canvas, Item
from pollwatch.simulate.depth_order import Drawable
from pollwatch.simulate.encode import EncodeSettings, MediaWriter
from pollwatch.simulate.figures import Figure, FigurePalette
from pollwatch.simulate.motion import Pose, Track
from pollwatch.simulate.picture import PictureMaker
from pollwatch.simulate.plan import CameraCondition, CameraPlan, RenderedCamera
from pollwatch.simulate.scene import RoomLook, StaticView, room_look
from pollwatch.simulate.sensor import Sensor, exposure_curve

__all__ = [
    "CameraRenderer",
    "RenderSettings",
    "box_in_view",
    "render_camera",
    "view_change",
]

_KNOWN_KINDS = {
    "audio_absent",
    "audio_muted",
    "audio_quiet",
    "view_shifted",
    "box_occluded",
    "frozen",
    "outage",
    "defocus",
    "dark",
}
_VIEW_PARAMS = {"pan_deg", "tilt_deg", "roll_deg", "angle_deg", "scale", "dx", "dy"}
_DOOR_NEAR_M = 1.1
_SWAY_STEP = 0.003  # metres: still people are drawn with their sway rounded to this
_BATCH_S = 1.0  # seconds of pictures made, then encoded, then their sound


@dataclass(frozen=True)
class RenderSettings:
    """How to render: encoder settings and sensor noise levels (8-bit code values)."""

    encode: EncodeSettings = field(default_factory=EncodeSettings)
    luma_noise: float = 1.6
    chroma_noise: float = 0.9


def default_video_bitrate(plan: CameraPlan) -> int:
    """About 1 Mbit/s at 640×360, 25 fps, scaled with the pixel rate (at least 300 kbit/s)."""
    bits_per_pixel = 1_000_000 / (640 * 360 * 25)
    return max(300_000, round(bits_per_pixel * plan.width * plan.height * plan.fps))


def view_change(conditions: tuple[CameraCondition, ...] | list[CameraCondition]) -> ViewChange:
    """The camera turn of the given (active) `view_shifted` conditions, combined."""
    change = ViewChange()
    for c in conditions:
        if c.kind != "view_shifted":
            continue
        p = c.params
        change = change.combine(
            ViewChange(
                pan_deg=float(p.get("pan_deg", 0.0)),
                tilt_deg=float(p.get("tilt_deg", 0.0)),
                roll_deg=float(p.get("roll_deg", p.get("angle_deg", 0.0))),
                scale=float(p.get("scale", 1.0)),
                dx=float(p.get("dx", 0.0)),
                dy=float(p.get("dy", 0.0)),
            )
        )
    return change


def _check_plan(plan: CameraPlan) -> None:
    where = f"camera {plan.camera_id}"
    if not plan.duration_s > 0:
        raise ValueError(f"{where}: duration_s must be positive, got {plan.duration_s}")
    if plan.fps <= 0:
        raise ValueError(f"{where}: fps must be positive, got {plan.fps}")
    if plan.width < 16 or plan.height < 16 or plan.width % 2 or plan.height % 2:
        raise ValueError(
            f"{where}: frame size must be even and at least 16×16, got {plan.width}×{plan.height}"
        )
    if plan.box_capacity_ballots <= 0:
        raise ValueError(f"{where}: box_capacity_ballots must be positive")
    if plan.box_initial_ballots < 0:
        raise ValueError(f"{where}: box_initial_ballots must not be negative")
    for v in plan.visits:
        for s in v.stops:
            try:
                room.place(s.place)
            except ValueError as e:
                raise ValueError(
                    f"{where}: visit {v.person_id}, stop at {s.arrive_s:.2f} s: {e}"
                ) from None
        for d in v.drops:
            if d.ballots < 1:
                raise ValueError(
                    f"{where}: visit {v.person_id}, drop at {d.t_s:.2f} s: ballots must be ≥ 1"
                )
    for c in plan.conditions:
        at = f"{where}: condition {c.kind} at {c.start_s:.2f} s"
        if c.kind not in _KNOWN_KINDS:
            raise ValueError(f"{at}: unknown kind; known: {sorted(_KNOWN_KINDS)}")
        if not c.end_s > c.start_s:
            raise ValueError(f"{at}: end_s {c.end_s} must be after start_s")
        if c.kind == "view_shifted":
            unknown = set(c.params) - _VIEW_PARAMS
            if unknown:
                raise ValueError(
                    f"{at}: unknown params {sorted(unknown)}; known: {sorted(_VIEW_PARAMS)}"
                )
            if float(c.params.get("scale", 1.0)) <= 0:
                raise ValueError(f"{at}: scale must be positive")
        if c.kind == "defocus" and not float(c.params.get("sigma", 0.0)) > 0:
            raise ValueError(f"{at}: params need sigma > 0 (pixels)")
        if c.kind == "dark" and not 0.0 <= float(c.params.get("gain", -1.0)) <= 1.0:
            raise ValueError(f"{at}: params need gain in 0..1")


class _View:
    """A static view plus the box painter for it."""

    def __init__(
        self,
        look: RoomLook,
        camera: PinholeCamera,
        door_open: bool,
        occluder: bool,
        masks: dict[str, tuple[int, int, np.ndarray] | None],
    ) -> None:
        self.static = StaticView.build(
            look, camera, door_open=door_open, occluder=occluder, masks=masks
        )
        self.camera = camera
        self.box = BoxPainter(camera, look.box)

    def gain_at_floor(self, x: float, y: float) -> float:
        """The lighting gain at the image point of a person's waist standing at (x, y)."""
        (p00, p01, p02, p03), (p10, p11, p12, p13), (p20, p21, p22, p23) = (
            self.camera.projection_rows
        )
        z = p20 * x + p21 * y + p22 * 0.9 + p23
        if z <= 0.05:
            return 1.0
        u = p00 * x + p01 * y + p02 * 0.9 + p03
        v = p10 * x + p11 * y + p12 * 0.9 + p13
        return self.gain_at(u / z, v / z)

    def gain_at(self, px: float, py: float) -> float:
        h, w = self.camera.height, self.camera.width
        x = min(max(int(px), 0), w - 1)
        y = min(max(int(py), 0), h - 1)
        return float(self.static.lighting[y, x, 0])


class CameraRenderer:
    """Renders the frames of one plan; `run()` writes the file, `frames()` yields pictures."""

    def __init__(self, plan: CameraPlan, settings: RenderSettings | None = None) -> None:
        _check_plan(plan)
        self.plan = plan
        self.settings = settings or RenderSettings(
            encode=EncodeSettings(video_bitrate=default_video_bitrate(plan))
        )
        self.look = room_look(plan.seed, plan.width, plan.height)
        self.n_frames = max(1, round(plan.duration_s * plan.fps))
        rng = np.random.default_rng([plan.seed, 0xF4A3E])
        self.exposure = exposure_curve(self.n_frames, plan.fps, rng)
        self.sensor = Sensor(
            plan.width,
            plan.height,
            rng,
            luma_sigma=self.settings.luma_noise,
            chroma_sigma=self.settings.chroma_noise,
        )
        self.tracks = sorted((Track(v) for v in plan.visits), key=lambda t: t.enter_s)
        self._palettes = [FigurePalette(t.appearance, self.look.floor) for t in self.tracks]
        # track → (where they stay still, their figures by sway step)
        self._still: dict[int, tuple[tuple, dict[int, Figure]]] = {}
        self._scan_t, self._scan_next, self._scan_in = -math.inf, 0, []  # see _present
        drops = sorted((d.t_s, d.ballots) for v in plan.visits for d in v.drops)
        self._drop_t = np.array([d[0] for d in drops])
        self._drop_cum = np.concatenate([[0], np.cumsum([d[1] for d in drops])]).astype(np.int64)
        self._views: dict[tuple[ViewChange, bool, bool], _View] = {}
        self._turns: dict[tuple[int, ...], ViewChange] = {}  # by active view_shifted
        self._masks: dict[PinholeCamera, dict[str, tuple[int, int, np.ndarray] | None]] = {}
        self._canvas = Canvas(plan.width, plan.height)
        self._pictures = PictureMaker(plan.width, plan.height)
        self.timing = {"render_s": 0.0, "encode_s": 0.0, "audio_s": 0.0}

    # ------------------------------------------------------------------ state at a time

    def ballots_in_box(self, t: float) -> int:
        """Ballots in the box at time `t` (a drop counts from its own time on)."""
        k = int(np.searchsorted(self._drop_t, t, side="right"))
        return self.plan.box_initial_ballots + int(self._drop_cum[k])

    def fill_at(self, t: float) -> float:
        return min(1.0, self.ballots_in_box(t) / self.plan.box_capacity_ballots)

    def active(self, t: float) -> list[CameraCondition]:
        return [c for c in self.plan.conditions if c.start_s <= t < c.end_s]

    def view(self, change: ViewChange, door_open: bool, occluder: bool) -> _View:
        key = (change, door_open, occluder)
        v = self._views.get(key)
        if v is None:
            camera = self.look.camera.changed(change)
            masks = self._masks.setdefault(camera, {})  # the same for the door open or shut
            v = _View(self.look, camera, door_open, occluder, masks)
            self._views[key] = v
        return v

    def _present(self, t: float) -> list[int]:
        """Indices of the tracks in the room at `t`, in order of entry (cheap for rising t)."""
        if t < self._scan_t:
            self._scan_next, self._scan_in = 0, []
        self._scan_t = t
        tracks = self.tracks
        while self._scan_next < len(tracks) and tracks[self._scan_next].enter_s <= t:
            self._scan_in.append(self._scan_next)
            self._scan_next += 1
        self._scan_in = [k for k in self._scan_in if tracks[k].exit_s >= t]
        return self._scan_in

    # ------------------------------------------------------------------ drawing

    def compose(
        self,
        t: float,
        conditions: list[CameraCondition],
        *,
        people: bool = True,
        fill: float | None = None,
        redraw: bool = False,
    ) -> np.ndarray:
        """The clean BGR picture at time `t` (before defocus, exposure and noise).

        `fill` overrides the box's fill level at `t`. The picture is kept from call to call
        and only what changed is drawn again (`redraw` draws all of it); it must not be changed
        outside.
        """
        poses = []
        if people:
            for k in self._present(t):
                tr = self.tracks[k]
                pose = tr.pose_at(t)
                if pose is not None:
                    poses.append((k, tr, pose))
        door = any(
            math.hypot(p.x - room.ENTRANCE.x, p.y - room.ENTRANCE.y) < _DOOR_NEAR_M
            for _, _, p in poses
        )
        occluded = any(c.kind == "box_occluded" for c in conditions)
        turn = tuple(id(c) for c in conditions if c.kind == "view_shifted")
        change = self._turns.get(turn)
        if change is None:
            change = self._turns[turn] = view_change(conditions)
        v = self.view(change, door, occluded)
        cam = v.camera
        box = self.look.box
        slot = box.slot
        items: list[Item] = []
        box_dist = cam.floor_distance(box.x, box.y)
        for k, tr, pose in poses:
            fig, is_still = self._figure(k, tr, pose, v, slot)
            if fig.bbox is None or fig.extent is None:
                continue
            d = cam.floor_distance(pose.x, pose.y)
            state = fig if is_still else None  # a still figure is the same object while still
            body = Drawable("body", d, fig.bbox, (pose.x, pose.y), figure=fig)
            items.append((("body", k), state, fig.extent, body))
            if fig.has_reach:
                reach = Drawable(
                    "reach", min(d, box_dist) - 1e-3, fig.bbox, (box.x, box.y), figure=fig
                )
                items.append((("reach", k), None, fig.extent, reach))
        bounds = v.box.bounds
        if bounds is not None:
            if fill is None:
                fill = self.fill_at(t)
            gain = v.gain_at((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
            drawable = Drawable("box", box_dist, bounds, (box.x, box.y))
            items.append((("box",), (fill, gain), bounds, drawable))
        still = {id(state) for _, state, _, _ in items if isinstance(state, Figure)}

        def paint(d: Drawable, frame: np.ndarray) -> None:
            if d.kind == "body":
                d.figure.draw_body(frame, reuse=id(d.figure) in still)  # type: ignore[union-attr]
            elif d.kind == "reach":
                d.figure.draw_reach(frame)  # type: ignore[union-attr]
            else:
                v.box.draw(frame, fill, gain)  # type: ignore[arg-type]

        return self._canvas.update(
            v, v.static.background, v.static.sprites, cam, items, paint, redraw=redraw
        )

    def _figure(
        self, k: int, tr: Track, pose: Pose, v: _View, slot: np.ndarray
    ) -> tuple[Figure, bool]:
        """A person's figure and whether it is a still one.

        Someone standing or sitting still is drawn with their sway rounded to `_SWAY_STEP`;
        their figures are kept per sway step while they stay in place (sway swings back and
        forth, so each is built once), the light on them depending only on the view and
        where they are.
        """
        if pose.walking or pose.reach is not None:
            gain = v.gain_at_floor(pose.x, pose.y)
            fig = Figure.build(v.camera, tr.appearance, pose, slot, self._palettes[k].at(gain))
            return fig, False
        place = (id(v), pose.x, pose.y, round(pose.facing, 3), round(pose.sit, 3))
        kept = self._still.get(k)
        if kept is None or kept[0] != place:
            kept = (place, {})
            self._still[k] = kept
        step = round(pose.sway / _SWAY_STEP)
        fig = kept[1].get(step)
        if fig is None:
            gain = v.gain_at_floor(pose.x, pose.y)
            still = Pose(  # as dataclasses.replace(pose, sway=...), at a tenth of its cost
                pose.x,
                pose.y,
                pose.facing,
                pose.walking,
                pose.gait_phase,
                pose.sit,
                step * _SWAY_STEP,
                pose.reach,
                pose.ballots,
            )
            fig = Figure.build(v.camera, tr.appearance, still, slot, self._palettes[k].at(gain))
            kept[1][step] = fig
        return fig, True

    # ------------------------------------------------------------------ the recording

    def frames(self, ring: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (frame index, I420 picture) for every frame the file will hold, in order.

        By default every picture is a new array. With `ring`, pictures are written into
        `ring` arrays in turn: a picture stays as yielded until `ring` more different pictures
        have been made (a frozen picture is yielded again as the same array), so a consumer may
        hold up to `ring - 1` of the latest frames. A fresh 0.35 MB array per frame costs
        about as much as adding its noise: the memory comes back from the system every time.
        """
        if ring is not None and ring < 1:
            raise ValueError(f"ring must be at least 1, got {ring}")
        fps = self.plan.fps
        pool: list[np.ndarray] = []
        made = 0  # pictures made (not counting frozen repeats)
        last: np.ndarray | None = None
        blurred = False  # the last picture was blurred: all of it changes
        whole = [(0, 0, self.plan.width, self.plan.height)]
        for i in range(self.n_frames):
            t = i / fps
            t0 = time.process_time()
            conds = self.active(t)
            kinds = {c.kind for c in conds}
            if "outage" in kinds:
                continue
            if "frozen" in kinds and last is not None:
                self.timing["render_s"] += time.process_time() - t0
                yield i, last
                continue
            bgr = self.compose(t, conds)
            canvas = self._canvas
            drawn, changed = canvas.drawn, whole if blurred else canvas.changed
            blurred = False
            for c in conds:
                if c.kind == "defocus":
                    bgr = cv2.GaussianBlur(bgr, (0, 0), float(c.params["sigma"]))
                    drawn = changed = whole
                    blurred = True
            gain = float(self.exposure[i])
            for c in conds:
                if c.kind == "dark":
                    gain *= float(c.params["gain"])
            v = canvas.view
            clean = self._pictures.picture(
                bgr, v, v.static.background, drawn, changed, self.sensor.luts(gain)
            )
            if ring is None:
                out = np.empty_like(clean)
            elif len(pool) < ring:
                out = np.empty_like(clean)
                pool.append(out)
            else:
                out = pool[made % ring]
            made += 1
            yuv = self.sensor.add_noise(clean, out)
            last = yuv
            self.timing["render_s"] += time.process_time() - t0
            yield i, yuv

    def run(self, video_path: Path) -> int:
        """Write the recording; returns the number of video frames written."""
        plan = self.plan
        enc = self.settings.encode
        has_audio = plan.has_audio
        sound = (
            RoomSound(
                plan, (self.look.camera.x, self.look.camera.y, self.look.camera.z), enc.audio_rate
            )
            if has_audio
            else None
        )
        outages = [(c.start_s, c.end_s) for c in plan.conditions if c.kind == "outage"]
        total_samples = int(plan.duration_s * enc.audio_rate)
        with MediaWriter(
            video_path,
            plan.width,
            plan.height,
            plan.fps,
            audio=has_audio,
            settings=enc,
            start_time=plan.start_time,
        ) as out:
            a_pos = 0
            batch = max(1, round(_BATCH_S * plan.fps))
            pictures = self.frames(ring=batch + 1)  # a batch is held, and the last picture
            while True:
                # a second of pictures, then their encoding, then its sound: each stage finds
                # its data still in the caches (about a tenth less CPU than frame by frame)
                second = list(itertools.islice(pictures, batch))
                if not second:
                    break
                t0 = time.process_time()
                for i, yuv in second:
                    out.write_video(yuv, i)
                t1 = time.process_time()
                self.timing["encode_s"] += t1 - t0
                if sound is not None:  # audio a second at a time, up to the last whole second
                    end = min((second[-1][0] + 1) // plan.fps * enc.audio_rate, total_samples)
                    a_pos = self._audio_until(out, sound, a_pos, end, outages)
                    self.timing["audio_s"] += time.process_time() - t1
            if sound is not None:
                t1 = time.process_time()
                self._audio_until(out, sound, a_pos, total_samples, outages)
                self.timing["audio_s"] += time.process_time() - t1
            return out.frames_written

    def _audio_until(
        self,
        out: MediaWriter,
        sound: RoomSound,
        pos: int,
        end: int,
        outages: list[tuple[float, float]],
    ) -> int:
        n = out.audio_frame_size
        sr = self.settings.encode.audio_rate
        blocks = (end - pos) // n
        if blocks <= 0:
            return pos
        samples = sound.render(pos, blocks * n)
        apply_audio_conditions(samples, pos, sr, self.plan.conditions)
        for k in range(blocks):
            start = pos + k * n
            mid = (start + n / 2) / sr
            if any(a <= mid < b for a, b in outages):
                continue
            out.write_audio(samples[k * n : (k + 1) * n], start)
        return pos + blocks * n

    def reference_image(self) -> np.ndarray:
        """The intended view of the empty room (no people, no sabotage), BGR."""
        initial = min(1.0, self.plan.box_initial_ballots / self.plan.box_capacity_ballots)
        return self.compose(0.0, [], people=False, fill=initial, redraw=True).copy()

    def box_polygon(self) -> tuple[tuple[int, int], ...]:
        """The box outline in pixels of the intended view."""
        poly = box_polygon(self.look.camera, self.look.box)
        return tuple((round(x), round(y)) for x, y in poly)


def box_in_view(plan: CameraPlan, t: float) -> float:
    """Fraction (0..1) of the ballot box's outline inside the picture at time `t`.

    Only the camera's turn counts (`view_shifted`); `box_occluded` and the other conditions do
    not. With this room a pan of 25–40° leaves most of the box in view; it leaves the picture
    at about 60–75° of pan or 20° of tilt upwards.
    """
    look = room_look(plan.seed, plan.width, plan.height)
    active = [c for c in plan.conditions if c.start_s <= t < c.end_s]
    cam = look.camera.changed(view_change(active))
    poly = box_polygon(cam, look.box).astype(np.float32)
    if len(poly) < 3:
        return 0.0
    area = cv2.contourArea(poly)
    frame = np.array([[0, 0], [cam.width, 0], [cam.width, cam.height], [0, cam.height]], np.float32)
    inside, _ = cv2.intersectConvexConvex(poly, frame)
    return float(min(max(inside / area, 0.0), 1.0)) if area > 0 else 0.0


def render_camera(
    plan: CameraPlan,
    video_path: Path,
    reference_path: Path | None = None,
    settings: RenderSettings | None = None,
) -> RenderedCamera:
    """Write one camera's recording (MP4, H.264 + AAC) and optionally its reference PNG."""
    renderer = CameraRenderer(plan, settings)
    video_path = Path(video_path)
    video_path.parent.mkdir(parents=True, exist_ok=True)
    ref = None
    if reference_path is not None:
        reference_path = Path(reference_path)
        reference_path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(reference_path), renderer.reference_image()):
            raise OSError(f"{reference_path}: could not write the reference image")
        ref = str(reference_path)
    frames = renderer.run(video_path)
    return RenderedCamera(
        camera_id=plan.camera_id,
        video_path=str(video_path),
        box_polygon=renderer.box_polygon(),
        frames=frames,
        reference_path=ref,
    )
