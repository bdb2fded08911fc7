"""ipb: the integrated personal budget ledger."""

__version__ = "0.1.0"
