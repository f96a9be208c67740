"""The SearchIndex contract: every adapter ranks, filters, counts, highlights and completes the same way.
tantivy runs in-process; the Elasticsearch adapter runs against osmem-server (an in-memory server speaking the
Elasticsearch REST API), with the plain-JSON node it needs."""
import uuid
from datetime import date
from types import SimpleNamespace

import pytest

from services.air import domain, search

G20 = domain.Vehicle("WBA5F31000X000001", "G20", "5F31", "B48B20", date(2021, 5, 1))
F40 = domain.Vehicle("WBA7K11000X000002", "F40", "7K11", "B38A15", date(2020, 3, 1))


def doc(id, title, text, type="repair_instruction", system="12", codes=(), series=(), engines=(), models=(),
        produced_from=None, produced_until=None, language="en", revision=1):
    return SimpleNamespace(id=id, type=type, system=system, language=language, title=title, codes=list(codes),
                           body={"summary": text}, revision=revision,
                           applicability={"series": list(series), "engine_codes": list(engines),
                                          "model_codes": list(models), "produced_from": produced_from,
                                          "produced_until": produced_until})


LIBRARY = [
    doc("DTC-P0301", "P0301 Cylinder 1 Misfire Detected", "The engine control module detected a misfire in "
        "cylinder 1.", type="fault_code", codes=["P0301"], revision=1),
    doc("DTC-P0302", "P0302 Cylinder 2 Misfire Detected", "Misfire in cylinder 2 detected; cylinder 1 is fine.",
        type="fault_code", codes=["P0302"], revision=2),
    doc("RI-COIL-1", "Replace ignition coil, cylinder 1 (B48B20)", "Symptom: misfire in cylinder 1. Remove the "
        "engine cover, unclip the coil, pull it out. Torque 8 Nm.", series=["G20"], engines=["B48B20"], revision=3),
    doc("RI-COIL-1-B38", "Replace ignition coil, cylinder 1 (B38A15)", "Symptom: misfire in cylinder 1 on the "
        "three-cylinder engine.", series=["F40"], engines=["B38A15"], revision=4),
    doc("RI-PADS", "Replace front brake pads", "Brake pads worn: replace both sides, reset the wear sensor.",
        system="34", revision=5),
    doc("WD-IGN-G20", "Wiring diagram: ignition and injection (B48B20)", "Connectors of the ignition coils and "
        "injectors.", type="wiring_diagram", series=["G20"], engines=["B48B20"], revision=6),
    doc("SI-OLD", "Bulletin: misfire after cold start", "Program the engine control module.",
        type="service_bulletin", series=["G20"], produced_until="2019-12-31", revision=7),
    doc("TD-DE", "Technische Daten Motor", "Zündspule Anzugsdrehmoment 8 Nm.", type="technical_data", system="11",
        language="de", revision=8),
] + [doc(f"RI-FILLER-{i:02d}", f"Check coolant level, bay {chr(65 + i)}", "Coolant level between min and max when cold.",
         system="17", revision=9 + i) for i in range(25)]


@pytest.fixture(params=["tantivy", "elasticsearch"])
def index(request, tmp_path):
    if request.param == "tantivy":
        engine = search.TantivyIndex(tmp_path / "index")
    else:
        clone = request.getfixturevalue("osmem_clone")
        engine = search.ElasticsearchIndex(clone.url, index=f"air-{uuid.uuid4().hex[:8]}", plain_json=True)
    engine.upsert([search.entry(d) for d in LIBRARY])
    engine.refresh()
    yield engine
    engine.close()


def ids(results):
    return [h.id for h in results.hits]


def find(index, text, filters=domain.Filters(), **kw):
    return index.search(domain.read_text(text), filters, **kw)


def test_title_words_rank_first_and_every_hit_is_counted(index):
    found = find(index, "misfire cylinder 1")
    assert ids(found)[0] == "DTC-P0301"
    assert set(ids(found)[:4]) >= {"DTC-P0301", "RI-COIL-1"}
    assert found.total == 5  # four misfire documents and the bulletin


def test_a_fault_code_ranks_its_description_first(index):
    found = find(index, "p0302")
    assert ids(found)[0] == "DTC-P0302"
    assert ids(find(index, "misfire P0301"))[0] == "DTC-P0301"


def test_one_typo_still_finds_the_word(index):
    assert ids(find(index, "brak pds"))[0] == "RI-PADS"
    assert "RI-PADS" in ids(find(index, "brkae"))  # a transposition is one edit
    assert find(index, "brxxk").total == 0  # two edits is another word


