"""``python -m intake.openapi [out.json]``: write the terminal API's OpenAPI document (docs/intake-openapi.json).

The app is built, not started, with throw-away secrets: the document does not depend on them.
"""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

from intake.app import create_app
from intake.settings import IntakeSettings
from xinfang.settings import ROOT

PUBLISHED = ROOT / "docs" / "intake-openapi.json"


def document() -> dict:
    settings = IntakeSettings(admin_token="x" * 32, master_key=base64.b64encode(bytes(32)).decode())
    return create_app(settings).openapi()


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else PUBLISHED
    out.write_text(json.dumps(document(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main(sys.argv)
