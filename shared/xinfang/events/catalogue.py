"""The catalogue of event types: one pydantic model of ``data`` per versioned type.

Intake writes the petition facts to ``petition.events``; escalation writes the routing
facts to ``petition.routing``.  Times inside ``data`` are RFC 3339 text in UTC.  Personal
data appears only as encrypted strings: ``enc:<alg>:<key id>:<nonce>:<ciphertext>``.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from xinfang.vocabulary import Channel, Decision, Delivery, NoticeKind, Redirect, Satisfaction, Stage, Tier

Time = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")]
Encrypted = Annotated[str, Field(pattern=r"^(enc:(aes-gcm|sm4-gcm):[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_=-]+:[A-Za-z0-9_=-]+|erased)$")]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
Text = Annotated[str, Field(max_length=4000)]


class EventData(BaseModel):
    """Base of every event's ``data``: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Petitioner(BaseModel):
    """A petitioner as events carry them: a reference and encrypted personal fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ref: Code = Field(description="petitioner reference; also the id of their data key")
    name: Encrypted
    id_number: Encrypted | None = None
    phone: Encrypted | None = None
    address: Encrypted | None = None


class Due(BaseModel):
    """A stage's due time as escalation set it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    stage: Stage
    due_at: Time
    warn_at: Time
    calendar_assumed: bool = Field(False, description="counted over a year with no holiday plan (Monday–Friday "
                                                      "assumed): recounted when the county lists the year")


# ---- petition.events (intake) ------------------------------------------------------


class Registered(EventData):
    """登记: a matter registered with its first batch."""

    receipt_no: str = Field(max_length=40, description="human receipt number, e.g. 2026-110105-000123")
    batch_id: Code
    channel: Channel
    jurisdiction: Code = Field(description="code of the place where the matter arose (属地)")
    category: Code
    summary: Text
    head_count: int = Field(ge=1, le=100000)
    petitioners: list[Petitioner] = Field(default_factory=list, max_length=1000)
    unit: Code = Field(description="the unit whose terminal registered it")
    tier: Tier = Field(description="tier of the registering unit")
    imported: bool = False
    external_id: str | None = Field(None, max_length=128)
    accused_unit: Code | None = Field(None, description="检举控告: the accused unit, never shown the matter")


class VisitRecorded(EventData):
    """重复访: a later batch on the same matter."""

    batch_id: Code
    channel: Channel
    head_count: int = Field(ge=1, le=100000)
    petitioners: list[Petitioner] = Field(default_factory=list, max_length=1000)
    unit: Code
    tier: Tier
    summary: Text | None = None
    imported: bool = False


class Accepted(EventData):
    """受理."""

    unit: Code
    note: Text | None = None


class Declined(EventData):
    """不予受理, with the reason told to the petitioner; may redirect to another channel."""

    unit: Code
    reason: Text = Field(min_length=1)
    redirect: Redirect | None = None


class Transferred(EventData):
    """转送/转办 to another unit or department."""

    from_unit: Code
    to_unit: Code | None = None
    category: Code | None = Field(None, description="the category, if the transfer changes it")
    reason: Text = Field(min_length=1)


class Objected(EventData):
    """派单异议: the assigned unit says the matter is outside its competence."""

    unit: Code
    reason: Text = Field(min_length=1)


class ExtensionGranted(EventData):
    """延期: the handling limit extended once, by at most 30 days, with approval."""

    unit: Code
    days: int = Field(ge=1, le=30)
    reason: Text = Field(min_length=1)
    approved_by: str = Field(max_length=128)


class Suspended(EventData):
    """听证 etc.: the clock stops."""

    unit: Code
    reason: Text = Field(min_length=1)


class Resumed(EventData):
    """The clock runs again."""

    unit: Code


#: 查明事实 and 依据/理由 of an answer (v2): the 意见书 states them apart (信访工作条例 2022, 第三十二条)
Facts = Annotated[str, Field(min_length=1, max_length=4000)]
_FACTS = ("查明事实 the facts the unit found; null only on a v1 answer read as v2, which stated no facts apart "
          "(its one text, `opinion`, is read as the grounds)")
_GROUNDS = "依据和理由 the rules applied and why the decision follows from the facts (a v1 answer's `opinion`)"


