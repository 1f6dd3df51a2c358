"""``python -m intake``: serve the terminal API."""
import uvicorn

from intake.settings import IntakeSettings
from xinfang import logs


def main() -> None:
    settings = IntakeSettings()
    logs.configure("intake", settings.log_level)
    # Several worker processes share the port; each runs a relay (one holds the lock and relays, the
    # others stand by) and a member of the routing consumer group.
    uvicorn.run("intake.app:create_app", factory=True, workers=settings.workers, host=settings.intake_host,
                port=settings.intake_port, log_level=settings.log_level.lower(), access_log=False, log_config=None,
                timeout_keep_alive=75,  # village networks are slow: keep connections
                # the source address counts failed authentications: X-Forwarded-For only from the configured proxies
                # (uvicorn would otherwise believe it from any local process)
                proxy_headers=bool(settings.forwarded_allow_ips), forwarded_allow_ips=settings.forwarded_allow_ips or None)


if __name__ == "__main__":
    main()
