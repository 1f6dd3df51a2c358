"""docker-compose.yml: valid against the compose-spec schema, and consistent with the services' settings.

No Docker engine runs here, so the file is checked instead of run: the schema (check-jsonschema's
bundled compose-spec), then what a schema cannot see — health checks behind every
``service_healthy``, environment names the settings classes know, ports that match.
"""
from __future__ import annotations

import importlib
import re
import subprocess
import sys

import pytest
import yaml

from xinfang.settings import ROOT, CommonSettings

COMPOSE = ROOT / "docker-compose.yml"
CITY_COMPOSE = ROOT / "deploy" / "compose" / "city.yml"  # the city deployment (MirrorMaker 2 over the counties)
SETTINGS = {"intake": "intake.settings:IntakeSettings", "escalation": "escalation.settings:EscalationSettings",
            "reporting": "reporting.settings:ReportingSettings", "topics": "xinfang.settings:CommonSettings"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def settings_class(name: str):
    module, cls = SETTINGS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def env_names(cls) -> set[str]:
    prefix = cls.model_config.get("env_prefix", "")
    return {f"{prefix}{field}".upper() for field in cls.model_fields}


@pytest.mark.parametrize("path", [COMPOSE, CITY_COMPOSE], ids=["county", "city"])
def test_valid_against_the_compose_spec_schema(path):
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                           str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_check_would_catch_an_invalid_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  x:\n    image: 3\n    depends_on: {y: {condition: sometimes}}\n")
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                           str(broken)], capture_output=True, text=True)
    assert done.returncode != 0


@pytest.mark.parametrize("path", [COMPOSE, CITY_COMPOSE], ids=["county", "city"])
def test_every_service_healthy_dependency_has_a_health_check(path):
    services = yaml.safe_load(path.read_text())["services"]
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if rule.get("condition") == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy, which has no health check"


def test_kafka_is_3_9_in_kraft_mode_with_a_three_broker_profile(compose):
    services = compose["services"]
    kafkas = {n: s for n, s in services.items() if str(s.get("image", "")).startswith("apache/kafka:")}
    assert all(s["image"].startswith("apache/kafka:3.9.") for s in kafkas.values())
    assert all("controller" in s["environment"]["KAFKA_PROCESS_ROLES"] for s in kafkas.values())
    assert sorted(n for n, s in kafkas.items() if "cluster" in s.get("profiles", [])) == ["kafka-2", "kafka-3"]
    ids = {s["environment"]["KAFKA_NODE_ID"] for s in kafkas.values()}
    assert len(ids) == 3
    assert services["postgres"]["image"].startswith("postgres:")


@pytest.mark.parametrize("name", [n for n in SETTINGS])
def test_environment_names_are_settings_the_service_knows(compose, name):
    if name not in compose["services"]:
        pytest.fail(f"docker-compose.yml has no service {name}")
    known = env_names(settings_class(name))
    env = compose["services"][name].get("environment") or {}
    unknown = sorted(k for k in env if k.startswith("XINFANG_") and k not in known)
    assert unknown == [], f"{name}: environment names its settings do not define: {unknown}"


def test_published_ports_match_the_services_settings_and_health_checks(compose):
    for name in ("intake", "escalation", "reporting"):
        service = compose["services"][name]
        env = service["environment"]
        port_vars = [k for k in env if k.endswith("_PORT") and k.startswith("XINFANG_")]
        assert len(port_vars) == 1, f"{name}: one port setting expected, got {port_vars}"
        port = env[port_vars[0]]
        if name != "escalation":
            assert any(str(p).endswith(f":{port}") for p in service.get("ports", [])), f"{name} does not publish {port}"
        assert f":{port}/" in " ".join(service["healthcheck"]["test"]), f"{name} health check is not on port {port}"


def test_only_intakes_and_reportings_http_ports_are_published(compose):
    published = {name: [str(p) for p in service.get("ports", [])] for name, service in compose["services"].items()
                 if service.get("ports")}
    assert published == {"intake": ["8001:8001"], "reporting": ["8002:8002"]}, published


def test_secrets_have_no_defaults(compose):
    text = COMPOSE.read_text()
    for secret in ("XINFANG_ADMIN_TOKEN", "XINFANG_MASTER_KEY", "POSTGRES_PASSWORD"):
        assert re.search(r"\$\{" + secret + r":\?", text), f"{secret} must be required, not defaulted"
    assert (ROOT / "Dockerfile").exists() and isinstance(CommonSettings, type)




# ---- the city deployment: deploy/compose/city.yml ----


@pytest.fixture(scope="module")
def city_compose() -> dict:
    return yaml.safe_load(CITY_COMPOSE.read_text())


def test_the_city_runs_kafka_3_9_and_the_distributions_mirrormaker_from_a_generated_configuration(city_compose):
    services = city_compose["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:3.9.") and "controller" in \
        services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    mirror, config = services["mirrormaker"], services["mirror-config"]
    assert mirror["image"] == services["kafka"]["image"]  # MirrorMaker of the same Kafka release
    assert mirror["command"][0].endswith("/connect-mirror-maker.sh")
    assert config["command"][:4] == ["python", "-m", "xinfang.city", "mm2-config"]
    generated = config["command"][config["command"].index("--out") + 1]
    assert mirror["command"][1] == generated
    assert mirror["depends_on"]["mirror-config"]["condition"] == "service_completed_successfully"
    assert services["postgres"]["image"].startswith("postgres:")


def test_the_mirrormaker_health_check_is_on_the_listener_the_city_file_gives_it(city_compose):
    check = " ".join(city_compose["services"]["mirrormaker"]["healthcheck"]["test"])
    assert "/dev/tcp/127.0.0.1/8090" in check
    assert "mirror.listener http://:8090" in CITY_COMPOSE.read_text()


def test_the_city_file_and_the_password_have_no_defaults(city_compose):
    text = CITY_COMPOSE.read_text()
    for required in ("XINFANG_CITY_FILE", "POSTGRES_PASSWORD"):
        assert re.search(r"\$\{" + required + r":\?", text), f"{required} must be required, not defaulted"
    mounts = city_compose["services"]["mirror-config"]["volumes"]
    assert "../cities:/app/deploy/cities:ro" in mounts and (CITY_COMPOSE.parent / "../cities").resolve().is_dir()


def test_the_city_runs_the_reporting_service_in_city_mode_over_the_city_file_and_its_county_files(city_compose):
    services = city_compose["services"]
    reporting, env = services["reporting"], services["reporting"]["environment"]
    assert reporting["command"] == ["python", "-m", "reporting"] and env["XINFANG_REPORTING_MODE"] == "city"
    assert env["XINFANG_CITY_FILE"].startswith("/app/deploy/cities/${XINFANG_CITY_FILE:?")
    assert {"../cities:/app/deploy/cities:ro", "../counties:/app/deploy/counties:ro"} <= set(reporting["volumes"])
    assert reporting["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert services["topics"]["command"] == ["python", "-m", "xinfang.topics"]
    assert "postgres:5432/xinfang_reporting" in env["XINFANG_DATABASE_URL"]
    # the demo city's county files resolve where the service mounts them: ../counties beside ../cities
    from xinfang.city import load_city
    city = load_city(ROOT / "deploy" / "cities" / "demo-city.yaml")
    assert all(link.county_file.startswith("../counties/") and (ROOT / "deploy" / "counties" /
               link.county_file.removeprefix("../counties/")).is_file() for link in city.counties)
