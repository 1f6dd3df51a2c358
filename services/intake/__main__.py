"""``python -m intake``: serve the terminal API."""
import logging

import uvicorn

from intake.app import create_app
from intake.settings import IntakeSettings


def main() -> None:
    settings = IntakeSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(create_app(settings), host=settings.intake_host, port=settings.intake_port,
                log_level=settings.log_level.lower(), access_log=False,
                timeout_keep_alive=75)  # village networks are slow: keep connections


if __name__ == "__main__":
    main()
