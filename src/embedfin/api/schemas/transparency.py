"""Bodies of ``/v1/logs/…``: the verifiable logs, their checkpoints and proofs.

Hashes are base64 (standard alphabet, as in C2SP checkpoints and transparency-dev's tools);
a checkpoint is served as its signed note, to be checked with the log's verifier key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from embedfin.api.schemas.common import Model

EntryText = Annotated[str, StringConstraints(min_length=1, max_length=64 * 1024)]


class LogOut(BaseModel):
    object: Literal["log"] = "log"
    id: str
    origin: str = Field(description="the name the log's checkpoints carry")
    size: int
    verifier: str = Field(description="the note verifier key: name+keyid+base64(0x01 ‖ key)")


class AppendIn(Model):
    entries: list[EntryText] = Field(min_length=1, max_length=1000)


class AppendOut(BaseModel):
    object: Literal["log_append"] = "log_append"
    first: int
    last: int
    size: int


class EntryOut(BaseModel):
    object: Literal["log_entry"] = "log_entry"
    index: int
    body: str
    leaf_hash: str
    appended: datetime | None


class CheckpointOut(BaseModel):
    object: Literal["log_checkpoint"] = "log_checkpoint"
    origin: str
    size: int
    root: str
    note: str = Field(description="the C2SP checkpoint note with every signature and cosignature")
    signed: datetime | None
    witnesses: list[str]


class InclusionOut(BaseModel):
    object: Literal["inclusion_proof"] = "inclusion_proof"
    index: int
    size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyOut(BaseModel):
    object: Literal["consistency_proof"] = "consistency_proof"
    first: int
    second: int
    proof: list[str]


class CosignIn(Model):
    multiline_fields = frozenset({"note"})

    note: Annotated[str, StringConstraints(min_length=1, max_length=16_384)] = Field(
        description="one of this log's checkpoints with the lines of registered witnesses added"
    )


VerifierKey = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class WitnessIn(Model):
    vkey: VerifierKey = Field(
        description="the witness's note verifier key: name+keyid+base64(0x01 ‖ Ed25519 key)"
    )


class WitnessRemoval(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class WitnessOut(BaseModel):
    object: Literal["log_witness"] = "log_witness"
    name: str
    vkey: str = Field(description="the note verifier key its cosignatures verify under")
    added: datetime | None
