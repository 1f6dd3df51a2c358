"""The terminal API's OpenAPI document, true to the wire where FastAPI cannot see it: the bearer scheme and
problem+json of every service (xinfang.apidocs), the Idempotency-Key the server requires (400 without one), and
the import's line schema (the body is read as a stream, not by FastAPI)."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from intake.idempotency import KEY_PATTERN
from xinfang.apidocs import wire_truths

TAGS = [
    {"name": "petitions", "description": "信访事项：登记、后续批次、办理、查看、查找、待办。Matters: register, later "
                                         "batches, handling, reading, lookup, the worklist."},
    {"name": "imports", "description": "历史导入 History from the old system."},
    {"name": "reference", "description": "基础数据：承办单位、内容分类。The county's units and categories."},
    {"name": "personal-data", "description": "个人信息删除 Erasure of a petitioner's personal data."},
    {"name": "terminals", "description": "终端与令牌（管理令牌）Terminals and their tokens (admin token)."},
    {"name": "notices", "description": "书面告知：登记回执、受理/不予受理告知书、延期告知书、处理/复查/复核意见书。The written "
                                       "notices the regulations require, and their issuing."},
    {"name": "supervision", "description": "督办单：上级单位对超期未办事项的督办。Supervision notices: a unit above "
                                           "lists a unit's overdue matters."},
    {"name": "desk", "description": "接待查询：按身份证号、电话查找事项，登记前查重。Lookup at the desk by ID number or "
                                    "phone, and the repeat check before registering."},
    {"name": "terminal-page", "description": "终端页面的读取：本终端、地点树、事项时间线、事项列表。The reads the web "
                                             "terminal (/terminal/) uses."},
    {"name": "portal", "description": "信访人查询（凭登记编号和查询码，无终端令牌）。The petitioner's portal: receipt "
                                      "number and query code, no terminal token."},
]
BEARER = ("终端令牌（每个终端一个），或管理令牌（仅终端管理与个人信息删除）。A terminal's token (one per terminal, "
          "issued by POST /v1/terminals), or the admin token from the environment for the terminal and erasure "
          "operations only.")
IDEMPOTENCY = ("必填。同一终端7天内以相同的键和内容重试，返回首次的答复；相同的键用于不同内容为422；首次请求仍在处理为409；"
               "缺少或格式不符为400。Required: a retry with the same key and body within 7 days returns the first "
               "answer; the same key with another body is 422; while the first is in flight, 409; missing or "
               "malformed, 400. 1–255 printable ASCII characters, e.g. a UUID.")


def operation_id(route: APIRoute) -> str:
    """The route's name (ASCII, e.g. ``register_petition``): generated clients name their functions after it."""
    return route.name


def install(app: FastAPI) -> None:
    """``app.openapi()`` answers the document made true to the wire (built once)."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = _true(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _true(schema: dict) -> dict:
    from intake.history_import import ImportedMatter

    schema = wire_truths(schema, BEARER)
    line = ImportedMatter.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema["components"]["schemas"]
    components.update(line.pop("$defs", {}))
    components["ImportedMatter"] = line
    for item in schema["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header" and parameter["name"] == "Idempotency-Key":
                    parameter.update(required=True, description=IDEMPOTENCY, schema={
                        "type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN.pattern})
    return schema
