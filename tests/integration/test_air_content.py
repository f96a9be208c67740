"""Content packages: a bad one is refused whole with every problem named and nothing stored; a good one is
imported idempotently, folder or zip, its binaries under their SHA-256; the search index catches up from the
documents' revisions."""
import hashlib
import json
import shutil
import zipfile

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.air import content, domain, search

from deploy import corpus
from services.shared.importer import REFUSED
from services.air.dependencies import catch_up
from services.air.models import Document
from services.shared.database import make_engine


@pytest.fixture
def air_db(database_urls):
    engine = make_engine(database_urls["air"])
    yield engine
    engine.dispose()


@pytest.fixture
def package(tmp_path):
    folder = tmp_path / "library"
    corpus.write(folder, 300)
    return folder


def rewrite(folder, change):
    """Apply `change(list of documents)` to the package's documents.jsonl."""
    path = folder / "documents.jsonl"
    docs = [json.loads(line) for line in path.read_text().splitlines()]
    change(docs)
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))


def count(engine):
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Document))


def test_a_bad_package_is_refused_whole_with_every_problem_named(air_db, store, package):
    def spoil(docs):
        docs[3]["type"] = "novel"
        docs[4]["system"] = "99"
        del docs[5]["title"]
        docs[6]["applicability"] = {"produced_from": "2024-01-01", "produced_until": "2020-01-01"}
        docs[7]["codes"] = ["X123"]
        docs[8]["id"] = docs[9]["id"]
        wiring = [d for d in docs if d["type"] == "wiring_diagram"]
        wiring[0]["binaries"] = [{"file": "binaries/missing.svg"}]
        wiring[1]["binaries"] = [{"file": "binaries/../../etc/passwd.svg"}]
    rewrite(package, spoil)
    with open(package / "documents.jsonl", "a") as handle:
        handle.write("{not json\n")
    with pytest.raises(content.Refused) as refused:
        content.import_package(package, air_db, store)
    rules = {p.rule for p in refused.value.problems}
    fields = {p.field for p in refused.value.problems}
    assert {"type", "system", "title", "applicability.produced_until", "codes.0", "id", "binaries.0.file", "-"} <= fields
    assert refused.value.total == len(refused.value.problems) == 9, rules
    assert {"appears twice: first on line 9", "binaries/missing.svg is not in the package",
            "must stay inside the package: no .. in the path"} <= rules
    assert all(p.file.startswith("documents.jsonl:") for p in refused.value.problems)
    assert count(air_db) == 0 and not list(store.client.list_objects(store.bucket, recursive=True))


def test_a_missing_or_wrong_manifest_is_named(air_db, store, package):
    manifest = json.loads((package / "manifest.json").read_text())
    (package / "manifest.json").write_text(json.dumps(dict(manifest, format="other/9", name="Bad Name")))
    with pytest.raises(content.Refused) as refused:
        content.import_package(package, air_db, store)
    assert {p.field for p in refused.value.problems} == {"format", "name"}
    (package / "manifest.json").unlink()
    with pytest.raises(content.Refused):
        content.import_package(package, air_db, store)
    assert content.main(["check", str(package)]) == REFUSED and count(air_db) == 0


def test_import_is_idempotent_and_newer_versions_update(air_db, store, package, tmp_path):
    first = content.import_package(package, air_db, store)
    assert (first.created, first.updated, first.unchanged) == (300, 0, 0)
    wiring = [json.loads(line) for line in (package / "documents.jsonl").read_text().splitlines()
              if '"wiring_diagram"' in line]
    svg = (package / wiring[0]["binaries"][0]["file"]).read_bytes()
    assert store.get(content.blob_key(hashlib.sha256(svg).hexdigest())) == svg

    again = content.import_package(package, air_db, store)
    assert (again.created, again.updated, again.unchanged, again.binaries_stored) == (0, 0, 300, 0)
    assert count(air_db) == 300

    index = search.TantivyIndex(tmp_path / "index")
    Session = sessionmaker(air_db)
    assert catch_up(index, Session, batch=64) == 300 and index.count() == 300

    def newer(docs):
        docs[0].update(version=2, title="P0300 Random or multiple cylinder misfire (revised)")
        docs[1].update(version=0 + 1)  # the same version: unchanged
    rewrite(package, newer)
    zipped = shutil.make_archive(str(tmp_path / "library"), "zip", package)
    assert zipfile.is_zipfile(zipped)
    update = content.import_package(zipped, air_db, store)
    assert (update.created, update.updated, update.unchanged) == (0, 1, 299) and count(air_db) == 300

    def older(docs):
        docs[0]["version"] = 1
    rewrite(package, older)
    assert content.import_package(package, air_db, store).older == 1

    assert catch_up(index, Session) == 1 and index.count() == 300
    titles = [h.title for h in index.search(domain.read_text("revised"), domain.Filters()).hits]
    assert titles == ["P0300 Random or multiple cylinder misfire (revised)"]
    index.close()
