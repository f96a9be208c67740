"""The SearchIndex port and its two adapters: tantivy in-process (the embedded default; the air service is its
only writer) and Elasticsearch (production). Both pass tests/integration/test_search_index.py.

The index is a projection of the documents table: `entry(document)` is what each engine stores, `revision()` the
highest document revision it holds, so the library can catch up after a restart or an import.
Queries come in as domain.Words and domain.Filters, never as text an engine parses."""
import html
import math
import re
from dataclasses import dataclass, field

from services.air import domain
from services.shared.search import ElasticsearchStore, one_edit

TITLE_BOOST = 3.0
CODE_BOOST = 20.0  # "P0301" puts its fault-code description first
FUZZY_WEIGHT = 0.4  # a word one edit away counts, less than the word itself
SNIPPET_CHARS = 220
FACETS = ("type", "system")


@dataclass
class Hit:
    id: str
    type: str
    system: str
    title: str
    score: float
    title_html: str | None = None
    snippet: str | None = None


@dataclass
class Results:
    total: int
    hits: list
    facets: dict = field(default_factory=dict)  # {"type": {"fault_code": 12, ...}, "system": {...}}


def entry(document):
    """A documents-table row as both engines index it."""
    a = document.applicability
    return {"id": document.id, "type": document.type, "system": document.system, "language": document.language,
            "title": document.title, "text": body_text(document.body), "codes": [c.lower() for c in document.codes],
            "series": a.get("series") or [domain.ANY], "models": a.get("model_codes") or [domain.ANY],
            "engines": a.get("engine_codes") or [domain.ANY],
            "produced_from": _day(a.get("produced_from"), domain.EARLIEST),
            "produced_until": _day(a.get("produced_until"), domain.LATEST),
            "revision": document.revision}


def _day(iso, default):
    return int(iso.replace("-", "")) if iso else default


def body_text(body):
    """The searchable words of a structured body, in reading order."""
    parts = [body.get("summary", "")]
    for step in body.get("steps", []):
        parts.append(step["text"])
        if step.get("caution"):
            parts.append(step["caution"])
        if step.get("torque_nm"):
            parts.append(f"{step['torque_nm']:g} Nm")
    parts += [f"{d['item']} {d['value']} {d.get('unit', '')}".strip() for d in body.get("data", [])]
    parts += body.get("tools", []) + body.get("notes", [])
    return "\n".join(p for p in parts if p)


class SearchIndex:
    """The port."""

    reached = None  # the documents' revision this process caught up to (dependencies.catch_up)

    def upsert(self, entries):  # pragma: no cover - the port
        """Add or replace documents by id; visible after `refresh`."""
        raise NotImplementedError

    def refresh(self):  # pragma: no cover
        raise NotImplementedError

    def delete(self, ids):  # pragma: no cover
        """Withdrawn documents out of the index (an id it does not hold is no error)."""
        raise NotImplementedError

    def revision(self):  # pragma: no cover
        """The highest document revision indexed, 0 for an empty index."""
        raise NotImplementedError

    def count(self):  # pragma: no cover
        raise NotImplementedError

    def search(self, words, filters, offset=0, limit=10, highlight=True):  # pragma: no cover
        """Ranked Results with facet counts; snippets and highlighted titles only when `highlight`."""
        raise NotImplementedError

    def suggest(self, text, filters, limit=8):  # pragma: no cover
        """Titles that complete what was typed so far: [(id, title)]."""
        raise NotImplementedError

    def tree(self, filters):  # pragma: no cover
        """Document counts by main group and type: {system: {type: count}}."""
        raise NotImplementedError

    def close(self):
        pass


# ---- highlighting where the engine does not -------------------------------------------------------------------

def _matches(token, words):
    if token in words.terms or any(token in p for p in words.phrases):
        return True
    return len(token) >= domain.FUZZY_MIN_LENGTH and any(
        len(t) >= domain.FUZZY_MIN_LENGTH and one_edit(token, t) for t in words.terms)


