"""Reading results files: the CEC layout, mappings, malformed rows."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from pollwatch.errors import InputError
from pollwatch.forensics import CEC_RUSSIA, ColumnMapping, check_results, load_mapping, read_results

# The first protocol columns of the 2012 CEC table (shared/data/russia/2012.csv.zip), with
# two of its candidates.
CEC_HEADER = [
    "region",
    "tik",
    "uik",
    "Число избирателей, включенных в список избирателей",
    "Число избирательных бюллетеней, полученных участковой избирательной комиссией",
    "Число избирательных бюллетеней, выданных избирателям, проголосовавшим досрочно",
    "Число избирательных бюллетеней, выданных в помещении для голосования в день голосования",
    "Число избирательных бюллетеней, выданных вне помещения для голосования в день голосования",
    "Число погашенных избирательных бюллетеней",
    "Число недействительных избирательных бюллетеней",
    "Число действительных избирательных бюллетеней",
    "Зюганов Геннадий Андреевич",
    "Путин Владимир Владимирович",
    "url",
]


def _cec(tmp_path: Path, rows: list[list[object]], name: str = "cec.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows, columns=CEC_HEADER).to_csv(path, index=False)
    return path


ROWS = [
    ["Область", "1 ТИК", 1, 2000, 2100, 10, 1100, 90, 900, 20, 1180, 380, 800, "http://x"],
    ["Область", "1 ТИК", 2, 1500, 1600, 0, 700, 0, 900, 10, 690, 290, 400, "http://x"],
    ["Край", "2 ТИК", 1, 1000, 1000, 0, 600, 0, 400, 0, 600, 100, 500, "http://x"],
]


def test_cec_layout_is_recognised(tmp_path: Path) -> None:
    t = read_results(_cec(tmp_path, ROWS))
    assert t.layout == CEC_RUSSIA.name
    assert t.candidates == ("Зюганов Геннадий Андреевич", "Путин Владимир Владимирович")
    f = t.frame
    # ballots issued = early + in the station + outside (three columns)
    assert list(f["ballots_issued"]) == [1200, 700, 600]
    # ballots cast = valid + invalid
    assert list(f["ballots_cast"]) == [1200, 700, 600]
    assert list(f["registered"]) == [2000, 1500, 1000]
    assert f["station_id"][0] == "Область / 1 ТИК / 1"
    assert list(f["region"]) == ["Область", "Область", "Край"]


def test_zip_with_one_csv(tmp_path: Path) -> None:
    csv = _cec(tmp_path, ROWS)
    archive = tmp_path / "results.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(csv, "2012.csv")
    assert len(read_results(archive).frame) == 3
    with zipfile.ZipFile(archive, "a") as z:
        z.write(csv, "other.csv")
    with pytest.raises(InputError, match="one CSV"):
        read_results(archive)


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (3, 3, "negative count"),
        (5, 3, "not a number"),
        (3, 12, "not a whole number"),
        (None, 12, "votes above ballots"),
        (None, 3, "no registered voter"),
    ],
)
def test_malformed_rows_are_excluded_with_their_line(
    tmp_path: Path, row: int | None, column: int, message: str
) -> None:
    rows = [list(r) for r in ROWS]
    bad = {
        "negative count": (-5,),
        "not a number": ("lots",),
        "not a whole number": (12.5,),
    }
    if message in bad:
        rows[1][column] = bad[message][0]
    elif message == "votes above ballots":
        rows[1][12] = 900  # 290 + 900 + 10 > 700
    else:
        rows[1][3] = 0
    t = read_results(_cec(tmp_path, rows))
    assert len(t.frame) == 2 and t.excluded_rows == 1
    problem = t.excluded[0]
    assert problem.line == 3 and message in problem.message
    if message in bad:
        assert problem.column == CEC_HEADER[column]


def test_repeated_station_is_excluded(tmp_path: Path) -> None:
    t = read_results(_cec(tmp_path, [*ROWS, ROWS[0]]))
    assert len(t.frame) == 3
    assert "repeated station id" in t.excluded[0].message and t.excluded[0].line == 5


def test_missing_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    pd.DataFrame({"station_id": [1], "registered": [10], "A": [3]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="cannot tell"):
        read_results(path)
    with pytest.raises(InputError, match="missing column for ballots_issued"):
        read_results(path, ColumnMapping("m", registered="registered", ballots_issued="nope"))


def test_column_options_and_toml_mapping(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    pd.DataFrame(
        {
            "precinct": ["p1", "p2"],
            "province": ["x", "y"],
            "voters": [1000, 900],
            "early": [10, 0],
            "day": [500, 450],
            "cand_a": [300, 200],
            "cand_b": [210, 250],
        }
    ).to_csv(path, sep=";", index=False)
    toml = tmp_path / "map.toml"
    toml.write_text(
        '[columns]\nstation_id = "precinct"\nregion = "province"\nregistered = "voters"\n'
        'ballots_issued = ["early", "day"]\ncandidates = "re:^cand_"\n[csv]\ndelimiter = ";"\n'
    )
    t = read_results(path, load_mapping(toml))
    assert list(t.frame["ballots_issued"]) == [510, 450]
    assert t.candidates == ("cand_a", "cand_b") and t.winner is None
    # --col overrides: pick the winner explicitly
    t2 = read_results(path, load_mapping(toml), ["winner=cand_b"])
    assert t2.winner == "cand_b"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[columns\n", "not valid TOML"),
        ('[columns]\nvoters = "x"\n', "unknown role 'voters'"),
        ('[extra]\na = 1\n[columns]\nregistered = "r"\n', r"unknown table \[extra\]"),
        ("[columns]\nregistered = 5\n", "a column name or a list"),
        ('[columns]\nregion = ["a", "b"]\n', "single column"),
    ],
)
def test_bad_mapping_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_mapping(path)


@pytest.mark.parametrize(
    ("override", "message"),
    [("registered", "expected role=column"), ("voters=x", "unknown role")],
)
def test_bad_column_options(tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_results(_cec(tmp_path, ROWS), overrides=[override])


def test_check_results_on_a_case_table() -> None:
    frame = pd.DataFrame(
        {
            "station_id": ["s1", "s2"],
            "registered": [100, 100],
            "ballots_issued": [50, 60],
            "ballots_cast": [50, 60],
            "invalid": [1, 0],
            "A": [30, 30],
            "B": [19, 31],
        }
    )
    t = check_results(frame)
    assert t.layout == "pollwatch" and t.candidates == ("A", "B")
    assert t.excluded_rows == 1 and t.excluded[0].line == 3  # 30 + 31 + 0 > 60
    with pytest.raises(InputError, match="missing column"):
        check_results(frame.drop(columns=["ballots_issued"]))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_results(tmp_path / "none.csv")


def test_station_ids_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("station_id,registered,ballots_issued,A\n007,100,50,20\n010,100,60,30\n")
    t = read_results(path)
    assert list(t.frame["station_id"]) == ["007", "010"]
