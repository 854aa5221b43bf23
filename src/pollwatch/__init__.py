"""pollwatch: watch polling stations through their cameras and test the official results.

Architecture (one package per stage):

    ingest  → store → video (engine + analysers) → detectors → findings/evidence → report
                          forensics (official numbers alone) beside them
    simulate: synthetic elections with exact ground truth; evaluate: scores outputs against it.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
