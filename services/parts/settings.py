"""The parts catalogue's settings, read once at start (services.shared.config)."""
from dataclasses import dataclass
from pathlib import Path

from services.shared.config import (ConfigurationError, between, data_path, flag, matching, one_of, variable)


@dataclass(frozen=True)
class PartsSettings:
    # the search index: tantivy in the data folder, one per catalogue version (the parts service its only writer),
    # or Elasticsearch (shared with AIR's server, an index of its own)
    engine: str = variable("AOS_PARTS_SEARCH_ENGINE", str, "tantivy", rule=one_of("tantivy", "elasticsearch"))
    index_dir: Path = variable("AOS_PARTS_INDEX_DIR", data_path, "parts-index")
    elasticsearch_url: str = variable("AOS_ELASTICSEARCH_URL", matching(r"^https?://", "must be an http:// or "
                                                                                        "https:// URL"), None)
    elasticsearch_index: str = variable("AOS_PARTS_ELASTICSEARCH_INDEX", matching(
        r"^[a-z0-9][a-z0-9._-]{0,120}$", "an index name: lower-case letters, digits, . _ -"), "aos-parts")
    plain_json: bool = variable("AOS_ELASTICSEARCH_PLAIN_JSON", flag, False)
    # how often the service looks for a newly imported catalogue to index and switch to
    sync_seconds: float = variable("AOS_PARTS_SYNC_SECONDS", float, 2.0, rule=between(0.05, 3600))
    replica: int = variable("AOS_REPLICA", int, 0, rule=between(0, 99))

    def check(self):
        if self.engine == "elasticsearch" and not self.elasticsearch_url:
            raise ConfigurationError("AOS configuration is wrong: AOS_ELASTICSEARCH_URL: required when "
                                     "AOS_PARTS_SEARCH_ENGINE=elasticsearch")

    def index_path(self, catalogue_id):
        """A catalogue version's tantivy folder (a replica keeps one of its own)."""
        suffix = f"-{self.replica}" if self.replica else ""
        return self.index_dir.with_name(f"{self.index_dir.name}{suffix}") / catalogue_id
