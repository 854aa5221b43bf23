"""What the pipeline's per-camera video step costs, by part, against the same recording's
bare video decode; prints JSON.

On one camera of an analysed case (the step stores its results again, so use a copy), in
one process (one decoder thread, cv2 on one thread): the bare decode of the video stream,
then `video_step` once, its CPU (thread time) split into exclusive parts:

- `keyframe medians`: `KeyframeReader.background` (the first minutes' view and, for the
  zone where the first minutes give no confident fit, the whole recording's);
- `box zone`, `box views`: `resolve_box_zone` and `counting.views.box_views`, less the
  medians they ask for;
- `set-up <part>` / `save <part>`: each video part's factory and `save`;
- one entry per analyser class (its `update`, `on_audio` and `result` calls);
- `engine video packets` / `engine other packets`: the engine's handling of each video
  packet (its decoding, the frame handed over) and of each other packet (audio decoded when
  wanted), less the analysers' calls;
- `engine rest`: the rest of `analyse_video` (opening, demuxing, the end of the run);
- `rest`: the step less all the above;
- `of which garbage collection`: the collector's time, inside the parts above.

Each is given as a ratio to the bare decode (`decode_s`: the faster of one before and one
after the step); `total` is the whole step. Run
once per call: at high load single figures scatter by ±0.1–0.3; report `load`.

    PYTHONPATH=src python benchmarks/camera_step.py CASE CAMERA_ID
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import time
from collections.abc import Callable
from typing import Any

import av
import cv2

import pollwatch.counting.boxzone as boxzone_mod
import pollwatch.counting.views as views_mod
import pollwatch.videostep as videostep
from pollwatch.case import CasePaths
from pollwatch.store import Store
from pollwatch.video import engine as engine_mod
from pollwatch.video.keyframes import KeyframeReader


class _Clock:
    """Exclusive thread time per label: a call inside another is taken off its caller."""

    def __init__(self) -> None:
        self.spent: collections.Counter[str] = collections.Counter()
        self._stack: list[str] = []

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append(label)
            t0 = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.thread_time() - t0
                self._stack.pop()
                self.spent[label] += spent
                if self._stack:
                    self.spent[self._stack[-1]] -= spent

        return timed


class _TimedPart:
    """A video part whose analysers' calls and `save` are timed."""

    def __init__(self, name: str, part: Any, clock: _Clock) -> None:
        self.analysers = part.analysers
        for a in self.analysers:
            tag = type(a).__name__
            for method in ("update", "on_audio", "result"):
                setattr(a, method, clock.wrap(tag, getattr(a, method)))
        self.save = clock.wrap(f"save {name}", part.save)


class _TimedParts:
    """Stands for `VIDEO_PARTS` in the step: each factory's call timed, its part wrapped."""

    def __init__(self, registry: Any, clock: _Clock) -> None:
        self._registry, self._clock = registry, clock

    def items(self) -> list[tuple[str, Callable[..., Any]]]:
        def timed(name: str, factory: Callable[..., Any]) -> Callable[..., Any]:
            def make(ctx: Any) -> Any:
                part = self._clock.wrap(f"set-up {name}", factory)(ctx)
                return None if part is None else _TimedPart(name, part, self._clock)

            return make

        return [(name, timed(name, f)) for name, f in self._registry.items()]


class _Collections:
    """Thread time spent in the garbage collector (inside the parts above)."""

    def __init__(self) -> None:
        self.spent, self._t0 = 0.0, 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.thread_time()
        else:
            self.spent += time.thread_time() - self._t0


def _decode_s(path: str) -> float:
    t0 = time.thread_time()
    with av.open(path) as container:
        vs = container.streams.video[0]
        vs.codec_context.thread_count = 1
        for _ in container.decode(vs):
            pass
    return time.thread_time() - t0


def camera_step(case: str, camera_id: str) -> dict[str, Any]:
    """The step's CPU by part on `camera_id` of the analysed case at `case`, in units of
    its bare video decode."""
    paths = CasePaths.of(case)
    clock = _Clock()
    patches = [
        (KeyframeReader, "background", "keyframe medians"),
        (boxzone_mod, "resolve_box_zone", "box zone"),
        (views_mod, "box_views", "box views"),
        (videostep, "analyse_video", "engine rest"),
        (engine_mod._Pass, "_video", "engine video packets"),
        (engine_mod._Pass, "_other", "engine other packets"),
    ]
    originals = [(obj, attr, getattr(obj, attr)) for obj, attr, _ in patches]
    for obj, attr, label in patches:
        setattr(obj, attr, clock.wrap(label, getattr(obj, attr)))
    registry = videostep.VIDEO_PARTS
    registry.names()  # the parts' modules imported before the clock
    videostep.VIDEO_PARTS = _TimedParts(registry, clock)  # type: ignore[assignment]
    try:
        with Store(paths.db_path) as store:
            cameras = {c.camera_id: c for c in store.camera_records()}
            if camera_id not in cameras:
                raise SystemExit(f"{paths.db_path}: no camera {camera_id!r}")
            camera = cameras[camera_id]
            source = str(camera.source_path(paths.root))
            decodes = [_decode_s(source)]
            step = clock.wrap("rest", videostep.video_step)
            collections_ = _Collections()
            gc.callbacks.append(collections_)
            t0 = time.thread_time()
            step(camera, paths, store)
            total = time.thread_time() - t0
            gc.callbacks.remove(collections_)
            decodes.append(_decode_s(source))
    finally:
        videostep.VIDEO_PARTS = registry
        for obj, attr, fn in originals:
            setattr(obj, attr, fn)
    decode = min(decodes)
    parts = {k: round(v / decode, 3) for k, v in sorted(clock.spent.items(), key=lambda kv: -kv[1])}
    return {
        "case": case,
        "camera": camera_id,
        "decode_s": round(decode, 3),
        "decode_before_after_s": [round(d, 3) for d in decodes],
        "total": round(total / decode, 3),
        "parts": parts,
        "of which garbage collection": round(collections_.spent / decode, 3),
        "load": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", help="an analysed case folder (a copy: results are stored again)")
    parser.add_argument("camera_id")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print(json.dumps(camera_step(args.case, args.camera_id), indent=1))


if __name__ == "__main__":
    main()
