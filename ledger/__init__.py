"""ipb: the integrated personal budget ledger."""
