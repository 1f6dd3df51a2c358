"""The city file and the MirrorMaker 2 configuration generated from it (no broker, no MirrorMaker)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from xinfang.city import CityConfigError, load_city, main, mm2_properties, not_running
from xinfang.settings import ROOT

DEMO = ROOT / "deploy" / "cities" / "demo-city.yaml"
TOPICS = ["petition.events", "petition.routing"]
MINI = """code: "361400000000"
name: 青岚市
kafka: {bootstrap: "127.0.0.1:9392", replication_factor: 1}
counties:
  - {alias: linxi, code: "361402000000", name: 临溪区, bootstrap: "127.0.0.1:9092"}
  - {alias: songxi, code: "361403000000", name: 松溪县, bootstrap: "127.0.0.1:9492"}
"""


def properties(text: str) -> dict[str, str]:
    """The generated file as java.util.Properties reads it (key = value lines, ``\\\\`` for a backslash)."""
    found = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip().replace("\\\\", "\\")
    return found


def mirrored(props: dict[str, str], flow: str, topic: str) -> bool:
    """Whether MirrorMaker's topic filter (a list of regular expressions, each matched whole) takes ``topic``."""
    patterns = [p.strip() for p in props[f"{flow}.topics"].split(",")]
    return any(re.fullmatch(p, topic) for p in patterns)


@pytest.fixture(scope="module")
def demo():
    return load_city(DEMO)


def test_the_demo_city_has_two_counties_of_its_own_under_their_aliases(demo):
    assert [c.alias for c in demo.counties] == ["linxi", "songxi"]
    assert all(c.code.startswith(demo.code[:4]) for c in demo.counties)
    assert demo.remote_topic("linxi", "petition.events") == "linxi.petition.events"


def test_each_county_flows_into_the_city_and_nowhere_else(demo):
    props = properties(mm2_properties(demo, TOPICS))
    assert props["clusters"] == "city, linxi, songxi"
    assert props["city.bootstrap.servers"] == "127.0.0.1:9392"
    assert props["linxi.bootstrap.servers"] == "127.0.0.1:9092"
    flows = sorted(k.removesuffix(".enabled") for k, v in props.items() if re.fullmatch(r"[a-z]+->[a-z]+\.enabled", k)
                   and v == "true")
    assert flows == ["linxi->city", "songxi->city"]
    heartbeats = sorted(k for k, v in props.items() if k.endswith("emit.heartbeats.enabled") and v == "true")
    assert heartbeats == ["linxi->city.emit.heartbeats.enabled", "songxi->city.emit.heartbeats.enabled"]
    assert props["emit.heartbeats.enabled"] == "false"  # else MirrorMaker writes heartbeats into every county
    assert props["offset-syncs.topic.location"] == "target"  # the counties are only read


def test_only_the_two_history_topics_are_mirrored(demo):
    props = properties(mm2_properties(demo, TOPICS))
    for flow in ("linxi->city", "songxi->city"):
        assert mirrored(props, flow, "petition.events") and mirrored(props, flow, "petition.routing")
        for other in ("petition.deadletter", "xinfang.terminals", "petitionXevents", "petition.events.old"):
            assert not mirrored(props, flow, other), other


def test_exactly_once_into_the_city_with_committed_reads_from_the_counties(demo):
    props = properties(mm2_properties(demo, TOPICS))
    assert props["city.exactly.once.source.support"] == "enabled"
    assert props["dedicated.mode.enable.internal.rest"] == "true"
    assert props["listeners"] == "http://127.0.0.1:8090"
    assert props["linxi.consumer.isolation.level"] == props["songxi.consumer.isolation.level"] == "read_committed"
    off = demo.model_copy(update={"mirror": demo.mirror.model_copy(update={"exactly_once": False})})
    assert "city.exactly.once.source.support" not in properties(mm2_properties(off, TOPICS))


def test_every_topic_mirrormaker_creates_has_the_citys_replication_factor(demo):
    props = properties(mm2_properties(demo, TOPICS))
    factors = {k: v for k, v in props.items() if k.endswith("replication.factor")}
    assert len(factors) == 7 and set(factors.values()) == {"1"}


