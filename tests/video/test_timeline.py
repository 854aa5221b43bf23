"""Gap bookkeeping: a demuxer's jump over many bytes marks damage (`Timeline`)."""

from __future__ import annotations

import pytest

from pollwatch.video.timeline import Timeline


def _timeline(byte_positions: bool = True) -> Timeline:
    return Timeline("clip.mp4", 0.04, 0.25, byte_positions=byte_positions)


@pytest.mark.parametrize(
    ("byte_positions", "first", "pos", "skips"),
    [
        (True, None, 10_000, False),  # nothing read yet: no jump to measure
        (True, (0, 1000), 1000, False),  # the next packet right after the last one
        (True, (0, 1000), 1000 + 4096, False),  # a jump of the threshold itself: not damage
        (True, (0, 1000), 1000 + 4097, True),  # further: bytes were skipped
        (True, (0, 1000), None, False),  # no position known
        (True, (0, 1000), -1, False),  # FFmpeg's "unknown position"
        (False, (0, 1000), 100_000, False),  # positions not contiguous (MPEG-TS): never
    ],
)
def test_skips_bytes(byte_positions: bool, first: tuple | None, pos: int | None, skips: bool):
    tl = _timeline(byte_positions)
    if first is not None:
        tl.any_packet_bytes(*first)
    assert tl.skips_bytes(pos) is skips
    tl.any_packet_bytes(pos, 100, 3.0)
    assert tl._marks == ([3.0] if skips else [])  # a skip marks damage at the packet's time


def test_a_skip_without_the_packet_time_is_marked_at_the_last_frame() -> None:
    tl = _timeline()
    tl.any_packet_bytes(0, 1000)
    tl.any_packet_bytes(50_000, 100)
    assert tl._marks == [0.0]  # no frame seen yet: the start


@pytest.mark.parametrize(
    ("byte_positions", "first", "pos", "records"),
    [
        (True, None, 10_000, True),  # nothing read yet: recorded
        (True, (0, 1000), 1000 + 4096, True),  # within the threshold: recorded
        (True, (0, 1000), 1000 + 4097, False),  # beyond a jump: left to any_packet_bytes
        (True, (0, 1000), None, True),  # no position known: nothing to record
        (True, (0, 1000), -1, True),
        (False, (0, 1000), 100_000, True),  # positions not contiguous: never a jump
    ],
)
def test_packet_bytes_is_any_packet_bytes_without_a_time(
    byte_positions: bool, first: tuple | None, pos: int | None, records: bool
) -> None:
    """`packet_bytes` records what `any_packet_bytes` would, except a packet beyond a jump,
    which it leaves (False) for `any_packet_bytes` with the packet's time."""
    fast, slow = _timeline(byte_positions), _timeline(byte_positions)
    for tl in (fast, slow):
        if first is not None:
            tl.any_packet_bytes(*first)
    assert fast.packet_bytes(pos, 100) is records
    if not records:
        assert fast._end_byte == 1000 and not fast._marks  # nothing recorded yet
        fast.any_packet_bytes(pos, 100, 3.0)
    slow.any_packet_bytes(pos, 100, 3.0)
    assert (fast._end_byte, fast._marks) == (slow._end_byte, slow._marks)
