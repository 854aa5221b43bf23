"""Election forensics on official per-station results, and extrapolation of what the cameras
measured to the stations no camera watched.

Every test is a small pure function returning a frozen result dataclass (see
docs/forensics.md for the methods, their sources and the JSON report):

* `fingerprint`: 2D histogram turnout × winner share (Klimek et al. 2012);
* `integer_percentages`: integer-percentage peaks (Kobak, Shpilkin & Pshenichnikov 2016);
* `shpilkin`: anomalous winner's votes, per station and region (Shpilkin);
* `klimek_fit`: incremental and extreme fraud rates (Klimek, Yegorov, Hanel & Thurner 2012);
* `second_digit_benford`, `last_digit`, `c05s`, `p05s`: digit tests (Mebane);
* `moments`, `dip_test`, `sobyanin_sukhovolsky`, `turnout_share_correlation`;
* `checkpoint_consistency`: intra-day turnout checkpoints against the final protocol;
* `anomaly_scores`: a per-station tail probability under a robust regional clean model;
* `extrapolate_inflation`: inflated ballots at every station and nationally from cameras.

`run_forensics` / `forensics_file` run them all; `station_scores` gives the station table.
"""

from pollwatch.forensics.checkpoints import CheckpointResult, checkpoint_consistency
from pollwatch.forensics.digits import (
    DigitTestResult,
    c05s,
    last_digit,
    p05s,
    second_digit_benford,
)
from pollwatch.forensics.extrapolate import Extrapolation, extrapolate_inflation
from pollwatch.forensics.fingerprint import Fingerprint, fingerprint
from pollwatch.forensics.integer_peaks import IntegerPeaksResult, integer_percentages
from pollwatch.forensics.klimek import KlimekResult, klimek_fit
from pollwatch.forensics.read import (
    CEC_RUSSIA,
    POLLWATCH,
    ColumnMapping,
    ResultsTable,
    check_results,
    load_mapping,
    read_results,
)
from pollwatch.forensics.score import AnomalyScores, anomaly_scores
from pollwatch.forensics.shape import (
    CorrelationResult,
    DipResult,
    MomentsResult,
    SlopeResult,
    dip_test,
    moments,
    sobyanin_sukhovolsky,
    turnout_share_correlation,
)
from pollwatch.forensics.shpilkin import ShpilkinResult, shpilkin
from pollwatch.forensics.stations import Stations
from pollwatch.forensics.suite import (
    STATION_SCORE_COLUMNS,
    ForensicsReport,
    forensics_file,
    run_forensics,
    station_scores,
)

__all__ = [
    "CEC_RUSSIA",
    "POLLWATCH",
    "STATION_SCORE_COLUMNS",
    "AnomalyScores",
    "CheckpointResult",
    "ColumnMapping",
    "CorrelationResult",
    "DigitTestResult",
    "DipResult",
    "Extrapolation",
    "Fingerprint",
    "ForensicsReport",
    "IntegerPeaksResult",
    "KlimekResult",
    "MomentsResult",
    "ResultsTable",
    "ShpilkinResult",
    "SlopeResult",
    "Stations",
    "anomaly_scores",
    "c05s",
    "check_results",
    "checkpoint_consistency",
    "dip_test",
    "extrapolate_inflation",
    "fingerprint",
    "forensics_file",
    "integer_percentages",
    "klimek_fit",
    "last_digit",
    "load_mapping",
    "moments",
    "p05s",
    "read_results",
    "run_forensics",
    "second_digit_benford",
    "shpilkin",
    "sobyanin_sukhovolsky",
    "station_scores",
    "turnout_share_correlation",
]