class Replied(EventData):
    """答复: the written reply (信访处理意见书): the facts found, the decision and its grounds (v2: apart)."""

    unit: Code
    decision: Decision
    resolved: bool
    facts: Facts | None = Field(None, description=_FACTS)
    grounds: Text = Field(min_length=1, description=_GROUNDS)


_REVIEWER = ("the unit that must review, decided by intake for imported history (the tier above the unit whose "
             "answer is contested, as the county file ranks them); None live: escalation assigns it")


class ReviewRequested(EventData):
    """复查申请."""

    reason: Text = Field(min_length=1)
    unit: Code | None = Field(None, description=_REVIEWER)
    tier: Tier | None = Field(None, description="the reviewing unit's tier, with unit")


class ReviewReplied(EventData):
    """复查意见: the facts found, the decision and its grounds (v2: apart)."""

    unit: Code
    decision: Decision
    resolved: bool
    facts: Facts | None = Field(None, description=_FACTS)
    grounds: Text = Field(min_length=1, description=_GROUNDS)


class RecheckRequested(EventData):
    """复核申请."""

    reason: Text = Field(min_length=1)
    unit: Code | None = Field(None, description=_REVIEWER.replace("review", "re-review"))
    tier: Tier | None = Field(None, description="the re-reviewing unit's tier, with unit")


class RecheckReplied(EventData):
    """复核意见: the facts found, the decision and its grounds (v2: apart)."""

    unit: Code
    decision: Decision
    resolved: bool
    facts: Facts | None = Field(None, description=_FACTS)
    grounds: Text = Field(min_length=1, description=_GROUNDS)


class Evaluated(EventData):
    """满意度评价: typed at a terminal, or the petitioner's own (actor ``petitioner:<matter>``)."""

    satisfaction: Satisfaction
    remark: Text | None = Field(None, description="the petitioner's remark (v2)")


class Withdrawn(EventData):
    """撤回."""

    reason: Text | None = None


class Terminated(EventData):
    """终结: the same matter on the same grounds is not accepted again."""

    reason: Text = Field(min_length=1)


class PersonalDataErased(EventData):
    """个人信息删除: the petitioner's data key destroyed (crypto-shredding)."""

    petitioner_ref: Code
    requested_by: str = Field(max_length=128)


class NoticeIssued(EventData):
    """书面告知送达: a notice issued to the petitioner — handed over at the desk, posted or sent by SMS.

    The event holds what the document says except the personal data: the template it was written from, the
    values of its placeholders (never the names, the address or the query code — the petitioners are named by
    reference and decrypted into the document only), the issuing unit and the SHA-256 of the document as PDF
    and as DOCX.  The document is reproduced byte-identical from this event and its occurred time; a copy that
    differs from the hash is refused.  The occurred time is the delivery: a written reply's review window
    counts from it."""

    notice_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="the document's id (PDF /ID, DOCX identifier)")
    kind: NoticeKind
    unit: Code = Field(description="the issuing unit: its name is where the seal goes")
    delivery: Delivery
    basis_seq: int = Field(ge=1, description="seq of the fact the notice tells (registration, acceptance …)")
    title: str = Field(max_length=60)
    body: list[Text] = Field(min_length=1, max_length=40, description="the template's paragraphs, unfilled")
    fields: dict[Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")], Text] = Field(
        max_length=40, description="the placeholders' values, personal ones left out")
    addressed: list[Code] = Field(default_factory=list, max_length=1000,
                                  description="refs of the petitioners addressed (their names decrypted into it)")
    query_code_generation: int | None = Field(None, ge=1, description="receipt slip: which query code it shows")
    layout: int = Field(1, ge=1, description="version of the document layout it was rendered with")
    pdf_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    docx_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Supervised(EventData):
    """督办: the matter listed on a supervision notice (督办单) a supervising unit sent the unit holding it, for an
    obligation overdue when it was issued.  One event on each listed matter's stream, all of one notice alike but
    for the matter's own line (its stage, due time and days overdue), so a later bulletin can tell which of the
    listed matters were answered since.  The document is reproduced from the notice's events; a copy that differs
    from the recorded SHA-256 is refused.  No personal data: the matter is named by its receipt number."""

    notice_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="the notice's id (PDF /ID, DOCX identifier)")
    number: str = Field(max_length=40, description="督办单编号, e.g. 督办〔2026〕3号 (per issuing unit and year)")
    issuing_unit: Code = Field(description="the supervising unit: its name is where the seal goes")
    unit: Code = Field(description="the unit supervised: the holder of every listed matter when it was issued")
    reason: Text | None = None
    receipt_no: str = Field(max_length=40)
    stage: Stage = Field(description="the overdue obligation's stage")
    due_at: Time = Field(description="when it was due")
    days_overdue: int = Field(ge=0, description="calendar days between the due date and the notice's date")
    position: int = Field(ge=1, description="the matter's line on the notice (1 …)")
    listed: int = Field(ge=1, le=1000, description="how many matters the notice lists")
    pdf_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    docx_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


