"""``python -m reporting.openapi [out.json]``: write the reporting API's OpenAPI document (docs/reporting-openapi.json).

The app is built, not started: the document depends on no setting.
"""
from __future__ import annotations

import sys

from reporting.app import create_app
from xinfang.apidocs import publish
from xinfang.settings import ROOT

PUBLISHED = ROOT / "docs" / "reporting-openapi.json"


def document() -> dict:
    return create_app().openapi()


if __name__ == "__main__":
    publish(document(), PUBLISHED, sys.argv)
