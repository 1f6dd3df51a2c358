"""``python -m reporting.openapi [out.json]``: write the reporting API's OpenAPI document (docs/reporting-openapi.json).

The app is built, not started: the document depends on no setting.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from reporting.app import create_app
from xinfang.settings import ROOT

PUBLISHED = ROOT / "docs" / "reporting-openapi.json"


def document() -> dict:
    return create_app().openapi()


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else PUBLISHED
    out.write_text(json.dumps(document(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main(sys.argv)
