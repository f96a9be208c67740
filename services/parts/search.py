"""The parts catalogue's SearchIndex port and its two adapters, as AIR's: tantivy in-process (the embedded
default; the parts service is its only writer, one index per catalogue version) and Elasticsearch (production).
Both pass the adapters test of tests/integration/test_parts_catalogue.py.

What is searched is a catalogue row (one callout of one illustration): its part's names in English and German,
forgiving a typo (one edit in a word of 4 letters or more, two in one of 8 or more), narrowed to the rows that fit
a car as the row's validity says (series, model, engine, production date, the options of its order). Queries come
in as words and a car, never as text an engine parses."""
import re
from dataclasses import dataclass

from services.shared.search import ElasticsearchStore

ANY = "*"  # an empty list in a row's validity: every series (model, engine)
EARLIEST, LATEST = 0, 99991231
NAME_FIELDS = ("name_en", "name_de")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text):
    """Lower-case words as both engines' standard analysers cut them; at most 8."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:8]


def fuzziness(word):
    return 2 if len(word) >= 8 else 1 if len(word) >= 4 else 0


def day(iso, default):
    return int(iso.replace("-", "")) if iso else default


def entry(row, part, illustration):
    """A catalogue row as both engines index it."""
    v = row.validity
    return {"id": str(row.id), "number": row.number, "name_en": part.name_en, "name_de": part.name_de,
            "illustration": illustration.id, "title_en": illustration.title_en, "title_de": illustration.title_de,
            "callout": row.callout, "series": drawn_for(v, illustration), "models": v.get("models") or [ANY],
            "engines": v.get("engines") or [ANY], "produced_from": day(v.get("produced_from"), EARLIEST),
            "produced_until": day(v.get("produced_until"), LATEST), "with_options": v.get("with_options") or [],
            "without_options": v.get("without_options") or []}


def drawn_for(validity, illustration):
    """The series a row is for: its illustration's (a row naming other series only is for none)."""
    series = illustration.series
    return [series] if not validity.get("series") or series in validity["series"] else ["-"]


@dataclass
class Hit:
    row: str
    number: str
    name_en: str
    name_de: str
    illustration: str
    title_en: str
    title_de: str
    callout: int


@dataclass
class Results:
    total: int
    hits: list


class PartsIndex:
    """The port. `options`: every option code the catalogue's rows ask for (what a car may lack)."""

    def upsert(self, entries):  # pragma: no cover - the port
        raise NotImplementedError

    def refresh(self):  # pragma: no cover
        raise NotImplementedError

    def count(self):  # pragma: no cover
        raise NotImplementedError

    def search(self, terms, car=None, series=None, options=(), offset=0, limit=20):  # pragma: no cover
        """Rows whose part's name holds every term (or a word one or two edits from it), best first, that fit
        `car` (a domain.Car) when one is given, else are drawn for `series` when that is."""
        raise NotImplementedError

    def close(self):
        pass


def _hit(source):
    return Hit(source["id"], source["number"], source["name_en"], source["name_de"], source["illustration"],
               source["title_en"], source["title_de"], int(source["callout"]))


# ---- tantivy ---------------------------------------------------------------------------------------------------

