"""Domain errors shared by every stage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["InputError", "InputProblem", "PollwatchError"]


class PollwatchError(Exception):
    """Base class of every error pollwatch raises on purpose."""


@dataclass(frozen=True)
class InputProblem:
    """One problem found in a user's input, located as precisely as possible.

    `line` is the 1-based line number in the file (the header is line 1), `column` the column
    name, `time_s` a position in a video in seconds from its first frame.
    """

    file: str
    message: str
    line: int | None = None
    column: str | None = None
    time_s: float | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        if self.time_s is not None:
            where += f", at {self.time_s:.2f} s"
        return f"{where}: {self.message}"


class InputError(PollwatchError):
    """Bad input: carries every problem found, each naming its file, line, column or time."""

    def __init__(self, problems: list[InputProblem] | InputProblem) -> None:
        self.problems = [problems] if isinstance(problems, InputProblem) else list(problems)
        if not self.problems:
            raise ValueError("InputError needs at least one problem")
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, file: str | Path, message: str, **where: object) -> InputError:
        """Build an error with a single problem."""
        return cls(InputProblem(file=str(file), message=message, **where))  # type: ignore[arg-type]
