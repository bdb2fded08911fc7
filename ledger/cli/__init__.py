"""Command groups of the `ipb` Typer app (assembled in the top-level cli.py). Parsing and printing only."""
