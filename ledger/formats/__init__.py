"""The formats floor: pure parsers and writers of the files ipb reads and writes.

One module per kind of outside file: entries, assessments, bank_statements (CSV with a column mapping,
OFX), payment_csv and bacs18 (BACS Standard 18), over the value types of bank_details; documents holds
what they share. Every module is functions over plain values (frozen dataclasses or pydantic models): no
database, no terminal. A refusal raises `ledger.errors.InvalidInput` (or a subclass) naming the file, line
and field, so a person can fix the file.
"""
