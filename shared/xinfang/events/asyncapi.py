"""Generate the AsyncAPI 3 document of both topics from the catalogue.

``python -m xinfang.events.asyncapi [out.json]`` writes it (default: docs/asyncapi.json);
other teams integrate against that file.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from xinfang.events.catalogue import CATALOGUE
from xinfang.events.envelope import CloudEvent
from xinfang.settings import ROOT

REF = "#/components/schemas/{model}"
CHANNELS = {
    "events": ("petitionEvents", "petition.events",
               "事项事实（由受理服务写入） petition facts, written only by intake"),
    "routing": ("petitionRouting", "petition.routing",
                "交办与督办事实（由督办服务写入） routing and deadline facts, written only by escalation"),
    "terminals": ("terminals", "xinfang.terminals",
                  "终端及其令牌摘要（由受理服务写入，压缩主题，键为终端编号） each terminal's latest lifecycle event, "
                  "written only by intake; compacted, keyed by terminal id; carries the token's SHA-256, never the token"),
}
KEYS = {"events": "petition id (subject)", "routing": "petition id (subject)", "terminals": "terminal id (subject)"}
TOPIC_CONFIG = {"events": {"retention.ms": -1}, "routing": {"retention.ms": -1},
                "terminals": {"cleanup.policy": ["compact"]}}


def _schemas() -> dict[str, Any]:
    models = [(CloudEvent, "validation")] + [(model, "validation") for model, _ in CATALOGUE.values()]
    _, top = models_json_schema(models, ref_template=REF)
    return top["$defs"]


def _message(event_type: str, model_name: str, doc: str, role: str) -> dict[str, Any]:
    return {
        "name": event_type,
        "title": doc.split(":")[0].strip() if doc else event_type,
        "summary": doc,
        "contentType": "application/cloudevents+json",
        "payload": {"allOf": [
            {"$ref": REF.format(model="CloudEvent")},
            {"type": "object", "properties": {
                "type": {"const": event_type},
                "data": {"$ref": REF.format(model=model_name)},
            }},
        ]},
        "bindings": {"kafka": {"key": {"type": "string", "description": KEYS[role]},
                               "bindingVersion": "0.5.0"}},
    }


def build(partitions: int = 12) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document as a dict."""
    messages: dict[str, Any] = {}
    channel_messages: dict[str, dict[str, Any]] = {role: {} for role in CHANNELS}
    for event_type, (model, role) in CATALOGUE.items():
        key = event_type.removeprefix("petition.")
        messages[key] = _message(event_type, model.__name__, (model.__doc__ or "").strip(), role)
        channel_messages[role][key] = {"$ref": f"#/components/messages/{key}"}
    channels, operations = {}, {}
    for role, (channel_id, address, description) in CHANNELS.items():
        channels[channel_id] = {
            "address": address, "description": description, "messages": channel_messages[role],
            "bindings": {"kafka": {"topic": address, "partitions": 1 if role == "terminals" else partitions,
                                   "topicConfiguration": TOPIC_CONFIG[role],
                                   "bindingVersion": "0.5.0"}},
        }
        refs = [{"$ref": f"#/channels/{channel_id}/messages/{key}"} for key in channel_messages[role]]
        operations[f"publish_{channel_id}"] = {"action": "send", "channel": {"$ref": f"#/channels/{channel_id}"},
                                               "messages": refs}
        operations[f"consume_{channel_id}"] = {"action": "receive", "channel": {"$ref": f"#/channels/{channel_id}"},
                                               "messages": refs}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "信访事项事件 Petition handling events",
            "version": "1.0.0",
            "description": ("CloudEvents 1.0 structured JSON on Kafka, keyed by petition id (terminal id on "
                            "xinfang.terminals). Extension "
                            "attributes: occurred, actor, seq, prevhash, hashalg, hash (a per-matter, "
                            "per-source hash chain over the canonical JSON form)."),
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka",
                              "description": "deploy/dev up"}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": _schemas(), "messages": messages},
    }


def main(argv: list[str]) -> None:
    if len(argv) > 1 and argv[1].startswith("-"):  # "--help" once became a file of that name
        raise SystemExit("usage: python -m xinfang.events.asyncapi [OUT]  (default docs/asyncapi.json)")
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "asyncapi.json"
    out.write_text(json.dumps(build(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main(sys.argv)
