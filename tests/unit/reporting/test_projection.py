"""The projection core with no broker and no database: facts of each event, unreadable records, offsets."""
import uuid
from datetime import timedelta

import orjson
import pytest

from reporting.projection import TABLES, Record, decode, project
from support.history import ROLES, History, T, matter, records
from xinfang.events import catalogue as c


def test_every_event_becomes_its_rows_with_both_clocks():
    history, pid = History(), str(uuid.uuid4())
    matter(history, pid)
    changes = project(records(history), ROLES)
    assert changes.events == 7 and not changes.unreadable
    rows = changes.rows
    assert rows["matters"][0][:4] == (pid, history.events[0][1].id, "R1", T)
    assert rows["matters"][0][4] == T + timedelta(days=3)  # recorded three days after it happened
    assert [r[3] for r in rows["batches"]] == [True, False]
    assert [r[9] for r in rows["batches"]] == [6, 2]
    assert rows["holdings"][0][2:5] == ("assigned", "station.361402001000", "township")
    assert rows["holdings"][1][2:7] == ("escalated", "bureau.361402", "county", "station.361402001000", "township")
    assert rows["dues"][0][1:5] == (0, pid, "station.361402001000", "accept")
    assert rows["replies"][0][2:6] == ("reply", "station.361402001000", "support", True)
    assert rows["evaluations"][0][2] == "basically_satisfied"
    assert rows["actions"][0][2] == "withdrawn"
    for table, table_rows in rows.items():
        for row in table_rows:
            assert len(row) == len(TABLES[table]), table
    assert changes.positions == {("ev", 0): 5, ("rt", 0): 2}


@pytest.mark.parametrize("value, reason", [
    (b"{oops", "not JSON"), (None, "empty record"), (orjson.dumps({"specversion": "1.0"}), "not a valid CloudEvent"),
])
def test_unreadable_records_are_named_and_the_rest_projected(value, reason):
    history = History()
    matter(history, str(uuid.uuid4()))
    good = records(history)
    bad = Record("ev", 0, 99, b"k", value)
    changes = project([good[0], bad, good[1]], ROLES)
    assert changes.events == 2 and len(changes.unreadable) == 1
    assert reason in changes.unreadable[0].reason
    assert changes.positions[("ev", 0)] == 100  # past the bad record: it is dead-lettered, not retried forever


def test_an_event_on_the_wrong_topic_an_unknown_type_and_bad_data_are_unreadable():
    history = History()
    matter(history, str(uuid.uuid4()))
    routing_event = history.events[1][1]
    with pytest.raises(ValueError, match="does not belong on the events topic"):
        decode(Record("ev", 0, 0, None, routing_event.to_json()), "events")
    envelope = history.events[0][1].envelope()
    unknown = orjson.dumps({**envelope, "type": "petition.teleported.v1"})
    with pytest.raises(ValueError, match="unknown event type"):
        decode(Record("ev", 0, 0, None, unknown), "events")
    bad_data = orjson.dumps({**envelope, "data": {**envelope["data"], "head_count": 0}})
    with pytest.raises(ValueError, match="does not fit the model"):
        decode(Record("ev", 0, 0, None, bad_data), "events")
    changes = project([Record("elsewhere", 0, 0, None, history.events[0][1].to_json())], ROLES)
    assert "unknown topic" in changes.unreadable[0].reason


def test_projection_of_each_record_does_not_depend_on_the_others():
    history = History()
    for _ in range(5):
        matter(history, str(uuid.uuid4()))
    rs = records(history)
    together = project(rs, ROLES).rows
    apart = {name: [] for name in TABLES}
    for r in reversed(rs):
        for name, rows in project([r], ROLES).rows.items():
            apart[name] += rows
    assert {k: sorted(v, key=str) for k, v in together.items()} == {k: sorted(v, key=str) for k, v in apart.items()}


def test_a_supervised_matter_becomes_one_row_of_its_notice_not_an_action():
    history, pid = History(), str(uuid.uuid4())
    matter(history, pid)
    history.add("events", pid, c.Supervised(
        notice_id="a" * 32, number="督办〔2026〕1号", issuing_unit="station.361402001000", unit="room.361402001001",
        receipt_no="R1", stage="accept", due_at="2026-04-03T00:00:00Z", days_overdue=2, position=1, listed=1,
        pdf_sha256="0" * 64, docx_sha256="1" * 64), T + timedelta(days=7))
    rows = project(records(history), ROLES).rows
    [row] = rows["supervisions"]
    assert row[1:8] == (pid, "a" * 32, "督办〔2026〕1号", "station.361402001000", "room.361402001001", "accept",
                        T.replace(year=2026, month=4, day=3, hour=0, minute=0))
    assert row[8] == 2 and len(row) == len(TABLES["supervisions"])
    assert [r[2] for r in rows["actions"]] == ["withdrawn"]
