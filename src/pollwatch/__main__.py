"""`python -m pollwatch`: the command line."""

from pollwatch.cli import app

app()