def test_a_quoted_phrase_must_appear_as_typed(index):
    assert set(ids(find(index, '"ignition coil"'))) == {"RI-COIL-1", "RI-COIL-1-B38"}
    assert find(index, '"coil ignition"').total == 0


def test_filters_by_type_system_language_and_vehicle(index):
    assert set(ids(find(index, "misfire", domain.Filters(types=("fault_code",))))) == {"DTC-P0301", "DTC-P0302"}
    assert set(ids(find(index, "replace", domain.Filters(systems=("34",))))) == {"RI-PADS"}
    assert ids(find(index, "motor", domain.Filters(language="de"))) == ["TD-DE"]
    g20 = set(ids(find(index, "misfire cylinder 1", domain.Filters(vehicle=G20))))
    assert g20 == {"DTC-P0301", "DTC-P0302", "RI-COIL-1"}  # not the B38 coil, not the bulletin for cars up to 2019
    assert "RI-COIL-1-B38" in ids(find(index, "misfire cylinder 1", domain.Filters(vehicle=F40)))


def test_facet_counts_cover_every_hit(index):
    found = find(index, "misfire cylinder")
    assert found.facets["type"] == {"fault_code": 2, "repair_instruction": 2, "service_bulletin": 1}
    assert found.facets["system"] == {"12": 5}


def test_highlights_mark_the_words_that_matched(index):
    hit = next(h for h in find(index, "misfire cylnder").hits if h.id == "DTC-P0301")
    assert hit.title_html == "P0301 <mark>Cylinder</mark> 1 <mark>Misfire</mark> Detected"
    assert "<mark>misfire</mark> in <mark>cylinder</mark> 1" in hit.snippet
    bare = find(index, "misfire", highlight=False).hits[0]
    assert bare.snippet is None and bare.title_html is None


def test_pages_do_not_overlap_and_end(index):
    first = find(index, "coolant", limit=10)
    second = find(index, "coolant", offset=10, limit=10)
    third = find(index, "coolant", offset=20, limit=10)
    assert first.total == 25 and len(third.hits) == 5
    assert not set(ids(first)) & set(ids(second)) and not set(ids(second)) & set(ids(third))


def test_prefix_completion_of_titles(index):
    titles = [t for _, t in index.suggest("ignition co", domain.Filters())]
    assert sorted(titles) == ["Replace ignition coil, cylinder 1 (B38A15)", "Replace ignition coil, cylinder 1 (B48B20)"]
    assert [t for _, t in index.suggest("replace ignition co", domain.Filters(vehicle=G20))] == [
        "Replace ignition coil, cylinder 1 (B48B20)"]


def test_user_text_is_text_not_query_syntax(index):
    for text in ('title:(misfire AND', 'misfire* ~2 OR "', r'\\ / [ ] { } ^ -cylinder +1', "NOT misfire"):
        found = find(index, text)
        assert found.total >= 1  # misfire (or cylinder) found as a word, nothing parsed


def test_a_new_version_replaces_the_old_and_the_revision_grows(index):
    assert index.revision() == len(LIBRARY) and index.count() == len(LIBRARY)
    index.upsert([search.entry(doc("RI-PADS", "Replace front brake pads and discs", "Pads and discs.", system="34",
                                   revision=100))])
    index.refresh()
    assert index.count() == len(LIBRARY) and index.revision() == 100
    assert [h.title for h in find(index, "discs").hits] == ["Replace front brake pads and discs"]


def test_a_withdrawn_document_leaves_the_index_and_an_unknown_one_is_no_error(index):
    assert ids(find(index, "discs")) == [] and "RI-PADS" in ids(find(index, "brake pads"))
    index.delete(["RI-PADS", "NOT-THERE"])
    index.refresh()
    assert "RI-PADS" not in ids(find(index, "brake pads")) and index.count() == len(LIBRARY) - 1


def test_the_navigation_tree_counts_by_main_group_and_type(index):
    tree = index.tree(domain.Filters())
    assert tree["12"] == {"fault_code": 2, "repair_instruction": 2, "wiring_diagram": 1, "service_bulletin": 1}
    assert tree["17"] == {"repair_instruction": 25}
    for_g20 = index.tree(domain.Filters(vehicle=G20))
    assert for_g20["12"] == {"fault_code": 2, "repair_instruction": 1, "wiring_diagram": 1}
