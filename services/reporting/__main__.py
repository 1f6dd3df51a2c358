"""``python -m reporting``: project the topics and serve statistics, reports, exports and the dashboard."""
import uvicorn

from reporting.settings import ReportingSettings
from xinfang import logs


def main() -> None:
    settings = ReportingSettings()
    logs.configure("reporting", settings.log_level)
    uvicorn.run("reporting.app:create_app", factory=True, host=settings.reporting_host, port=settings.reporting_port,
                log_level=settings.log_level.lower(), access_log=False, log_config=None)


if __name__ == "__main__":
    main()
