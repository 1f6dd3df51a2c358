"""Commands a terminal can give: imperatives, one class each."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from xinfang.vocabulary import Channel, Decision, Delivery, NoticeKind, Redirect, Satisfaction

if TYPE_CHECKING:
    from intake.domain.model import PetitionState


@dataclass(frozen=True)
class EncryptedPetitioner:
    """A petitioner whose personal fields are already encrypted (the domain never sees plain text)."""

    ref: str
    name: str
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class RegisterPetition:
    petition_id: str
    receipt_no: str
    batch_id: str
    channel: Channel
    jurisdiction: str
    category: str
    summary: str
    head_count: int
    petitioners: tuple[EncryptedPetitioner, ...] = ()
    imported: bool = False
    external_id: str | None = None
    accused_unit: str | None = None


@dataclass(frozen=True)
class RecordVisit:
    batch_id: str
    channel: Channel
    head_count: int
    petitioners: tuple[EncryptedPetitioner, ...] = ()
    summary: str | None = None
    imported: bool = False


@dataclass(frozen=True)
class Accept:
    note: str | None = None


@dataclass(frozen=True)
class Decline:
    reason: str
    redirect: Redirect | None = None


@dataclass(frozen=True)
class Transfer:
    reason: str
    to_unit: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class Object:
    """派单异议: the assignment is outside this unit's competence."""

    reason: str


@dataclass(frozen=True)
class Extend:
    days: int
    reason: str


@dataclass(frozen=True)
class Suspend:
    reason: str


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Reply:
    decision: Decision
    resolved: bool
    facts: str
    grounds: str


@dataclass(frozen=True)
class RequestReview:
    reason: str


@dataclass(frozen=True)
class ReplyReview:
    decision: Decision
    resolved: bool
    facts: str
    grounds: str


@dataclass(frozen=True)
class RequestRecheck:
    reason: str


@dataclass(frozen=True)
class ReplyRecheck:
    decision: Decision
    resolved: bool
    facts: str
    grounds: str


@dataclass(frozen=True)
class Evaluate:
    satisfaction: Satisfaction
    remark: str | None = None  # the petitioner's own words (the portal)


@dataclass(frozen=True)
class Withdraw:
    reason: str | None = None


@dataclass(frozen=True)
class ErasePersonalData:
    petitioner_ref: str


@dataclass(frozen=True)
class IssueNotice:
    """书面告知: record a notice as issued, with what it says (personal data left out) and its documents' hashes."""

    notice_id: str
    kind: NoticeKind
    delivery: Delivery
    basis_seq: int
    title: str
    body: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]
    addressed: tuple[str, ...]  # refs of the petitioners addressed
    pdf_sha256: str
    docx_sha256: str
    query_code_generation: int | None = None
    layout: int = 1


@dataclass(frozen=True)
class Supervise:
    """督办: list this matter on a supervision notice for its obligation of ``stage``, due at ``due_at`` (RFC 3339),
    overdue when the notice is issued; the notice's text and hashes are the same on every matter it lists."""

    notice_id: str
    number: str
    unit: str  # the unit supervised: the matter's holder
    reason: str | None
    stage: str
    due_at: str
    days_overdue: int
    position: int
    listed: int
    pdf_sha256: str
    docx_sha256: str


@dataclass(frozen=True)
class Merge:
    """并单: merge this matter, registered in error, into the one it repeats (``into``).  ``survivor``: that
    matter as it stands, read by the service in the same transaction (None: no such matter in the caller's scope)."""

    into: str
    reason: str
    survivor: PetitionState | None = None


@dataclass(frozen=True)
class Unmerge:
    """撤销并单: undo this matter's merge (the bureau, once); ``survivor`` as for :class:`Merge`."""

    reason: str
    survivor: PetitionState | None = None


Command = (RegisterPetition | RecordVisit | Accept | Decline | Transfer | Object | Extend | Suspend
           | Resume | Reply | RequestReview | ReplyReview | RequestRecheck | ReplyRecheck | Evaluate
           | Withdraw | ErasePersonalData | IssueNotice | Supervise | Merge | Unmerge)

#: the action names of ``POST /v1/petitions/{id}/actions``
ACTIONS: dict[str, type] = {
    "accept": Accept, "decline": Decline, "transfer": Transfer, "object": Object, "extend": Extend,
    "suspend": Suspend, "resume": Resume, "reply": Reply, "request_review": RequestReview,
    "reply_review": ReplyReview, "request_recheck": RequestRecheck, "reply_recheck": ReplyRecheck,
    "evaluate": Evaluate, "withdraw": Withdraw, "merge": Merge, "unmerge": Unmerge,
}

