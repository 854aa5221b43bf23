"""Ingest rejects bad input with a problem naming file, line and column; warnings are kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from casefactory import SMALL, replace_in
from pollwatch.case import CasePaths
from pollwatch.errors import InputError, InputProblem
from pollwatch.ingest import ingest_case, read_case

C1_POLY = "[[20, 20], [44, 20], [44, 40], [20, 40]]"

# (file to edit, old text, new text) → (file, line, column, message fragment) of one problem.
BAD = [
    # election.toml
    ("election.toml", 'candidates = ["Alpha", "Beta", "Gamma"]\n', "",
     ("election.toml", None, "candidates", "required key is missing")),
    ("election.toml", "polls_close = 2024-02-07T20:00", "polls_close = 2024-02-07T06:00",
     ("election.toml", 3, "polls_close", "must be after polls_open")),
    ("election.toml", "polls_open = 2024-02-07T08:00:00+04:00", "polls_open = 2024-02-07T08:00:00",
     ("election.toml", 2, "polls_open", "no UTC offset")),
    ("election.toml", 'name = "Test election 2024"', 'name = "Test',
     ("election.toml", None, None, "is not valid TOML")),
    ("election.toml", "  2024-02-07T12:00:00+04:00,", "  2024-02-07T21:00:00+04:00,",
     ("election.toml", 4, "checkpoints", "is not after the one before")),
    ("election.toml", '"Beta", "Gamma"]', '"Beta", "Beta"]',
     ("election.toml", 10, "candidates", "names appear more than once: Beta")),
    ("election.toml", "time_scale = 3600.0", "time_scale = -1",
     ("election.toml", 11, "time_scale", "must be positive")),
    ("election.toml", "time_scale = 3600.0", "timescale = 2",
     ("election.toml", 11, "timescale", "unknown key")),
    # stations.csv
    ("stations.csv", "registered,has_camera", "reg,has_camera",
     ("stations.csv", 1, "registered", "required column is missing")),
    ("stations.csv", "49.87,1000,true", "49.87,lots,true",
     ("stations.csv", 2, "registered", "'lots' is not a whole number")),
    ("stations.csv", "49.88,800,true", "49.88,-800,true",
     ("stations.csv", 3, "registered", "-800 is negative")),
    ("stations.csv", "40.41,49.87", "140.41,49.87",
     ("stations.csv", 2, "lat", "outside [-90, 90]")),
    ("stations.csv", "1000,true", "1000,maybe",
     ("stations.csv", 2, "has_camera", "'maybe' is not true or false")),
    ("stations.csv", "S4,South", "S3,South",
     ("stations.csv", 5, "station_id", "duplicate station_id S3 (first on line 4)")),
    ("stations.csv", "S3,South,S-1,Library,", "S3,South,S-1 Library,",
     ("stations.csv", 4, None, "has 7 fields, the header has 8")),
    ("stations.csv", "S1,North", ",North",
     ("stations.csv", 2, "station_id", "is empty")),
    # results.csv
    ("results.csv", "S4,500,300", "S9,500,300",
     ("results.csv", 5, "station_id", "unknown station 'S9'")),
    ("results.csv", "S1,1000,610", "S1,999,610",
     ("results.csv", 2, "registered", "differs from stations.csv's 1000 (line 2)")),
    ("results.csv", "S1,1000,610,600,10,300", "S1,1000,610,600,10,301",
     ("results.csv", 2, "ballots_cast", "ballots_cast 600 ≠ invalid 10 + candidates' votes 591")),
    ("results.csv", ",Gamma\n", ",Delta\n",
     ("results.csv", 1, "Delta", "not a candidate of election.toml")),
    ("results.csv", ",Gamma\n", ",Delta\n",
     ("results.csv", 1, "Gamma", "candidate of election.toml has no column")),
    ("results.csv", "S2,800,505,500,10,250", "S2,800,505,500,10,2.5e2",
     ("results.csv", 3, "Alpha", "'2.5e2' is not a whole number")),
    ("results.csv", "S3,1200", "S2,1200",
     ("results.csv", 4, "station_id", "duplicate station_id S2 (first on line 3)")),
    # turnout.csv
    ("turnout.csv", "S1,2024-02-07T10:00:00+04:00", "S1,yesterday",
     ("turnout.csv", 2, "time", "'yesterday' is not an ISO 8601 time")),
    ("turnout.csv", "S1,2024-02-07T10:00:00+04:00", "S1,2024-02-07T10:00:00",
     ("turnout.csv", 2, "time", "has no UTC offset")),
    ("turnout.csv", "S1,2024-02-07T10:00:00+04:00", "S1,2024-02-07T07:00:00+04:00",
     ("turnout.csv", 2, "time", "is outside the polls")),
    ("turnout.csv", "S4,2024-02-07T10:00:00+04:00", "S7,2024-02-07T10:00:00+04:00",
     ("turnout.csv", 14, "station_id", "unknown station 'S7'")),
    ("turnout.csv", "S1,2024-02-07T12:00:00+04:00", "S1,2024-02-07T10:00:00+04:00",
     ("turnout.csv", 3, "time", "duplicate checkpoint S1 2024-02-07T10:00:00+04:00")),
    ("turnout.csv", "00+04:00,420", "00+04:00,4 20",
     ("turnout.csv", 4, "voters_cumulative", "'4 20' is not a whole number")),
    # cameras.csv
    ("cameras.csv", "C2,S2", "C2,S9",
     ("cameras.csv", 3, "station_id", "unknown station 'S9'")),
    ("cameras.csv", "C2,S2", "C1,S2",
     ("cameras.csv", 3, "camera_id", "duplicate camera_id C1 (first on line 2)")),
    ("cameras.csv", "video/C2.mp4", "video/C3.mp4",
     ("cameras.csv", 3, "source", "C3.mp4: file is missing")),
    ("cameras.csv", "video/C2.mp4", "election.toml",
     ("cameras.csv", 3, "source", "election.toml: cannot be opened as a video")),
    ("cameras.csv", "video/C2.mp4", "refs/C1.png",
     ("cameras.csv", 3, "source", "C1.png: duration unknown")),
    ("cameras.csv", "video/C2.mp4", "/tmp/C2.mp4",
     ("cameras.csv", 3, "source", "must be a path relative to the case folder")),
    ("cameras.csv", "video/C2.mp4", "../C2.mp4",
     ("cameras.csv", 3, "source", "leads outside the case folder")),
    ("cameras.csv", "C2.mp4,2024-02-07T08:00:00+04:00", "C2.mp4,2024-02-07T08:00:00",
     ("cameras.csv", 3, "start_time", "has no UTC offset")),
    ("cameras.csv", C1_POLY, "[[0, 0], [10, 10], [20, 20]]",
     ("cameras.csv", 2, "box_polygon", "encloses no area")),
    ("cameras.csv", C1_POLY, "[[0, 0], [10, 10]]",
     ("cameras.csv", 2, "box_polygon", "needs at least 3 points, has 2")),
    ("cameras.csv", C1_POLY, "[[0, 0], [10, 10], [20",
     ("cameras.csv", 2, "box_polygon", "is not JSON")),
    ("cameras.csv", C1_POLY, "[[0, 0], [10, 10], [20, true]]",
     ("cameras.csv", 2, "box_polygon", "point 3 is not an [x, y] pair")),
    ("cameras.csv", C1_POLY, "[[20, 20], [44, 40], [44, 20], [20, 40]]",
     ("cameras.csv", 2, "box_polygon", "edges 1 and 3 cross each other")),
    ("cameras.csv", C1_POLY, "[[20, 20], [440, 20], [44, 40]]",
     ("cameras.csv", 2, "box_polygon", "point [440, 20] is outside the 64×48 frame")),
    ("cameras.csv", "refs/C1.png", "refs/C9.png",
     ("cameras.csv", 2, "reference_image", "C9.png: file is missing")),
    ("cameras.csv", "refs/C1.png", "video/C1.mp4",
     ("cameras.csv", 2, "reference_image", "C1.mp4: must be a PNG or JPEG image")),
]  # fmt: skip


def _ids(case: tuple) -> str:
    file, _old, _new, (_f, line, column, _msg) = case
    return f"{file}:{line}:{column}"


@pytest.mark.parametrize("case", BAD, ids=[_ids(c) for c in BAD])
def test_bad_input_is_located(small_case: CasePaths, case: tuple) -> None:
    file, old, new, (want_file, line, column, fragment) = case
    replace_in(small_case.root, file, old, new)
    with pytest.raises(InputError) as info:
        read_case(small_case.root)
    found = [
        p
        for p in info.value.problems
        if (p.file, p.line, p.column) == (want_file, line, column) and fragment in p.message
    ]
    assert found, f"no {want_file}:{line}:{column} '{fragment}' in:\n{info.value}"


@pytest.mark.parametrize(
    ("remove", "fragment"),
    [
        ("election.toml", "election.toml: file is missing"),
        ("stations.csv", "stations.csv: file is missing"),
        ("results.csv", "results.csv: file is missing"),
        ("turnout.csv", "turnout.csv: file is missing"),
        ("cameras.csv", "cameras.csv: file is missing"),
    ],
)
def test_missing_file(small_case: CasePaths, remove: str, fragment: str) -> None:
    (small_case.root / remove).unlink()
    with pytest.raises(InputError, match=fragment):
        read_case(small_case.root)


def test_unreadable_video_is_an_error(small_case: CasePaths) -> None:
    (small_case.video_dir / "C2.mp4").write_bytes(b"\x00not a video" * 100)
    with pytest.raises(InputError) as info:
        read_case(small_case.root)
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.column) == ("cameras.csv", 3, "source")
    assert "C2.mp4: cannot be opened as a video" in problem.message


def test_audio_only_source_is_an_error(small_case: CasePaths) -> None:
    import av
    import numpy as np

    with av.open(str(small_case.video_dir / "sound.wav"), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        silence = np.zeros((1, 800), np.int16)
        frame = av.AudioFrame.from_ndarray(silence, format="s16", layout="mono")
        frame.sample_rate = 8000
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    replace_in(small_case.root, "cameras.csv", "video/C2.mp4", "video/sound.wav")
    with pytest.raises(InputError, match=r"line 3, column 'source': sound\.wav: has no video"):
        read_case(small_case.root)


def test_every_problem_of_every_file_is_reported(small_case: CasePaths) -> None:
    root = small_case.root
    replace_in(root, "stations.csv", "49.87,1000", "49.87,x")
    replace_in(root, "stations.csv", "49.88,800,true", "49.88,800,perhaps")
    replace_in(root, "turnout.csv", "00+04:00,100", "00+04:00,-1")
    replace_in(root, "turnout.csv", "00+04:00,80", "00+04:00,eighty")
    replace_in(root, "cameras.csv", "video/C2.mp4", "video/none.mp4")
    with pytest.raises(InputError) as info:
        read_case(root)
    where = {(p.file, p.line, p.column) for p in info.value.problems}
    assert where == {
        ("stations.csv", 2, "registered"),
        ("stations.csv", 3, "has_camera"),
        ("turnout.csv", 2, "voters_cumulative"),
        ("turnout.csv", 6, "voters_cumulative"),
        ("cameras.csv", 3, "source"),
    }
    assert str(info.value).count("\n") == 4


# (file, old, new) → (file, line, column, fragment) of a warning; ingest still succeeds.
WARN = [
    ("results.csv", "S1,1000,610,600", "S1,1000,590,600",
     ("results.csv", 2, "ballots_cast", "more ballots cast (600) than issued (590)")),
    ("results.csv", "S4,500,300,300", "S4,500,600,300",
     ("results.csv", 5, "ballots_issued", "more ballots issued (600) than voters registered")),
    ("results.csv", "S4,500,300,300,10,150,100,40\n", "",
     ("results.csv", None, None, "station 'S4' (stations.csv line 5) has no results")),
    ("results.csv",
     "Alpha,Beta,Gamma\nS1,1000,610,600,10,300,200,90\nS2,800,505,500,10,250,150,90\n"
     "S3,1200,700,700,10,350,250,90\nS4,500,300,300,10,150,100,40\n",
     "Beta,Alpha,Gamma\nS1,1000,610,600,10,200,300,90\nS2,800,505,500,10,150,250,90\n"
     "S3,1200,700,700,10,250,350,90\nS4,500,300,300,10,100,150,40\n",
     ("results.csv", 1, None, "not in election.toml's order")),
    ("turnout.csv", "00+04:00,420", "00+04:00,240",
     ("turnout.csv", 4, "voters_cumulative", "240 voters is fewer than the 250 reported earlier")),
    ("turnout.csv", "S4,2024-02-07T20:00:00+04:00,300", "S4,2024-02-07T20:00:00+04:00,600",
     ("turnout.csv", 17, "voters_cumulative", "600 voters is more than the 500 registered")),
    ("turnout.csv", "S1,2024-02-07T12:00:00+04:00", "S1,2024-02-07T12:30:00+04:00",
     ("turnout.csv", 3, "time", "is not a checkpoint of election.toml")),
    ("cameras.csv", "C2,S2,video/C2.mp4,2024-02-07T08:00:00+04:00,,\n", "",
     ("cameras.csv", None, None, "'S2' (stations.csv line 3)")),
    ("cameras.csv", "C2,S2,video/C2.mp4,2024-02-07T08:00:00+04:00,,\n", "",
     ("cameras.csv", None, None, "video/C2.mp4 is not the source of any camera")),
    ("cameras.csv", "C2,S2,video/C2.mp4", "C2,S3,video/C2.mp4",
     ("cameras.csv", 3, "station_id", "station 'S3' has has_camera = false")),
    ("cameras.csv", "C2,S2,video/C2.mp4", "C2,S2,video/C1.mp4",
     ("cameras.csv", 3, "source", "same source as line 2")),
    ("cameras.csv", "C2.mp4,2024-02-07T08:00:00+04:00", "C2.mp4,2024-02-08T08:00:00+04:00",
     ("cameras.csv", 3, "start_time", "does not overlap the polls")),
    ("stations.csv", "has_camera\n", "has_camera,notes\n",
     ("stations.csv", 1, "notes", "unknown column, ignored")),
]  # fmt: skip


@pytest.mark.parametrize("case", WARN, ids=[_ids(c) for c in WARN])
def test_implausible_but_readable_input_is_a_warning(small_case: CasePaths, case: tuple) -> None:
    file, old, new, (want_file, line, column, fragment) = case
    if column == "notes":  # an extra column needs a value on every row
        for sid in SMALL.stations:
            text = (small_case.root / file).read_text()
            start = text.index(f"\n{sid},") + 1
            end = text.index("\n", start)
            (small_case.root / file).write_text(text[:end] + ",x" + text[end:])
    replace_in(small_case.root, file, old, new)
    inputs = read_case(small_case.root)
    want = [
        w
        for w in inputs.warnings
        if (w.file, w.line, w.column) == (want_file, line, column) and fragment in w.message
    ]
    assert want, f"no warning {want_file}:{line}:{column} '{fragment}' in {inputs.warnings}"


def test_url_sources_are_recorded_not_probed(small_case: CasePaths) -> None:
    replace_in(small_case.root, "cameras.csv", "video/C2.mp4", "rtsp://10.0.0.7/stream1")
    inputs = read_case(small_case.root)
    cams = inputs.cameras.set_index("camera_id")
    assert cams.loc["C2", "source"] == "rtsp://10.0.0.7/stream1"
    assert cams["duration_s"].isna().tolist() == [False, True]
    assert cams.loc["C1", "duration_s"] == pytest.approx(SMALL.video_seconds)


def test_the_small_case_is_clean(small_case: CasePaths) -> None:
    inputs = read_case(small_case.root)
    assert inputs.warnings == ()
    assert inputs.stations["station_id"].tolist() == list(SMALL.stations)
    totals = inputs.votes.groupby("candidate", sort=False)["votes"].sum()
    assert totals.tolist() == list(SMALL.votes)
    assert inputs.cameras["has_audio"].tolist() == [True, False]


def test_cli_prints_every_problem(small_case: CasePaths) -> None:
    from typer.testing import CliRunner

    from pollwatch.cli import app

    replace_in(small_case.root, "stations.csv", "49.87,1000", "49.87,x")
    replace_in(small_case.root, "turnout.csv", "00+04:00,80", "00+04:00,eighty")
    result = CliRunner().invoke(app, ["ingest", str(small_case.root)])
    assert result.exit_code == 2
    out = " ".join(result.output.split())  # rich wraps long lines
    assert "stations.csv, line 2, column 'registered': 'x' is not a whole number" in out
    assert "turnout.csv, line 6, column 'voters_cumulative'" in out


def test_missing_case_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="case folder does not exist"):
        ingest_case(tmp_path / "nowhere")


def test_problem_formatting() -> None:
    p = InputProblem("cameras.csv", "bad", line=3, column="source")
    assert str(p) == "cameras.csv, line 3, column 'source': bad"