PetitionId = Annotated[str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]


class Merged(EventData):
    """并单: this matter, registered in error, merged into the one it repeats.  Its batches count from now as
    repeat batches of the survivor (``into``), its deadlines close and escalation stops its clocks.  The survivor's
    stream records the same merge as ``petition.merge_received.v1``, written in the same transaction."""

    into: PetitionId = Field(description="the surviving matter")
    into_receipt_no: str = Field(max_length=40)
    reason: Text = Field(min_length=1)
    unit: Code = Field(description="the supervising unit that merged it")


class MergeReceived(EventData):
    """并单（存续事项）: a matter merged into this one (its ``petition.merged.v1`` names this matter)."""

    merged: PetitionId = Field(description="the matter merged into this one")
    merged_receipt_no: str = Field(max_length=40)
    batches: int = Field(ge=1, description="the merged matter's batches, repeat batches of this one from now")
    head_count: int = Field(ge=0)
    unit: Code


class Unmerged(EventData):
    """撤销并单: the bureau undid this matter's merge (once): it counts as a matter of its own again, its own
    deadlines and clocks as they stood before the merge."""

    into: PetitionId = Field(description="the matter it had been merged into")
    reason: Text = Field(min_length=1)
    unit: Code


class MergeUndone(EventData):
    """撤销并单（存续事项）: a matter merged into this one is a matter of its own again."""

    merged: PetitionId
    batches: int = Field(ge=1)
    head_count: int = Field(ge=0)
    unit: Code


# ---- petition.routing (escalation) --------------------------------------------------


class Assigned(EventData):
    """交办: routed to a unit, tier and department, with the rule that matched and due times."""

    unit: Code
    tier: Tier
    department: Code | None = None
    jurisdiction: Code
    rule: str = Field(max_length=128)
    stage: Stage
    due: list[Due] = Field(default_factory=list)
    redirect: Redirect | None = None
    cause: Literal["registered", "transferred", "objection", "import", "collective"] = "registered"
    basis_seq: int = Field(0, ge=0, description="seq of the intake event this reacts to; older routing is stale")


class DeadlineWarning(EventData):
    """临期预警 at the configured fraction of a limit."""

    unit: Code
    tier: Tier
    stage: Stage
    due_at: Time


class Overdue(EventData):
    """超期 (督办 to the holding unit)."""

    unit: Code
    tier: Tier
    stage: Stage
    due_at: Time


class Escalated(EventData):
    """升级: the matter goes to the next tier after the grace."""

    from_unit: Code
    from_tier: Tier
    to_unit: Code
    to_tier: Tier
    stage: Stage
    reason: Text
    due: list[Due] = Field(default_factory=list)
    basis_seq: int = Field(0, ge=0, description="seq of the intake event this reacts to; older routing is stale")


class DeadlineChanged(EventData):
    """期限变更: an extension, a suspension or a resumption moved a due time."""

    unit: Code
    stage: Stage
    due_at: Time | None = Field(None, description="None while the clock is suspended")
    previous_due_at: Time | None = None
    reason: Literal["extension", "suspended", "resumed", "accepted", "calendar"]
    calendar_assumed: bool = Field(False, description="due_at counted over a year with no holiday plan")


class ReviewAssigned(EventData):
    """复查/复核 routed to the tier above the unit that replied."""

    kind: Literal["review", "recheck"]
    unit: Code
    tier: Tier
    due: list[Due] = Field(default_factory=list)
    basis_seq: int = Field(0, ge=0, description="seq of the intake event this reacts to; older routing is stale")


class Closed(EventData):
    """办结: no more time limits run on this matter."""

    reason: Literal["replied", "withdrawn", "terminated", "declined", "redirected", "review_window_passed"]


