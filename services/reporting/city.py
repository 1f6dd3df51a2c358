"""City mode (``XINFANG_REPORTING_MODE=city``, ``XINFANG_CITY_FILE``): the same service, projection and tables
over every county of a city, from the counties' topics as MirrorMaker 2 copies them into the city's Kafka.

- What it reads: ``<alias>.petition.events`` and ``<alias>.petition.routing`` of each county in the city file
  (:meth:`xinfang.city.City.remote_topic`), in the city's Kafka (the city file's ``kafka.bootstrap`` replaces
  ``XINFANG_KAFKA_BOOTSTRAP``). The projection is the county's: every row is keyed by its event id, so a record
  that arrives twice (MirrorMaker delivers at least once, and a county's relay publishes at least once) is
  written once; and its position is stored per topic and partition, the mirrored topic's own offsets, which
  are not the county's.
- The county as a dimension: a county's events carry its own jurisdiction codes, which nest under the city
  (each county file's tree has the city on top), so the city's tree (:func:`xinfang.city.city_tree`, from the
  county files the city file names) is the union of the counties' trees: ``jurisdiction=<county code>`` is that
  county, a township's code that township, no jurisdiction the whole city.
- Tokens: the city's own ``xinfang.terminals`` topic in the city's Kafka, written by the city bureau
  (``python -m xinfang.city issue-token``), not the counties' (which are not mirrored): a county issues
  terminals for its own units, and one county's admin must not be able to mint a reader of every county by
  issuing a terminal for the city bureau's unit, which every county file holds. Scope is the county model's
  rule over the city's tree: a city-bureau terminal reads every county, a county bureau's its own county.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from reporting.projection import Role
from reporting.rules import standing
from reporting.settings import ReportingSettings
from reporting.store import quoted
from xinfang.city import City, load_city_tree
from xinfang.county import County, load_county


def deployment(settings: ReportingSettings) -> tuple[ReportingSettings, County, dict[str, Role], City | None]:
    """The settings to run with, the tree to report on, the topics to read (topic → role) and the city (None:
    a county)."""
    if settings.reporting_mode == "county":
        return settings, load_county(settings.county_file), {settings.topic_events: "events",
                                                             settings.topic_routing: "routing"}, None
    city, tree = load_city_tree(settings.city_file)
    roles: dict[str, Role] = {}
    for county in city.counties:
        roles[city.remote_topic(county.alias, settings.topic_events)] = "events"
        roles[city.remote_topic(county.alias, settings.topic_routing)] = "routing"
    return settings.model_copy(update={"kafka_bootstrap": city.kafka.bootstrap}), tree, roles, city


def worklist_sql(schema: str) -> str:
    """The matters a city-tier unit holds now (the latest standing holding), not closed, with the soonest due
    still open of that unit, soonest first; ``$1``: the jurisdiction codes in scope (NULL: all), ``$2`` limit,
    ``$3`` offset, ``$4`` the holding unit (NULL: any)."""
    q = quoted(schema)
    return f"""
SELECT h.petition_id, m.receipt_no, m.jurisdiction, m.category, h.unit, h.stage, h.occurred_at AS since, o.due_at,
       count(*) OVER () AS total
FROM (SELECT DISTINCT petition_id FROM {q}.holdings WHERE tier = 'city') c
CROSS JOIN LATERAL (
  SELECT h.petition_id, h.unit, h.tier, h.stage, h.occurred_at FROM {q}.holdings h
  WHERE h.petition_id = c.petition_id AND {standing(q, 'h')}
  ORDER BY h.occurred_at DESC, h.recorded_at DESC, h.event_id DESC LIMIT 1) h
JOIN {q}.matters m ON m.petition_id = h.petition_id
LEFT JOIN LATERAL (
  SELECT min(o.due_at) AS due_at FROM {q}.obligation_state o
  WHERE o.petition_id = h.petition_id AND o.unit = h.unit AND NOT o.met) o ON true
WHERE h.tier = 'city' AND NOT EXISTS (SELECT 1 FROM {q}.closures x WHERE x.petition_id = h.petition_id)
  AND ($1::text[] IS NULL OR m.jurisdiction = ANY($1::text[])) AND ($4::text IS NULL OR h.unit = $4)
ORDER BY o.due_at NULLS LAST, h.occurred_at, h.petition_id
LIMIT $2 OFFSET $3"""


async def worklist(pool: asyncpg.Pool, schema: str, city: City, tree: County, codes: list[str] | None,
                   unit: str | None, limit: int, offset: int) -> dict[str, Any]:
    """GET /v1/city/worklist: read-only; each matter links to its county's own terminal API, where it is acted on."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(worklist_sql(schema), codes, limit, offset, unit)
    links = {link.code: link for link in city.counties}

    def county_of(code: str):
        return next(links[j.code] for j in [tree.jurisdiction(code), *tree.ancestors(code)] if j.code in links)

    def iso(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(tree.zone).isoformat()

    items = []
    for r in rows:
        county = county_of(r["jurisdiction"])
        items.append({
            "petition_id": r["petition_id"], "receipt_no": r["receipt_no"],
            "county": {"alias": county.alias, "code": county.code, "name": county.name},
            "jurisdiction": r["jurisdiction"], "category": r["category"],
            "unit": r["unit"], "unit_name": tree.unit(r["unit"]).name, "stage": r["stage"],
            "held_since": iso(r["since"]), "due_at": iso(r["due_at"]),
            "act_at": f"{county.intake_url}/v1/petitions/{r['petition_id']}" if county.intake_url else None})
    return {"total": rows[0]["total"] if rows else 0, "limit": limit, "offset": offset, "matters": items}