class TantivyParts(PartsIndex):
    """In-process, on a folder (or in memory when `path` is None)."""

    def __init__(self, path=None, heap_bytes=64_000_000):
        import tantivy
        self.t = tantivy
        b = tantivy.SchemaBuilder()
        for name in ("id", "number", "illustration", "title_en", "title_de"):
            b.add_text_field(name, stored=True, tokenizer_name="raw")
        for name in NAME_FIELDS:
            b.add_text_field(name, stored=True)
        for name in ("series", "models", "engines", "with_options", "without_options"):
            b.add_text_field(name, tokenizer_name="raw")
        b.add_integer_field("callout", stored=True)
        for name in ("produced_from", "produced_until"):
            b.add_integer_field(name, indexed=True, fast=True)
        self.schema = b.build()
        if path is not None:
            from pathlib import Path
            Path(path).mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=None if path is None else str(path))
        self.heap_bytes = heap_bytes
        self._writer = None

    @property
    def writer(self):
        if self._writer is None:
            self._writer = self.index.writer(self.heap_bytes, 1)
        return self._writer

    def upsert(self, entries):
        for e in entries:
            self.writer.add_document(self.t.Document.from_dict(e, self.schema))

    def refresh(self):
        self.writer.commit()
        self.index.reload()

    def count(self):
        return self.index.searcher().num_docs

    def close(self):
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None

    def _query(self, terms, car, series, options):
        Q, Occur = self.t.Query, self.t.Occur
        clauses = []
        for term in terms:
            should = []
            for name in NAME_FIELDS:
                should.append((Occur.Should, Q.boost_query(Q.term_query(self.schema, name, term), 2.0)))
                if fuzziness(term):
                    should.append((Occur.Should, Q.fuzzy_term_query(self.schema, name, term, fuzziness(term))))
            clauses.append((Occur.Must, Q.boolean_query(should)))
        if car is not None:
            for name, value in (("series", car.series), ("models", car.model_code), ("engines", car.engine_code)):
                clauses.append((Occur.Must, Q.term_set_query(self.schema, name, [value, ANY])))
            built, integer = domain_day(car), self.t.FieldType.Integer
            clauses.append((Occur.Must, Q.range_query(self.schema, "produced_from", integer, EARLIEST, built)))
            clauses.append((Occur.Must, Q.range_query(self.schema, "produced_until", integer, built, LATEST)))
            lacking = sorted(set(options) - set(car.options))
            if lacking:
                clauses.append((Occur.MustNot, Q.term_set_query(self.schema, "with_options", lacking)))
            if car.options:
                clauses.append((Occur.MustNot, Q.term_set_query(self.schema, "without_options", list(car.options))))
        elif series is not None:
            clauses.append((Occur.Must, Q.term_set_query(self.schema, "series", [series, ANY])))
        if not any(occur == Occur.Must for occur, _ in clauses):
            clauses.append((Occur.Must, Q.all_query()))
        return Q.boolean_query(clauses)

    def search(self, terms, car=None, series=None, options=(), offset=0, limit=20):
        searcher = self.index.searcher()
        found = searcher.search(self._query(terms, car, series, options), limit=limit, offset=offset, count=True)
        hits = []
        for _, address in found.hits:
            doc = searcher.doc(address)
            hits.append(_hit({name: doc.get_first(name) for name in (
                "id", "number", "name_en", "name_de", "illustration", "title_en", "title_de", "callout")}))
        return Results(found.count, hits)


def domain_day(car):
    d = car.production_date
    return d.year * 10000 + d.month * 100 + d.day


# ---- Elasticsearch ---------------------------------------------------------------------------------------------

MAPPING = {"properties": {
    "id": {"type": "keyword"}, "number": {"type": "keyword"}, "illustration": {"type": "keyword"},
    "title_en": {"type": "keyword"}, "title_de": {"type": "keyword"}, "name_en": {"type": "text"},
    "name_de": {"type": "text"}, "series": {"type": "keyword"}, "models": {"type": "keyword"},
    "engines": {"type": "keyword"}, "with_options": {"type": "keyword"}, "without_options": {"type": "keyword"},
    "callout": {"type": "integer"}, "produced_from": {"type": "integer"}, "produced_until": {"type": "integer"}}}


class ElasticsearchParts(ElasticsearchStore, PartsIndex):
    def __init__(self, url, index, plain_json=False, timeout=10):
        super().__init__(url, index, MAPPING, plain_json, timeout)

    def drop(self):
        self.es.indices.delete(index=self.name, ignore_unavailable=True)

    @staticmethod
    def _query(terms, car, series, options):
        must, must_not = [], []
        for term in terms:
            should = [{"term": {name: {"value": term, "boost": 2.0}}} for name in NAME_FIELDS]
            if fuzziness(term):
                should += [{"fuzzy": {name: {"value": term, "fuzziness": fuzziness(term)}}} for name in NAME_FIELDS]
            must.append({"bool": {"should": should, "minimum_should_match": 1}})
        filters = []
        if car is not None:
            filters += [{"terms": {name: [value, ANY]}} for name, value in
                        (("series", car.series), ("models", car.model_code), ("engines", car.engine_code))]
            built = domain_day(car)
            filters += [{"range": {"produced_from": {"lte": built}}}, {"range": {"produced_until": {"gte": built}}}]
            lacking = sorted(set(options) - set(car.options))
            if lacking:
                must_not.append({"terms": {"with_options": lacking}})
            if car.options:
                must_not.append({"terms": {"without_options": list(car.options)}})
        elif series is not None:
            filters.append({"terms": {"series": [series, ANY]}})
        return {"bool": {"must": must or [{"match_all": {}}], "filter": filters, "must_not": must_not}}

    def search(self, terms, car=None, series=None, options=(), offset=0, limit=20):
        found = self.es.search(index=self.name, query=self._query(terms, car, series, options), from_=offset,
                               size=limit,
                               track_total_hits=True)
        return Results(found["hits"]["total"]["value"], [_hit(h["_source"]) for h in found["hits"]["hits"]])


def for_catalogue(settings, catalogue_id):
    """The index of one catalogue version, as the settings name the engine."""
    if settings.engine == "tantivy":
        return TantivyParts(settings.index_path(catalogue_id))
    return ElasticsearchParts(settings.elasticsearch_url, f"{settings.elasticsearch_index}-{catalogue_id.lower()}",
                              plain_json=settings.plain_json)

