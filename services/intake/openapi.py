"""``python -m intake.openapi [out.json]``: write the terminal API's OpenAPI document (docs/intake-openapi.json).

The app is built, not started, with throw-away secrets: the document does not depend on them.
"""
from __future__ import annotations

import base64
import sys

from intake.app import create_app
from intake.settings import IntakeSettings
from xinfang.apidocs import publish
from xinfang.settings import ROOT

PUBLISHED = ROOT / "docs" / "intake-openapi.json"


def document() -> dict:
    settings = IntakeSettings(admin_token="x" * 32, master_key=base64.b64encode(bytes(32)).decode())
    return create_app(settings).openapi()


if __name__ == "__main__":
    publish(document(), PUBLISHED, sys.argv)
