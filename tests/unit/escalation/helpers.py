"""Builders and constants for escalation's pure tests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from escalation.domain.matter import Intake, Matter
from xinfang.events.catalogue import Registered

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Shanghai

# the fast test county: every limit 4 s (handle 6 s), warning at 80 %, grace 1 s
VILLAGE, TOWN = "361501100201", "361501100000"
ROOM, STATION, BUREAU, CITY = "room.361501100201", "station.361501100000", "bureau.361501", "city.361500"


def s(seconds: float) -> datetime:
    """T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def registered(jurisdiction: str = VILLAGE, category: str = "labour", head_count: int = 1, imported: bool = False,
               unit: str = ROOM, tier: str = "village") -> Registered:
    return Registered(receipt_no="2026-361501-0000001", batch_id="b1", channel="visit", jurisdiction=jurisdiction,
                      category=category, summary="拖欠工资", head_count=head_count, unit=unit, tier=tier,
                      imported=imported)


def intake(seq: int, data, occurred: datetime, recorded: datetime | None = None) -> Intake:
    return Intake(seq, occurred, recorded or occurred, data)


def new(pid: str = "m1") -> Matter:
    return Matter(petition_id=pid)
