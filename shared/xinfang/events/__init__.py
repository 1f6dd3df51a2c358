"""Event contracts: the CloudEvents envelope, the hash chain and the catalogue of event types.

Everything a service writes to or reads from ``petition.events`` and ``petition.routing``
goes through this package; the AsyncAPI document is generated from it.
"""
from xinfang.events.catalogue import CATALOGUE, EventData, data_model_for, event_type_of
from xinfang.events.chain import ChainLink, Finding, chain_head, link_of, next_link, verify_chain, verify_links
from xinfang.events.envelope import GENESIS_HASH, CloudEvent, canonical_json, digest
from xinfang.events.ids import derived_event_id
from xinfang.events.upcasting import UPCASTERS, Upcasters

__all__ = [
    "CloudEvent", "canonical_json", "digest", "GENESIS_HASH",
    "ChainLink", "Finding", "chain_head", "link_of", "next_link", "verify_chain", "verify_links",
    "CATALOGUE", "EventData", "data_model_for", "event_type_of",
    "derived_event_id", "UPCASTERS", "Upcasters",
]
