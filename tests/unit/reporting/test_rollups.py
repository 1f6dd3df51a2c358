"""Which months of a period the roll-ups answer (reporting.rollups.cut): the whole months (China Standard Time)
inside it that ended; and the openers of the collective thresholds (reporting.rollups.CASE)."""
from __future__ import annotations

from datetime import datetime, timezone

from reporting import rollups


def test_a_period_reads_the_whole_months_inside_it_that_have_ended():
    utc = timezone.utc
    start, stop = datetime(2025, 12, 31, 16, tzinfo=utc), datetime(2026, 12, 31, 16, tzinfo=utc)  # 2026 in +08:00
    now = datetime(2026, 12, 1, 9, tzinfo=utc)  # 17:00 on 1 December, Beijing time
    assert rollups.cut(start, stop, now) == {"cut_from": start, "cut_to": datetime(2026, 11, 30, 16, tzinfo=utc)}
    past = (datetime(2024, 12, 31, 16, tzinfo=utc), datetime(2025, 12, 31, 16, tzinfo=utc))  # 2025: every month
    assert rollups.cut(*past, now) == {"cut_from": past[0], "cut_to": past[1]}
    month = (datetime(2026, 2, 28, 16, tzinfo=utc), datetime(2026, 3, 31, 16, tzinfo=utc))  # March
    assert rollups.cut(*month, now) == {"cut_from": month[0], "cut_to": month[1]}
    this_month = (datetime(2026, 11, 30, 16, tzinfo=utc), datetime(2026, 12, 31, 16, tzinfo=utc))
    assert rollups.cut(*this_month, now) == rollups.no_cut(this_month[1])  # not ended: from the rows
    assert rollups.cut(start, stop, datetime(2026, 1, 20, tzinfo=utc)) == rollups.no_cut(stop)
    # a range that starts and ends inside months: the months between
    ranged = (datetime(2025, 11, 17, 16, tzinfo=utc), datetime(2026, 8, 9, 16, tzinfo=utc))
    assert rollups.cut(*ranged, now) == {"cut_from": datetime(2025, 11, 30, 16, tzinfo=utc),
                                         "cut_to": datetime(2026, 7, 31, 16, tzinfo=utc)}
    # an instant in UTC: the months are still Beijing's
    utc_month = (datetime(2026, 3, 1, tzinfo=utc), datetime(2026, 4, 1, tzinfo=utc))
    assert rollups.cut(*utc_month, now) == rollups.no_cut(utc_month[1])


def test_a_batch_opens_the_thresholds_between_its_matters_earlier_most_and_its_own_persons():
    def opened(prior: int, heads: int) -> list[int]:
        return [k for k in range(1, rollups.HEADS + 1)
                if eval(rollups.opens(k).replace("prior_heads", str(prior)).replace("head_count", str(heads))  # noqa: S307
                        .replace("AND", "and"))]

    assert opened(0, 3) == [1, 2, 3]  # a first batch of three opens thresholds 1 … 3
    assert opened(3, 7) == [4, 5, 6, 7]  # a later one of seven, after three at most: 4 … 7
    assert opened(7, 2) == []  # fewer than before: none
    assert opened(9, 40) == [10]  # the last column: ten and more
    assert list(rollups.CASE) == ["rows", *(f"opens_{k}" for k in range(1, 11)), *(f"resolved_{k}" for k in range(1, 11))]
