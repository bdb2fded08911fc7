"""Pure rules: eligibility, charging, top-ups, attribution and sharing. No I/O."""