class RoutingWithdrawn(EventData):
    """撤销: a routing fact escalation emitted in error, withdrawn (never deleted) after a fact it did not know.

    Facts count by their occurred time: an offline terminal's acceptance (reply, suspension …) that
    happened before a warning, an overdue notice or an escalation makes them wrong.  Each such event
    is withdrawn by one of these, newest first; ``unit``/``tier`` say who holds the matter once the
    withdrawn event is undone (the unit that met the deadline, after an escalation).
    """

    withdrawn_id: str = Field(max_length=64, description="id of the routing event withdrawn")
    withdrawn_type: str = Field(max_length=64, description="its type, e.g. petition.escalated.v2")
    unit: Code | None = Field(None, description="the unit holding the matter once the withdrawn event is undone")
    tier: Tier | None = None
    cause: str = Field(max_length=64, description="type of the intake event that made it wrong")
    cause_seq: int = Field(ge=1, description="seq of that intake event")
    cause_occurred_at: Time = Field(description="when that fact happened (before the withdrawn event)")
    reason: Text


# ---- xinfang.terminals (intake; compacted, keyed by terminal id) ------------------------------------


class TerminalCreated(EventData):
    """终端开通: a terminal of a unit, its roles and the SHA-256 of its token (never the token itself)."""

    unit: Code
    roles: list[Literal["registrar", "handler", "supervisor", "auditor", "admin"]] = Field(min_length=1, max_length=5)
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the bearer token")


class TerminalRevoked(EventData):
    """终端吊销: the terminal's token is refused from now on, by every service."""


_TYPES: dict[str, tuple[type[EventData], str]] = {
    "petition.registered.v1": (Registered, "events"),
    "petition.visit_recorded.v1": (VisitRecorded, "events"),
    "petition.accepted.v1": (Accepted, "events"),
    "petition.declined.v1": (Declined, "events"),
    "petition.transferred.v1": (Transferred, "events"),
    "petition.objected.v1": (Objected, "events"),
    "petition.extension_granted.v1": (ExtensionGranted, "events"),
    "petition.suspended.v1": (Suspended, "events"),
    "petition.resumed.v1": (Resumed, "events"),
    "petition.replied.v2": (Replied, "events"),
    "petition.review_requested.v2": (ReviewRequested, "events"),
    "petition.review_replied.v2": (ReviewReplied, "events"),
    "petition.recheck_requested.v2": (RecheckRequested, "events"),
    "petition.recheck_replied.v2": (RecheckReplied, "events"),
    "petition.evaluated.v2": (Evaluated, "events"),
    "petition.withdrawn.v1": (Withdrawn, "events"),
    "petition.terminated.v1": (Terminated, "events"),
    "petition.personal_data_erased.v1": (PersonalDataErased, "events"),
    "petition.notice_issued.v1": (NoticeIssued, "events"),
    "petition.merged.v1": (Merged, "events"),
    "petition.merge_received.v1": (MergeReceived, "events"),
    "petition.unmerged.v1": (Unmerged, "events"),
    "petition.merge_undone.v1": (MergeUndone, "events"),
    "petition.supervised.v1": (Supervised, "events"),
    "petition.assigned.v2": (Assigned, "routing"),
    "petition.deadline_warning.v1": (DeadlineWarning, "routing"),
    "petition.overdue.v1": (Overdue, "routing"),
    "petition.escalated.v2": (Escalated, "routing"),
    "petition.deadline_changed.v2": (DeadlineChanged, "routing"),
    "petition.review_assigned.v2": (ReviewAssigned, "routing"),
    "petition.closed.v1": (Closed, "routing"),
    "petition.routing_withdrawn.v1": (RoutingWithdrawn, "routing"),
    "terminal.created.v1": (TerminalCreated, "terminals"),
    "terminal.revoked.v1": (TerminalRevoked, "terminals"),
}

#: type name → (data model, topic role "events" | "routing" | "terminals")
CATALOGUE: dict[str, tuple[type[EventData], str]] = dict(_TYPES)
_TYPE_OF: dict[type[EventData], str] = {model: name for name, (model, _) in _TYPES.items()}


def data_model_for(event_type: str) -> type[EventData]:
    """The data model of a current event type; KeyError names unknown types."""
    try:
        return CATALOGUE[event_type][0]
    except KeyError:
        raise KeyError(f"未知的事件类型 unknown event type {event_type!r}") from None


def event_type_of(data: EventData) -> str:
    """The versioned type name of a data instance."""
    return _TYPE_OF[type(data)]
