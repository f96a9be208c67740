"""What every search adapter of AOS shares (AIR's documents, the parts catalogue): the edit distance both engines
count a fuzzy match by, an Elasticsearch index's upkeep, and the Elasticsearch node that speaks plain JSON to servers that refuse the client's
versioned media type (osmem-server, OpenSearch)."""


def one_edit(a, b):
    """Levenshtein distance <= 1 (with a transposition counted as one, as both engines count it)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


def plain_json_node():
    """An Elasticsearch client node class that sends `application/json` where the client sends its versioned
    media type, which servers speaking the Elasticsearch REST API without it answer 406 to. Switched on by
    configuration (AOS_ELASTICSEARCH_PLAIN_JSON), never by default."""
    from elastic_transport import Urllib3HttpNode

    class PlainJsonNode(Urllib3HttpNode):
        def perform_request(self, method, target, body=None, request_timeout=None, headers=None):
            if headers is not None:
                headers = headers.copy()
                for name in ("accept", "content-type"):
                    if "vnd.elasticsearch" in (headers.get(name) or ""):
                        headers[name] = "application/json"
            return super().perform_request(method, target, body=body, request_timeout=request_timeout,
                                           headers=headers)
    return PlainJsonNode


def elasticsearch(url, plain_json=False, timeout=10):
    """A client for `url` (with the plain-JSON node when asked)."""
    from elasticsearch import Elasticsearch
    kwargs = {"node_class": plain_json_node()} if plain_json else {}
    return Elasticsearch(url, request_timeout=timeout, **kwargs)


class ElasticsearchStore:
    """One Elasticsearch index with its mapping: made when missing (by whichever replica comes first), filled in
    bulk, refreshed, counted. The adapters of the search ports add their queries."""

    def __init__(self, url, index, mapping, plain_json=False, timeout=10):
        self.es = elasticsearch(url, plain_json, timeout)
        self.name = index
        if not self.es.indices.exists(index=index):
            try:
                self.es.indices.create(index=index, mappings=mapping)
            except Exception:
                if not self.es.indices.exists(index=index):  # another replica made it in between
                    raise

    def upsert(self, entries):
        operations = []
        for e in entries:
            operations += [{"index": {"_index": self.name, "_id": e["id"]}}, e]
        if operations:
            answer = self.es.bulk(operations=operations)
            if answer.get("errors"):
                failed = [i for i in answer["items"] if i["index"].get("error")]
                raise RuntimeError(f"Elasticsearch refused {len(failed)} entries: {failed[0]['index']['error']}")

    def delete(self, ids):
        """Entries out of the index; an id it does not hold is no error."""
        if ids:
            self.es.bulk(operations=[{"delete": {"_index": self.name, "_id": i}} for i in ids])

    def refresh(self):
        self.es.indices.refresh(index=self.name)

    def count(self):
        return self.es.count(index=self.name)["count"]

    def close(self):
        self.es.close()
