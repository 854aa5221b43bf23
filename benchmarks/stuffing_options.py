"""What changing the stuffing detector's options does on analysed cases; prints JSON.

Per camera of each case, the detector is run on its stored tables (`stuffing.stored`, as the
case step reads them; no decoding) with the default `DetectOptions` and with the fields given
by `--set NAME=VALUE` (floats, ints or booleans as the field's default is); the cameras whose
drop episodes or flagged events differ are listed with both sides' flagged events (start,
end, ballots, p-value, extra ballots' bounds) and the episodes only one side has. Reads no
truth: the lead's scoring runs `pollwatch evaluate`.

    PYTHONPATH=src python benchmarks/stuffing_options.py --set pause_s=0 CASE [CASE ...]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from typing import Any

from pollwatch.case import CasePaths
from pollwatch.store import NotFoundError, Store
from pollwatch.stuffing.detect import DetectOptions, Event
from pollwatch.stuffing.step import stored_events
from pollwatch.stuffing.stored import camera_data

EPISODE_KINDS = ("hands", "bundle")


def options(settings: list[str]) -> DetectOptions:
    """`DetectOptions` with each NAME=VALUE of `settings`, typed as the field's default."""
    defaults = DetectOptions()
    known = {f.name for f in fields(DetectOptions)}
    values: dict[str, Any] = {}
    for item in settings:
        name, _, text = item.partition("=")
        if name not in known:
            raise SystemExit(f"no DetectOptions field {name!r}")
        kind = type(getattr(defaults, name))
        values[name] = text.lower() in ("1", "true", "yes") if kind is bool else kind(text)
    return DetectOptions(**values)


def _flagged(events: list[Event]) -> list[list[Any]]:
    return [
        [round(e.start_s, 2), round(e.end_s, 2), e.ballots, e.p_value, e.extra_lower, e.extra_upper]
        for e in events
        if e.flagged
    ]


def _episodes(events: list[Event]) -> set[tuple[float, float, int]]:
    return {
        (round(e.start_s, 2), round(e.end_s, 2), e.ballots)
        for e in events
        if e.kind in EPISODE_KINDS
    }


def case_changes(case: str, other: DetectOptions) -> tuple[int, list[dict[str, Any]]]:
    """The cameras read and those whose episodes or flagged events change."""
    rows, cameras = [], 0
    with Store.existing(CasePaths.of(case).db_path) as store:
        for cam in store.camera_records():
            try:
                data = camera_data(store, cam)
            except NotFoundError:
                continue
            cameras += 1
            base, changed = stored_events(data), stored_events(data, other)
            eb, ec = _episodes(base), _episodes(changed)
            if eb != ec or _flagged(base) != _flagged(changed):
                rows.append(
                    {
                        "case": case,
                        "camera_id": cam.camera_id,
                        "flagged_default": _flagged(base),
                        "flagged_set": _flagged(changed),
                        "episodes_default_only": sorted(eb - ec),
                        "episodes_set_only": sorted(ec - eb),
                    }
                )
    return cameras, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="+")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    other = options(args.set)
    cameras, changes = 0, []
    for case in args.cases:
        n, rows = case_changes(case, other)
        cameras += n
        changes += rows
    print(json.dumps({"set": args.set, "cameras": cameras, "changed": changes}, indent=1))


if __name__ == "__main__":
    main()
