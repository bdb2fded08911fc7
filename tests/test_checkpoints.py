"""Signed checkpoints, the pure part: keys, lines, signatures (ledger/formats/checkpoints.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.formats import checkpoints as cp

PRIVATE, PUBLIC = cp.generate_key()
KEY_ID = cp.key_id(cp.public_key(PUBLIC))


def checkpoint(**changes: object) -> cp.Checkpoint:
    base = cp.Checkpoint(1500, "a" * 64, 12, "b" * 64, datetime(2026, 3, 31, 17, 0, 0, 123456), "ada", KEY_ID)
    return replace(base, **changes)


def test_a_signed_line_reads_back_and_verifies() -> None:
    line = cp.to_line(cp.sign(checkpoint(), PRIVATE))
    (back,) = cp.read_log(line + "\n")
    assert back.checkpoint == checkpoint() and back.line == 1
    assert cp.signature_ok(back, cp.public_key(PUBLIC))


@pytest.mark.parametrize("field, value", [("entry", 1499), ("entry_hash", "c" * 64), ("history", 13),
                                          ("history_hash", "d" * 64), ("signer", "eve"),
                                          ("at", datetime(2026, 3, 31, 17, 0, 1))])
def test_changing_any_field_of_a_signed_line_breaks_its_signature(field: str, value: object) -> None:
    signed = cp.sign(checkpoint(), PRIVATE)
    forged = replace(signed, checkpoint=replace(signed.checkpoint, **{field: value}))
    (back,) = cp.read_log(cp.to_line(forged))
    assert not cp.signature_ok(back, cp.public_key(PUBLIC))


def test_another_key_does_not_verify_and_a_key_cannot_sign_for_another() -> None:
    other_private, other_public = cp.generate_key()
    signed = cp.sign(checkpoint(), PRIVATE)
    assert not cp.signature_ok(signed, cp.public_key(other_public))
    with pytest.raises(InvalidInput, match="names key"):
        cp.sign(checkpoint(), other_private)


@pytest.mark.parametrize("text", ["not json", '{"entry": 1}', '{"entry": "x", "entry_hash": "", "history": 0, '
                                  '"history_hash": "", "at": "2026-01-01", "signer": "a", "key_id": "k", '
                                  '"signature": "AA=="}'])
def test_a_malformed_line_refuses_the_log_naming_the_line(text: str) -> None:
    good = cp.to_line(cp.sign(checkpoint(), PRIVATE))
    with pytest.raises(InvalidInput, match="line 2"):
        cp.read_log(f"{good}\n{text}\n")


def test_keys_are_refused_when_they_are_not_ed25519_pem() -> None:
    with pytest.raises(InvalidInput):
        cp.public_key(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    with pytest.raises(InvalidInput):
        cp.sign(checkpoint(), PUBLIC)


@given(st.integers(0, 10**12), st.integers(0, 10**12), st.text(min_size=1, max_size=40))
def test_any_heads_round_trip_through_a_line(entry: int, history: int, signer: str) -> None:
    signed = cp.sign(checkpoint(entry=entry, history=history, signer=signer), PRIVATE)
    (back,) = cp.read_log(cp.to_line(signed))
    assert back.checkpoint == signed.checkpoint and cp.signature_ok(back, cp.public_key(PUBLIC))