def test_topic_names_come_from_the_caller_and_overrides_come_last(demo):
    text = mm2_properties(demo, ["petition.events.t1", "petition.routing.t1"], {"emit.checkpoints.interval.seconds": "1"})
    props = properties(text)
    assert mirrored(props, "linxi->city", "petition.events.t1") and not mirrored(props, "linxi->city", "petition.events")
    assert text.rstrip().endswith("emit.checkpoints.interval.seconds = 1")


def test_adding_a_county_is_an_entry_in_the_file(tmp_path):
    path = tmp_path / "city.yaml"
    path.write_text(MINI + '  - {alias: beishan, code: "361404000000", name: 北山县, bootstrap: "10.0.4.9:9092"}\n')
    props = properties(mm2_properties(load_city(path), TOPICS))
    assert props["beishan->city.enabled"] == "true" and props["beishan.bootstrap.servers"] == "10.0.4.9:9092"


def refused(tmp_path: Path, text: str) -> str:
    path = tmp_path / "city.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CityConfigError) as caught:
        load_city(path)
    return str(caught.value)


@pytest.mark.parametrize("case", [
    ("duplicate alias", MINI.replace("alias: songxi", "alias: linxi"), ":6: counties[1].alias: 重复的别名"),
    ("dotted alias", MINI.replace("alias: songxi", "alias: song.xi"), ":6: counties[1].alias: 格式不符"),
    ("city's alias", MINI.replace("alias: songxi", "alias: city"), ":6: counties[1].alias: 县的别名不能与市相同"),
    ("not of this city", MINI.replace("361403000000", "420102000000"), ":6: counties[1].code: 不是本市所辖的县"),
    ("the city itself", MINI.replace("361403000000", "361400000000"), ":6: counties[1].code: 不是本市所辖的县"),
    ("same Kafka twice", MINI.replace("127.0.0.1:9492", "127.0.0.1:9092"), ":6: counties[1].bootstrap: 重复的Kafka 地址"),
    ("the city's Kafka", MINI.replace("127.0.0.1:9492", "127.0.0.1:9392"), ":6: counties[1].bootstrap: 县的 Kafka 不能是市的"),
    ("bad bootstrap", MINI.replace("127.0.0.1:9492", "kafka"), ":6: counties[1].bootstrap: 格式不符"),
    ("no counties", MINI.split("counties:")[0] + "counties: []\n", ":4: counties: 条目太少"),
    ("unknown key", MINI.replace("name: 青岚市", "name: 青岚市\nmirrors: 2"), ":3: mirrors: 未知的字段"),
    ("no Kafka", MINI.replace('kafka: {bootstrap: "127.0.0.1:9392", replication_factor: 1}\n', ""), "kafka: 缺少必填项"),
], ids=lambda case: case[0])
def test_a_bad_city_file_is_refused_with_line_and_reason(tmp_path, case):
    _, text, expected = case
    assert expected in refused(tmp_path, text)


def test_the_command_writes_the_configuration_or_refuses_the_file(tmp_path, capsys):
    out = tmp_path / "mm2.properties"
    assert main(["mm2-config", str(DEMO), "--out", str(out), "--set", "tasks.max=2"]) == 0
    assert properties(out.read_text())["linxi->city.enabled"] == "true"
    assert out.read_text().rstrip().endswith("tasks.max = 2")
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINI.replace("alias: songxi", "alias: linxi"), encoding="utf-8")
    assert main(["mm2-config", str(bad)]) == 1
    assert "重复的别名 duplicate alias 'linxi'" in capsys.readouterr().err


