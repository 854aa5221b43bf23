"""`Detections`: the one container that flows through the video pipeline.

N rows of numpy arrays, like supervision's `Detections`: `xyxy` boxes (float32, pixels of the
frame they were found in), `confidence` (float32), `class_id` (int32), an optional `tracker_id`
(int64, -1 for "not yet confirmed") and optional per-row `data` arrays (embeddings, ...).
Frozen and read-only: change it with `dataclasses.replace` or the helpers, never in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import supervision as sv

__all__ = ["PERSON", "Detections"]

PERSON = 0  # the class id of a person (COCO order, as YOLO models use)


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Detections:
    """N detections as parallel numpy arrays; see the module docstring."""

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    tracker_id: np.ndarray | None = None
    data: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32)
        if xyxy.ndim != 2 or xyxy.shape[1] != 4:
            raise ValueError(f"xyxy must have shape (N, 4), got {xyxy.shape}")
        n = xyxy.shape[0]
        if not np.all(np.isfinite(xyxy)):
            raise ValueError("xyxy must be finite")
        if n and (np.any(xyxy[:, 2] < xyxy[:, 0]) or np.any(xyxy[:, 3] < xyxy[:, 1])):
            raise ValueError("xyxy must have x2 >= x1 and y2 >= y1 in every row")
        conf = np.asarray(self.confidence, dtype=np.float32)
        if conf.shape != (n,):
            raise ValueError(f"confidence must have shape ({n},), got {conf.shape}")
        if n and (np.any(conf < 0) or np.any(conf > 1) or not np.all(np.isfinite(conf))):
            raise ValueError("confidence must lie in [0, 1]")
        cls = np.asarray(self.class_id)
        if cls.shape != (n,):
            raise ValueError(f"class_id must have shape ({n},), got {cls.shape}")
        if n and not np.issubdtype(cls.dtype, np.integer):
            raise ValueError(f"class_id must be integers, got dtype {cls.dtype}")
        object.__setattr__(self, "xyxy", _frozen(xyxy))
        object.__setattr__(self, "confidence", _frozen(conf))
        object.__setattr__(self, "class_id", _frozen(cls.astype(np.int32)))
        if self.tracker_id is not None:
            tid = np.asarray(self.tracker_id)
            if tid.shape != (n,):
                raise ValueError(f"tracker_id must have shape ({n},), got {tid.shape}")
            if n and not np.issubdtype(tid.dtype, np.integer):
                raise ValueError(f"tracker_id must be integers, got dtype {tid.dtype}")
            object.__setattr__(self, "tracker_id", _frozen(tid.astype(np.int64)))
        data = {}
        for key, value in dict(self.data).items():
            arr = np.asarray(value)
            if arr.ndim == 0 or arr.shape[0] != n:
                raise ValueError(f"data[{key!r}] must have {n} rows, got shape {arr.shape}")
            data[key] = _frozen(arr)
        object.__setattr__(self, "data", MappingProxyType(data))

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def empty(cls, *, tracked: bool = False) -> Detections:
        """No detections (with an empty `tracker_id` when `tracked`)."""
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros(0, np.float32),
            class_id=np.zeros(0, np.int32),
            tracker_id=np.zeros(0, np.int64) if tracked else None,
        )

    @classmethod
    def from_xyxy(
        cls,
        xyxy: Sequence[Sequence[float]] | np.ndarray,
        confidence: Sequence[float] | np.ndarray | float = 1.0,
        class_id: Sequence[int] | np.ndarray | int = PERSON,
    ) -> Detections:
        """Boxes as (x1, y1, x2, y2) rows; a scalar confidence or class applies to every row."""
        boxes = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
        n = boxes.shape[0]
        conf = np.broadcast_to(np.asarray(confidence, np.float32), (n,))
        cls_ = np.broadcast_to(np.asarray(class_id, np.int32), (n,))
        return cls(xyxy=boxes, confidence=conf, class_id=cls_)

    @classmethod
    def from_xywh(
        cls,
        xywh: Sequence[Sequence[float]] | np.ndarray,
        confidence: Sequence[float] | np.ndarray | float = 1.0,
        class_id: Sequence[int] | np.ndarray | int = PERSON,
    ) -> Detections:
        """Boxes as (x, y, width, height) rows, as OpenCV's `boundingRect` gives them."""
        boxes = np.asarray(xywh, dtype=np.float32).reshape(-1, 4).copy()
        boxes[:, 2:] += boxes[:, :2]
        return cls.from_xyxy(boxes, confidence, class_id)

    @classmethod
    def from_supervision(cls, detections: sv.Detections) -> Detections:
        """Convert a `supervision.Detections` (the tracker adapter's boundary)."""
        n = len(detections)
        conf = detections.confidence
        cls_ = detections.class_id
        return cls(
            xyxy=np.asarray(detections.xyxy, np.float32).reshape(n, 4),
            confidence=np.ones(n, np.float32) if conf is None else conf,
            class_id=np.full(n, PERSON, np.int32) if cls_ is None else cls_,
            tracker_id=detections.tracker_id,
            data={k: np.asarray(v) for k, v in detections.data.items()},
        )

    def to_supervision(self) -> sv.Detections:
        """Convert to a `supervision.Detections` (writable copies)."""
        import supervision as sv

        return sv.Detections(
            xyxy=self.xyxy.copy(),
            confidence=self.confidence.copy(),
            class_id=self.class_id.copy(),
            tracker_id=None if self.tracker_id is None else self.tracker_id.copy(),
            data={k: v.copy() for k, v in self.data.items()},
        )

    @classmethod
    def merge(cls, items: Iterable[Detections]) -> Detections:
        """Concatenate detections; all must agree on having `tracker_id` and on `data` keys."""
        items = [d for d in items]
        if not items:
            return cls.empty()
        tracked = {d.tracker_id is not None for d in items}
        if len(tracked) > 1:
            raise ValueError("merge: some detections have tracker_id and some do not")
        keys = {tuple(sorted(d.data)) for d in items}
        if len(keys) > 1:
            raise ValueError(f"merge: detections have different data keys {sorted(keys)}")
        return cls(
            xyxy=np.concatenate([d.xyxy for d in items]),
            confidence=np.concatenate([d.confidence for d in items]),
            class_id=np.concatenate([d.class_id for d in items]),
            tracker_id=(
                np.concatenate([d.tracker_id for d in items])  # type: ignore[misc]
                if tracked == {True}
                else None
            ),
            data={k: np.concatenate([d.data[k] for d in items]) for k in items[0].data},
        )

    # -- access -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: Any) -> Detections:
        """Rows by boolean mask, integer array, slice or single integer (kept as one row)."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        if isinstance(index, np.ndarray) and index.dtype == bool and index.shape != (len(self),):
            raise IndexError(f"boolean mask of shape {index.shape} for {len(self)} detections")
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            tracker_id=None if self.tracker_id is None else self.tracker_id[index],
            data={k: v[index] for k, v in self.data.items()},
        )

    @property
    def width(self) -> np.ndarray:
        return self.xyxy[:, 2] - self.xyxy[:, 0]

    @property
    def height(self) -> np.ndarray:
        return self.xyxy[:, 3] - self.xyxy[:, 1]

    @property
    def area(self) -> np.ndarray:
        return self.width * self.height

    @property
    def centers(self) -> np.ndarray:
        """(N, 2) box centres."""
        return np.stack([self.xyxy[:, [0, 2]].mean(1), self.xyxy[:, [1, 3]].mean(1)], axis=1)

    @property
    def foot_points(self) -> np.ndarray:
        """(N, 2) bottom centres of the boxes: where a standing person touches the floor."""
        return np.stack([self.xyxy[:, [0, 2]].mean(1), self.xyxy[:, 3]], axis=1)

    def scaled(self, factor: float) -> Detections:
        """The same detections with boxes multiplied by `factor` (to another resolution)."""
        if not factor > 0:
            raise ValueError(f"factor must be positive, got {factor}")
        return replace(self, xyxy=self.xyxy * np.float32(factor))

    def with_tracker_id(self, tracker_id: Sequence[int] | np.ndarray) -> Detections:
        """The same detections with `tracker_id` set."""
        return replace(self, tracker_id=np.asarray(tracker_id, np.int64))

    def __repr__(self) -> str:
        tracked = "" if self.tracker_id is None else ", tracked"
        return f"Detections(n={len(self)}{tracked}, data={sorted(self.data)})"
