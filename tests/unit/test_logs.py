"""JSON log lines carry the request and matter ids set by whoever handles the work."""
import io
import logging

import orjson

from xinfang.logs import JsonFormatter, petition_id, request_id


def test_a_log_line_is_json_with_the_ids_in_context():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("intake"))
    logger = logging.getLogger("test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    tokens = request_id.set("r-1"), petition_id.set("m-1")
    try:
        logger.info("已登记 registered", extra={"receipt_no": "2026-361402-0000001"})
    finally:
        request_id.reset(tokens[0])
        petition_id.reset(tokens[1])
    logger.info("outside")
    first, second = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert first["request_id"] == "r-1" and first["petition_id"] == "m-1" and first["service"] == "intake"
    assert first["message"] == "已登记 registered" and first["receipt_no"] == "2026-361402-0000001"
    assert "request_id" not in second