def test_a_flow_runs_when_its_three_connectors_and_their_tasks_do():
    running = {name: "RUNNING" for name in ("MirrorSourceConnector", "MirrorCheckpointConnector",
                                            "MirrorHeartbeatConnector", "MirrorSourceConnector-0",
                                            "MirrorHeartbeatConnector-0")}
    assert not_running({"linxi": running}) == []  # no checkpoint task while the county has no consumer group
    failed = {**running, "MirrorSourceConnector-0": "FAILED"}
    assert not_running({"linxi": running, "songxi": failed}) == ["songxi: MirrorSourceConnector-0 FAILED"]
    assert not_running({"linxi": {**running, "MirrorCheckpointConnector-0": "UNASSIGNED"}}) == [
        "linxi: MirrorCheckpointConnector-0 UNASSIGNED"]
    assert "linxi: MirrorHeartbeatConnector not reported" in not_running({"linxi": {}})
    assert "linxi: MirrorSourceConnector-0 not reported" in not_running({"linxi": {}})


def test_deploy_mirror_refuses_a_bad_city_file_before_it_starts_anything(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINI.replace("alias: songxi", "alias: linxi"), encoding="utf-8")
    done = subprocess.run(["bash", str(ROOT / "deploy" / "mirror.sh"), "start", "--city", str(bad), "--dir",
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "bad.yaml:6: counties[1].alias: 重复的别名" in done.stderr and "is refused" in done.stderr
    assert not (tmp_path / "run" / "mirror.pid").exists()


# ---- the city's tree, for the city's figures (reporting in city mode) ----

def _city_of(tmp_path: Path, numbers=(2, 3), edit=None) -> Path:
    from support.city import county_file
    from support.mirror import city_file

    files = {f"c{n}": county_file(tmp_path / f"c{n}.yaml", n) for n in numbers}
    if edit:
        edit(files)
    return city_file(tmp_path / "city.yaml", "127.0.0.1:1", {a: f"127.0.0.1:{2 + i}" for i, a in enumerate(files)},
                     fields={a: {"county_file": str(f)} for a, f in files.items()})


def test_the_citys_tree_holds_every_county_under_the_city_once(tmp_path):
    from xinfang.city import load_city_tree

    _, tree = load_city_tree(_city_of(tmp_path))
    assert [j.code for j in tree.descendants("361400000000") if j.tier == "county"] == ["361402000000", "361403000000"]
    assert [j.code for j in tree.jurisdictions].count("361400000000") == 1
    assert tree.in_scope("city.361400", "361403101000") and tree.in_scope("bureau.361402", "361402101000")
    assert not tree.in_scope("bureau.361402", "361403101000")  # a county bureau: its own county only
    assert tree.unit("dept03.rsj").jurisdiction == "361403000000"


def test_a_city_tree_is_refused_where_the_counties_disagree_or_a_county_file_is_missing(tmp_path):
    from xinfang.city import load_city_tree

    def same_unit_id(files):  # county 3 gives its bureau the id of county 2's
        path = files["c3"]
        path.write_text(path.read_text(encoding="utf-8").replace("bureau.361403", "bureau.361402"), encoding="utf-8")

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    with pytest.raises(CityConfigError, match="unit 'bureau.361402' is defined differently"):
        load_city_tree(_city_of(tmp_path / "a", edit=same_unit_id))
    swapped = _city_of(tmp_path / "b", edit=lambda files: files["c2"].write_bytes(files["c3"].read_bytes()))
    with pytest.raises(CityConfigError, match="counties.0.county_file: .*the county file is of 361403000000"):
        load_city_tree(swapped)
    unnamed = tmp_path / "no-county-file.yaml"  # the demo city with its first county's file not named
    unnamed.write_text(DEMO.read_text(encoding="utf-8").replace("county_file: ../counties/demo.yaml, ", "", 1),
                       encoding="utf-8")
    with pytest.raises(CityConfigError, match="counties.0.county_file: .*need the county file of linxi"):
        load_city_tree(unnamed)
    city, tree = load_city_tree(DEMO)  # the demo city names both county files: its tree holds both counties
    assert [link.alias for link in city.counties] == ["linxi", "songxi"]
    assert {tree.jurisdiction(code).name for code in ("361402000000", "361403000000")} == {"临溪区", "松溪县"}