_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def mark(text, words, max_chars=None):
    """HTML with <mark> around the words that matched, everything else escaped; with `max_chars`, the window of
    the text that holds the most matches. None when nothing matched (and a window was asked for)."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text) if _matches(m.group().lower(), words)]
    start, end = 0, len(text)
    if max_chars is not None:
        if not spans:
            return None
        best, best_count = spans[0][0], 0
        for s, _ in spans:
            count = sum(1 for a, b in spans if s <= a and b <= s + max_chars)
            if count > best_count:
                best, best_count = s, count
        start = max(0, text.rfind(" ", 0, max(0, best - 40)) + 1) if best > 40 else 0
        end = min(len(text), start + max_chars)
        if end < len(text):
            end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > best else end
    out, cursor = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out += [html.escape(text[cursor:s], quote=False), "<mark>", html.escape(text[s:e], quote=False), "</mark>"]
        cursor = e
    out.append(html.escape(text[cursor:end], quote=False))
    snippet = "".join(out).replace("\n", " ")
    return ("… " if start > 0 else "") + snippet + (" …" if end < len(text) else "")


# ---- tantivy ---------------------------------------------------------------------------------------------------

class TantivyIndex(SearchIndex):
    """In-process, on a folder (or in memory when `path` is None). One writer per folder: the air service."""

    def __init__(self, path=None, heap_bytes=64_000_000):
        import tantivy
        self.t = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        for name in ("type", "system", "language"):
            builder.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
        builder.add_text_field("title", stored=True)
        builder.add_text_field("text", stored=True)
        for name in ("codes", "series", "models", "engines"):
            builder.add_text_field(name, tokenizer_name="raw")
        for name in ("produced_from", "produced_until"):
            builder.add_integer_field(name, indexed=True, fast=True)
        builder.add_integer_field("revision", indexed=True, fast=True, stored=True)
        self.schema = builder.build()
        if path is not None:
            from pathlib import Path
            Path(path).mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=None if path is None else str(path))
        self.heap_bytes = heap_bytes
        self._writer = None  # taken on the first write: a reader (a benchmark, say) may open a served folder

    @property
    def writer(self):
        if self._writer is None:
            self._writer = self.index.writer(self.heap_bytes, 1)
        return self._writer

    def upsert(self, entries):
        for e in entries:
            self.writer.delete_documents_by_term("id", e["id"])
            self.writer.add_document(self.t.Document.from_dict(e, self.schema))

    def delete(self, ids):
        for document_id in ids:
            self.writer.delete_documents_by_term("id", document_id)

    def refresh(self):
        self.writer.commit()
        self.index.reload()

    def revision(self):
        searcher = self.index.searcher()
        if searcher.num_docs == 0:
            return 0
        found = searcher.aggregate(self.t.Query.all_query(), {"top": {"max": {"field": "revision"}}})
        return int(found["top"]["value"] or 0)

    def count(self):
        return self.index.searcher().num_docs

    def close(self):
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None

    # queries

    def _term(self, name, value, boost=1.0):
        q = self.t.Query.term_query(self.schema, name, value)
        return q if boost == 1.0 else self.t.Query.boost_query(q, boost)

    def _matching(self, words):
        Q, Occur = self.t.Query, self.t.Occur
        should = []
        for term in words.terms:
            should += [(Occur.Should, self._term("title", term, TITLE_BOOST)), (Occur.Should, self._term("text", term))]
            if len(term) >= domain.FUZZY_MIN_LENGTH:
                for name, boost in (("title", TITLE_BOOST * FUZZY_WEIGHT), ("text", FUZZY_WEIGHT)):
                    should.append((Occur.Should, Q.boost_query(Q.fuzzy_term_query(self.schema, name, term, 1), boost)))
        for pair in words.pairs:
            should += [(Occur.Should, Q.boost_query(Q.phrase_query(self.schema, name, list(pair)), boost))
                       for name, boost in (("title", TITLE_BOOST * domain.PAIR_BOOST), ("text", domain.PAIR_BOOST))]
        for code in words.codes:
            should.append((Occur.Should, self._term("codes", code.lower(), CODE_BOOST)))
        clauses = []
        if should:
            clauses.append((Occur.Must, Q.boolean_query(should)))
        for phrase in words.phrases:
            clauses.append((Occur.Must, Q.boolean_query([
                (Occur.Should, Q.boost_query(Q.phrase_query(self.schema, "title", list(phrase)), TITLE_BOOST)),
                (Occur.Should, Q.phrase_query(self.schema, "text", list(phrase)))])))
        return clauses

    def _filters(self, filters):
        Q, Occur = self.t.Query, self.t.Occur
        clauses = []
        for name, values in (("type", filters.types), ("system", filters.systems)):
            if values:
                clauses.append((Occur.Must, Q.term_set_query(self.schema, name, list(values))))
        if filters.language:
            clauses.append((Occur.Must, self._term("language", filters.language)))
        v = filters.vehicle
        if v is not None:
            for name, value in (("series", v.series), ("models", v.model_code), ("engines", v.engine_code)):
                clauses.append((Occur.Must, Q.term_set_query(self.schema, name, [value, domain.ANY])))
            day = domain.day_number(v.production_date)
            integer = self.t.FieldType.Integer
            clauses.append((Occur.Must, Q.range_query(self.schema, "produced_from", integer, domain.EARLIEST, day)))
            clauses.append((Occur.Must, Q.range_query(self.schema, "produced_until", integer, day, domain.LATEST)))
        return clauses

    def _query(self, clauses):
        if not clauses:
            return self.t.Query.all_query()
        if all(occur == self.t.Occur.Must for occur, _ in clauses) and len(clauses) == 1:
            return clauses[0][1]
        return self.t.Query.boolean_query(clauses)

    def search(self, words, filters, offset=0, limit=10, highlight=True):
        searcher = self.index.searcher()
        query = self._query(self._matching(words) + self._filters(filters))
        found = searcher.search(query, limit=limit, offset=offset, count=True)
        hits = []
        for score, address in found.hits:
            doc = searcher.doc(address)
            title, text = doc.get_first("title"), doc.get_first("text")
            hits.append(Hit(doc.get_first("id"), doc.get_first("type"), doc.get_first("system"), title, score,
                            mark(title, words) if highlight else None,
                            (mark(text, words, SNIPPET_CHARS) or _opening(text)) if highlight else None))
        aggs = searcher.aggregate(query, {name: {"terms": {"field": name, "size": 100}} for name in FACETS})
        facets = {name: {b["key"]: b["doc_count"] for b in aggs[name]["buckets"]} for name in FACETS}
        return Results(found.count, hits, facets)

    def suggest(self, text, filters, limit=8):
        words = domain.tokens(text)
        if not words:
            return []
        Q, Occur = self.t.Query, self.t.Occur
        prefix = Q.phrase_prefix_query(self.schema, "title", words)
        searcher = self.index.searcher()
        found = searcher.search(self._query([(Occur.Must, prefix)] + self._filters(filters)), limit=limit)
        return [(searcher.doc(a).get_first("id"), searcher.doc(a).get_first("title")) for _, a in found.hits]

    def tree(self, filters):
        searcher = self.index.searcher()
        aggs = searcher.aggregate(self._query(self._filters(filters)), {"system": {
            "terms": {"field": "system", "size": 200}, "aggs": {"type": {"terms": {"field": "type", "size": 50}}}}})
        return {b["key"]: {t["key"]: t["doc_count"] for t in b["type"]["buckets"]} for b in aggs["system"]["buckets"]}


def _opening(text):
    cut = text[:SNIPPET_CHARS]
    return html.escape(cut, quote=False).replace("\n", " ") + (" …" if len(text) > SNIPPET_CHARS else "")


# ---- Elasticsearch ---------------------------------------------------------------------------------------------

MAPPING = {"properties": {
    "id": {"type": "keyword"}, "type": {"type": "keyword"}, "system": {"type": "keyword"},
    "language": {"type": "keyword"}, "title": {"type": "text"}, "text": {"type": "text"},
    "codes": {"type": "keyword"}, "series": {"type": "keyword"}, "models": {"type": "keyword"},
    "engines": {"type": "keyword"}, "produced_from": {"type": "integer"}, "produced_until": {"type": "integer"},
    "revision": {"type": "long"}}}


class ElasticsearchIndex(ElasticsearchStore, SearchIndex):
    def __init__(self, url, index="aos-air-documents", plain_json=False, timeout=10):
        super().__init__(url, index, MAPPING, plain_json, timeout)

    def revision(self):
        found = self.es.search(index=self.name, size=0, aggs={"top": {"max": {"field": "revision"}}})
        return int(found["aggregations"]["top"]["value"] or 0)

    @staticmethod
    def _matching(words):
        should = []
        for term in words.terms:
            should += [{"term": {"title": {"value": term, "boost": TITLE_BOOST}}}, {"term": {"text": term}}]
            if len(term) >= domain.FUZZY_MIN_LENGTH:
                for name, boost in (("title", TITLE_BOOST * FUZZY_WEIGHT), ("text", FUZZY_WEIGHT)):
                    should.append({"fuzzy": {name: {"value": term, "fuzziness": 1, "boost": boost}}})
        for pair in words.pairs:
            should += [{"match_phrase": {name: {"query": " ".join(pair), "boost": boost}}}
                       for name, boost in (("title", TITLE_BOOST * domain.PAIR_BOOST), ("text", domain.PAIR_BOOST))]
        should += [{"term": {"codes": {"value": c.lower(), "boost": CODE_BOOST}}} for c in words.codes]
        must = [{"bool": {"should": should}}] if should else []
        for phrase in words.phrases:
            text = " ".join(phrase)
            must.append({"bool": {"should": [{"match_phrase": {"title": {"query": text, "boost": TITLE_BOOST}}},
                                             {"match_phrase": {"text": text}}]}})
        return must

    @staticmethod
    def _filters(filters):
        out = []
        if filters.types:
            out.append({"terms": {"type": list(filters.types)}})
        if filters.systems:
            out.append({"terms": {"system": list(filters.systems)}})
        if filters.language:
            out.append({"term": {"language": filters.language}})
        v = filters.vehicle
        if v is not None:
            out += [{"terms": {name: [value, domain.ANY]}} for name, value in
                    (("series", v.series), ("models", v.model_code), ("engines", v.engine_code))]
            day = domain.day_number(v.production_date)
            out += [{"range": {"produced_from": {"lte": day}}}, {"range": {"produced_until": {"gte": day}}}]
        return out

    def _query(self, must, filters):
        return {"bool": {"must": must or [{"match_all": {}}], "filter": self._filters(filters)}}

    def search(self, words, filters, offset=0, limit=10, highlight=True):
        body = {"query": self._query(self._matching(words), filters), "from_": offset, "size": limit,
                "source": ["id", "type", "system", "title", "text"] if highlight else ["id", "type", "system", "title"],
                "aggs": {name: {"terms": {"field": name, "size": 100}} for name in FACETS},
                "track_total_hits": True}
        found = self.es.search(index=self.name, **body)
        hits = []
        for h in found["hits"]["hits"]:
            src = h["_source"]
            hit = Hit(src["id"], src["type"], src["system"], src["title"], h["_score"] or 0.0)
            if highlight:
                # the engine's own highlighter would mark what its analyser matched; ours marks the same words the
                # same way on both adapters (fuzzy neighbours included)
                hit.title_html = mark(src["title"], words)
                hit.snippet = mark(src["text"], words, SNIPPET_CHARS) or _opening(src["text"])
            hits.append(hit)
        facets = {name: {b["key"]: b["doc_count"] for b in found["aggregations"][name]["buckets"]} for name in FACETS}
        return Results(found["hits"]["total"]["value"], hits, facets)

    def suggest(self, text, filters, limit=8):
        if not domain.tokens(text):
            return []
        found = self.es.search(index=self.name, size=limit, source=["id", "title"], query=self._query(
            [{"match_phrase_prefix": {"title": " ".join(domain.tokens(text))}}], filters))
        return [(h["_source"]["id"], h["_source"]["title"]) for h in found["hits"]["hits"]]

    def tree(self, filters):
        found = self.es.search(index=self.name, size=0, query=self._query([], filters), aggs={"system": {
            "terms": {"field": "system", "size": 200}, "aggs": {"type": {"terms": {"field": "type", "size": 50}}}}})
        return {b["key"]: {t["key"]: t["doc_count"] for t in b["type"]["buckets"]}
                for b in found["aggregations"]["system"]["buckets"]}


def from_settings(settings):
    """The adapter AIR_SEARCH names: {"engine": "tantivy", "path": ...} or {"engine": "elasticsearch", "url": ...,
    "index": ..., "plain_json": bool}."""
    if settings["engine"] == "tantivy":
        return TantivyIndex(settings.get("path"))
    return ElasticsearchIndex(settings["url"], settings.get("index") or "aos-air-documents",
                              plain_json=settings.get("plain_json", False))


def pages(total, size):
    return max(1, math.ceil(total / size))
