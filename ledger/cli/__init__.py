"""The command line: `ipb NAME ...` lives in ledger/cli/NAME.py; ledger/cli/app.py registers them all.

Parsing and printing only: each command calls one use case in ledger.services or one report in
ledger.reports, and prints through ledger/cli/output.py.
"""
