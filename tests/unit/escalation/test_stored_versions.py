"""Escalation's stored rows carry a layout version and are read tolerantly: old rows, extra fields, newer rows."""
from __future__ import annotations

from dataclasses import replace

import orjson
import pytest

from escalation.domain import codec
from escalation.domain.matter import Matter
from escalation.processor import VERSION, Stored, UnknownVersion, confirmed_raw
from unit.escalation.helpers import ROOM, T0, s

# A row as the code before versioning wrote it (commit 26e9fa6): a matter registered at T0, its acceptance
# warning fired at T0 + 3.2 s, the assignment (seq 1) confirmed, the warning (seq 2) still in the outbox.
ROW_BEFORE_VERSIONS = (
    b'2\n'
    b'{"petition_id":"m-old","jurisdiction":"361501100201","category":"labour","head_count":1'
    b',"imported":false,"intake_seq":1,"known_at":1772413200000000,"head":[2'
    b',"eb1f2ca1ee87cf99a9bfc68aa7c5d8aa376ccb824d4fe133572184ce80df29aa"],"basis_seq":1'
    b',"unit":"room.361501100201","tier":"village","department":null,"redirect":null'
    b',"clock":{"stage":"accept","unit":"room.361501100201","tier":"village"'
    b',"started_at":1772413200000000,"due_at":1772413204000000,"warn_at":1772413203200000'
    b',"warned":true,"overdue_at":null,"suspended_at":null},"answered_by":null,"window":null'
    b',"objectors":[],"closed":null}\n'
    b'{"actor":"system:escalation","data":{"due_at":"2026-03-02T01:00:04.000000Z","stage":"accept"'
    b',"tier":"village","unit":"room.361501100201"},"datacontenttype":"application/json"'
    b',"hash":"eb1f2ca1ee87cf99a9bfc68aa7c5d8aa376ccb824d4fe133572184ce80df29aa"'
    b',"hashalg":"sha256","id":"ce4c0056-4b6f-52d2-b5a4-0c365d3b3f55"'
    b',"occurred":"2026-03-02T01:00:03.200000Z"'
    b',"prevhash":"19ff3644273062ff552979625d29359197df896068ff043b4257a7bd5f408c48","seq":2'
    b',"source":"/xinfang/361501/escalation","specversion":"1.0","subject":"m-old"'
    b',"time":"2026-03-02T01:00:03.200000Z","type":"petition.deadline_warning.v1"}'
)


def lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\n")


def with_state(raw: bytes, change) -> bytes:
    head, state, *wires = lines(raw)
    return b"\n".join([head, orjson.dumps(change(orjson.loads(state))), *wires])


def test_a_row_written_before_versions_is_read_as_version_1():
    stored = Stored.loads(ROW_BEFORE_VERSIONS)
    m = stored.matter
    assert (m.petition_id, m.unit, m.tier, m.intake_seq, m.known_at, m.head.seq) == ("m-old", ROOM, "village", 1, T0, 2)
    assert (m.clock.stage, m.clock.due_at, m.clock.warn_at, m.clock.warned) == ("accept", s(4), s(3.2), True)
    assert [seq for seq, _ in stored.outbox] == [2] and stored.outbox[0][1] == lines(ROW_BEFORE_VERSIONS)[2]
    again = stored.dumps()
    assert orjson.loads(lines(again)[1])["version"] == VERSION == 1 and Stored.loads(again) == stored


def test_a_row_round_trips_at_the_current_version_and_a_confirmation_keeps_it():
    stored = Stored.loads(ROW_BEFORE_VERSIONS)
    later = replace(stored, matter=replace(stored.matter, objectors=(ROOM,), closed="withdrawn"))
    raw = later.dumps()
    assert Stored.loads(raw) == later
    assert orjson.loads(lines(confirmed_raw(raw, 2))[1])["version"] == VERSION


def test_unknown_fields_are_ignored_and_missing_ones_take_their_defaults():
    def added(state):
        state["clock"]["paused_by"] = "听证"
        return {**state, "priority": "high"}

    assert Stored.loads(with_state(ROW_BEFORE_VERSIONS, added)) == Stored.loads(ROW_BEFORE_VERSIONS)

    def removed(state):
        del state["clock"]["warned"], state["objectors"], state["closed"], state["department"]
        return state

    m = Stored.loads(with_state(ROW_BEFORE_VERSIONS, removed)).matter
    assert (m.clock.warned, m.objectors, m.closed, m.department) == (False, (), None, None)
    assert codec.from_dict({"petition_id": "m-bare"}) == Matter(petition_id="m-bare")


@pytest.mark.parametrize("version, says", [(VERSION + 1, "a newer escalation wrote it"),
                                           (0, "not a version escalation ever wrote")])
def test_a_row_of_a_version_this_code_does_not_know_is_refused(version, says):
    raw = with_state(ROW_BEFORE_VERSIONS, lambda state: {**state, "version": version})
    with pytest.raises(UnknownVersion, match=f"'m-old' has layout version {version}.*reads version 1: .*{says}"):
        Stored.loads(raw)
