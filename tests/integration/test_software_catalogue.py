"""The software catalogue and the agent's downloads: a catalogue with a forged or damaged file is refused whole
and stores nothing; a good one lands in object storage under its hash; the agent resumes a partial download
with a Range request and throws away a file that is not the manufacturer's."""
import json

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.cli import Agent
from deploy import software
from automotive import manifest
from services.programming import catalog
from services.programming.models import Package
from services.programming.use_cases import package_key
from services.shared.database import make_engine
from deploy import vehicles

VEHICLES = vehicles.generate(2, seed=5)["vehicles"]


@pytest.fixture
def engine(database_urls):
    e = make_engine(database_urls["programming"])
    yield e
    e.dispose()


def packages(engine):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Package))


def test_a_forged_or_damaged_catalogue_is_refused_whole(tmp_path, engine, store):
    key = software.new_key()
    count = software.generate(tmp_path, key, VEHICLES, image_bytes=2048)
    document = json.loads((tmp_path / "catalog.json").read_text())
    document["packages"][0]["signature"] = software.sign(software.new_key(), manifest.describe(
        b"x", "0x10", ["1"], "v", "l"))  # somebody else's key
    damaged = tmp_path / document["packages"][1]["file"]
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\x00")
    document["packages"][2]["ecu_address"] = "12"
    (tmp_path / "catalog.json").write_text(json.dumps(document))
    with pytest.raises(catalog.Refused) as refused:
        catalog.import_catalog(tmp_path, engine, store, key.public_key())
    problems = [str(p) for p in refused.value.problems]
    assert len(problems) == 3 and "packages.0: signature" in problems[0] and "packages.1: signature" in problems[1]
    assert "packages.2: ecu_address" in problems[2]
    assert packages(engine) == 0 and not list(store.client.list_objects(store.bucket, recursive=True))
    good = tmp_path / "good"
    assert software.generate(good, key, VEHICLES, image_bytes=2048) == count
    assert catalog.import_catalog(good, engine, store, key.public_key()) == count == packages(engine)
    assert catalog.import_catalog(good, engine, store, key.public_key()) == 0  # again: nothing new


def test_the_agent_resumes_a_download_and_rejects_a_file_that_is_not_genuine(tmp_path, engine, store, monkeypatch):
    answers = []
    real_get = requests.get

    def get(url, **kwargs):
        answer = real_get(url, **kwargs)
        answers.append((kwargs.get("headers", {}).get("Range"), answer.status_code))
        return answer
    monkeypatch.setattr("agent.cli.requests.get", get)
    key = software.new_key()
    software.generate(tmp_path / "software", key, VEHICLES[:1], image_bytes=300_000)
    catalog.import_catalog(tmp_path / "software", engine, store, key.public_key())
    with Session(engine) as s:
        package = s.scalars(select(Package)).first()
    file = {"package_id": package.id, "manifest": package.manifest, "signature": package.signature,
            "url": store.signed_url(package_key(package.sha256), 60)}
    agent = Agent("http://127.0.0.1:1", "a", "c", "127.0.0.1:13400", key.public_key(), tmp_path / "agent")
    image = store.get(package_key(package.sha256))
    partial = tmp_path / "agent" / f"{package.sha256}.part"
    partial.write_bytes(image[:100_000])  # the agent died here last time
    assert agent.fetch(file) is None
    assert answers == [("bytes=100000-", 206)]  # only the rest came over the wire
    assert (tmp_path / "agent" / f"{package.sha256}.bin").read_bytes() == image and not partial.exists()
    stranger = Agent("http://127.0.0.1:1", "a", "c", "127.0.0.1:13400", software.new_key().public_key(),
                     tmp_path / "stranger")
    assert stranger.fetch(file) == "signature"
    assert not (tmp_path / "stranger" / f"{package.sha256}.bin").exists()
