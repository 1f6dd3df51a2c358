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

from reporting.projection import Role
from reporting.settings import ReportingSettings
from xinfang.city import load_city_tree
from xinfang.county import County, load_county


def deployment(settings: ReportingSettings) -> tuple[ReportingSettings, County, dict[str, Role]]:
    """The settings to run with, the tree to report on and the topics to read (topic → role)."""
    if settings.reporting_mode == "county":
        return settings, load_county(settings.county_file), {settings.topic_events: "events",
                                                             settings.topic_routing: "routing"}
    city, tree = load_city_tree(settings.city_file)
    roles: dict[str, Role] = {}
    for county in city.counties:
        roles[city.remote_topic(county.alias, settings.topic_events)] = "events"
        roles[city.remote_topic(county.alias, settings.topic_routing)] = "routing"
    return settings.model_copy(update={"kafka_bootstrap": city.kafka.bootstrap}), tree, roles
