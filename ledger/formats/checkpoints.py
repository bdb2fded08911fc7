"""Signed checkpoints: the ledger's heads, signed with an Ed25519 key the database never sees.

The hash chain proves order and content, but anyone who can write the database can recompute it
from an altered entry onwards. A checkpoint is a statement, signed by a key kept outside the
database, that at time T the journal's head was entry N with hash H and the history's head was
record M with hash G. It is appended as one JSON line to a log kept outside the database (and
recorded in the ledger too); `ipb audit verify --log FILE --public-key KEY` then checks each
signature and that the chains still pass through every signed head.

Pure: keys, lines and signatures are bytes and strings in, bytes and strings out.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import InvalidInput

FIELDS = ("entry", "entry_hash", "history", "history_hash", "at", "signer", "key_id")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The heads of the two chains at one moment, and who vouched for them with which key."""

    entry: int  # the journal's newest entry id (0: empty)
    entry_hash: str  # its hash
    history: int  # the history chain's newest record (0: empty)
    history_hash: str
    at: datetime  # UTC, naive, as every timestamp ipb stores
    signer: str  # the ipb user who took it
    key_id: str  # names the key: the first 16 hex digits of SHA-256 of its raw public bytes

    def payload(self) -> bytes:
        """The bytes the signature covers: the fields as canonical JSON."""
        fields = {**asdict(self), "at": self.at.isoformat(timespec="microseconds")}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    signature: bytes
    line: int = 0  # where it was read from in the log (1-based), 0 if not read from one


def generate_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair: (private key PEM, public key PEM)."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem, public_pem


def _private(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput("the audit key must be an Ed25519 key (make one with `ipb audit keygen`)")
    return key


def public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput("the audit public key must be an Ed25519 key (made by `ipb audit keygen`)")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def key_id_of_private(pem: bytes) -> str:
    return key_id(_private(pem).public_key())


def sign(checkpoint: Checkpoint, private_pem: bytes) -> SignedCheckpoint:
    key = _private(private_pem)
    if checkpoint.key_id != key_id(key.public_key()):
        raise InvalidInput(f"checkpoint names key {checkpoint.key_id}, but the key given is {key_id(key.public_key())}")
    return SignedCheckpoint(checkpoint, key.sign(checkpoint.payload()))


def to_line(signed: SignedCheckpoint) -> str:
    """One line of the log: the checkpoint's fields and its signature, as JSON."""
    cp = signed.checkpoint
    fields = {**asdict(cp), "at": cp.at.isoformat(timespec="microseconds"),
              "signature": base64.b64encode(signed.signature).decode()}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def read_log(text: str, source: str = "checkpoint log") -> list[SignedCheckpoint]:
    """Every checkpoint in a log, in order; a malformed line refuses the whole log, naming the line."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            out.append(_parse(line, number, source))
    return out


def _parse(line: str, number: int, source: str) -> SignedCheckpoint:
    try:
        data = json.loads(line)
        checkpoint = Checkpoint(int(data["entry"]), str(data["entry_hash"]), int(data["history"]),
                                str(data["history_hash"]), datetime.fromisoformat(data["at"]), str(data["signer"]),
                                str(data["key_id"]))
        signature = base64.b64decode(data["signature"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{source} line {number} is not a checkpoint: {exc}", line=number) from None
    return SignedCheckpoint(checkpoint, signature, number)


def signature_ok(signed: SignedCheckpoint, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(signed.signature, signed.checkpoint.payload())
    except InvalidSignature:
        return False
    return True
