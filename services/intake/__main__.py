"""``python -m intake``: serve the terminal API."""
import logging

import uvicorn

from intake.settings import IntakeSettings


def main() -> None:
    settings = IntakeSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Several worker processes share the port; each runs a relay (one holds the lock and relays, the
    # others stand by) and a member of the routing consumer group.
    uvicorn.run("intake.app:create_app", factory=True, workers=settings.workers, host=settings.intake_host,
                port=settings.intake_port, log_level=settings.log_level.lower(), access_log=False,
                timeout_keep_alive=75)  # village networks are slow: keep connections


if __name__ == "__main__":
    main()
