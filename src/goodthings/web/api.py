"""The REST API for operators' scripts: consent changes through the gate's one code path."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from goodthings.core.errors import PolicyError
from goodthings.rights.consent import records as consent
from goodthings.rights.consent import shared_agreements, waiting_words
from goodthings.web.deps import Operator
from goodthings.web.refusals import ApiProblem, ApiRefused

router = APIRouter(prefix="/api/v1", tags=["consent"])


class ConsentIn(BaseModel):
    stream: str = Field(description="Stream name, or model-id/stream-name", examples=["presence"])
    purpose: str = Field(
        description="A DPV purpose of the stream", examples=["OptimisationForConsumer"]
    )
    state: Literal["given", "withdrawn"]
    recipient: str | None = Field(default=None, description="Consent to share with this recipient")
    level: Literal["exact", "coarse", "aggregate", "off"] = "exact"
    notice_hash: str | None = Field(
        default=None,
        description="Hash of the notice version the person was shown (default: the current one)",
    )
    by_representative: bool = Field(
        default=False,
        description="The person's representative (manifest: represented_by) decided, on their "
        "behalf; refused when the manifest names none for this stream",
    )


class ConsentOut(BaseModel):
    id: int
    subject_id: str
    stream: str
    purpose: str
    recipient: str | None
    state: str
    level: str
    notice_hash: str | None
    method: str
    created_at: datetime
    given_by: str | None = Field(
        default=None,
        description="The representative who made the change on the person's behalf, by name "
        "and relationship; null when the person did",
        examples=["Ann Hughes (daughter)"],
    )


class AgreementOut(BaseModel):
    """How many of a shared place's occupants agreed to this purpose, never who."""

    place: str = Field(description="The place's name", examples=["Flat 4"])
    agreed: int
    concerned: int = Field(description="Occupants the stream is about; all must agree")
    complete: bool = Field(description="Every occupant agreed: collection can go ahead")
    words: str = Field(
        examples=[
            "Collection waits until every resident of Flat 4 agrees: 1 of 2 residents has agreed."
        ]
    )


class ConsentChanged(ConsentOut):
    shared: list[AgreementOut] = Field(
        description="For a stream about everyone in a shared place: agreement so far, per place"
    )


_OPERATOR_ONLY: dict[int | str, dict[str, object]] = {
    401: {"model": ApiProblem, "description": "No operator token"}
}


@router.post(
    "/subjects/{subject_id}/consents",
    status_code=201,
    response_model=ConsentChanged,
    responses={
        **_OPERATOR_ONLY,
        404: {
            "model": ApiProblem,
            "description": "The deployment declares no such consent: the subject, the stream "
            "about them, its purpose, the recipient or the notice version is not known",
        },
    },
)
async def change_consent(subject_id: str, body: ConsentIn, hub: Operator) -> ConsentChanged:
    """Give or withdraw a person's consent; every hub worker enforces it within its bound."""
    change = consent.ConsentChange(
        subject_id,
        body.stream,
        body.purpose,
        body.recipient,
        body.level,
        method="api",
        notice_hash=body.notice_hash,
        by_representative=body.by_representative,
    )
    action = consent.give if body.state == "given" else consent.withdraw
    try:
        record = await run_in_threadpool(action, hub.engine, hub.signer, change)
    except PolicyError as exc:
        raise ApiRefused(404, str(exc)) from None
    shared = await run_in_threadpool(_agreements, hub.engine, record)
    made = ConsentOut.model_validate(record, from_attributes=True)
    return ConsentChanged(**made.model_dump(), shared=shared)


def _agreements(engine: Engine, record: consent.ConsentRecord) -> list[AgreementOut]:
    if record.recipient is not None:
        return []
    with engine.connect() as connection:
        found = shared_agreements(connection, record.subject_id, record.stream, record.purpose)
    return [
        AgreementOut(
            place=w.place,
            agreed=w.agreed,
            concerned=w.concerned,
            complete=w.complete,
            words=waiting_words(w),
        )
        for w in found
    ]


@router.get(
    "/subjects/{subject_id}/consents", response_model=list[ConsentOut], responses=_OPERATOR_ONLY
)
def consent_history(subject_id: str, hub: Operator) -> list[ConsentOut]:
    """Every consent change of a person, oldest first."""
    with hub.engine.connect() as connection:
        records = consent.history(connection, subject_id)
    return [ConsentOut.model_validate(record, from_attributes=True) for record in records]
