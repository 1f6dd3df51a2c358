"""Which months of a period the roll-ups answer (reporting.rollups.cut): the whole UTC months inside it that ended."""
from __future__ import annotations

from datetime import datetime, timezone

from reporting import rollups


def test_a_period_reads_the_whole_utc_months_inside_it_that_have_ended():
    utc = timezone.utc
    start, stop = datetime(2025, 12, 31, 16, tzinfo=utc), datetime(2026, 12, 31, 16, tzinfo=utc)
    now = datetime(2026, 12, 1, 9, tzinfo=utc)
    assert rollups.cut(start, stop, now) == {"cut_from": datetime(2026, 1, 1, tzinfo=utc),
                                             "cut_to": datetime(2026, 12, 1, tzinfo=utc)}
    month = (datetime(2026, 2, 28, 16, tzinfo=utc), datetime(2026, 3, 31, 16, tzinfo=utc))
    assert rollups.cut(*month, now) == rollups.no_cut(month[1])
    assert rollups.cut(start, stop, datetime(2026, 1, 20, tzinfo=utc)) == rollups.no_cut(stop)
