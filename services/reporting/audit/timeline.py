"""One matter's full timeline from both topics: who did what, when it happened and when it was recorded."""
from __future__ import annotations

from typing import Any

import orjson

from reporting.audit.reading import partition_of, read_topic
from xinfang.settings import CommonSettings

PERSONAL = ("name", "id_number", "phone", "address")
CONTENT = ("summary",)  # what the petitioner said: content, not metadata, so shown only to those who may see it
MASK = "***"


def timeline(settings: CommonSettings, topics: dict[str, str], matter: str, partitions: int,
             people: dict[str, dict] | None = None) -> list[dict[str, Any]]:
    """Every event of ``matter`` in recorded order; personal fields and the free-text summary masked unless
    ``people`` reveals them (``people`` is given only when intake let the caller's terminal see the matter).

    ``people`` maps a petitioner reference to plain fields (as intake shows them to an authorised
    reader; erased ones come back as None and read as erased)."""
    entries = []
    partition = partition_of(matter, partitions)
    for role, topic in topics.items():
        for records in read_topic(settings, topic, only=[partition]):
            for record in records:
                if record.key != matter.encode():
                    continue
                envelope = orjson.loads(record.value)
                entries.append(_entry(role, record, envelope, people))
    entries.sort(key=lambda e: (e["recorded"], e["topic"], e["seq"]))
    return entries


def _entry(role: str, record, envelope: dict, people: dict[str, dict] | None) -> dict[str, Any]:
    data = dict(envelope.get("data", {}))
    for field in CONTENT:
        if people is None and data.get(field):
            data[field] = MASK
    if people is None and isinstance(data.get("fields"), dict):  # an issued notice's text: its summary is content
        data["fields"] = {key: MASK if key in CONTENT and value else value for key, value in data["fields"].items()}
    if "petitioners" in data:
        data["petitioners"] = [_person(p, people) for p in data["petitioners"]]
    return {"topic": role, "offset": record.offset, "seq": envelope["seq"], "id": envelope["id"],
            "type": envelope["type"], "actor": envelope["actor"], "occurred": envelope["occurred"],
            "recorded": envelope["time"], "data": data}


def _person(encrypted: dict, people: dict[str, dict] | None) -> dict:
    ref = encrypted.get("ref")
    if people is None or ref not in people:
        return {"ref": ref, **{f: (MASK if encrypted.get(f) not in (None, "erased") else encrypted.get(f)) for f in PERSONAL}}
    plain = people[ref]
    if plain.get("erased"):
        return {"ref": ref, **{f: "erased" for f in PERSONAL}}
    return {"ref": ref, **{f: plain.get(f) for f in PERSONAL}}
