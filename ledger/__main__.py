"""`python -m ledger`: the `ipb` command."""

from ledger.cli.app import main

main()
