"""AIR's settings, read once at start (services.shared.config)."""
from dataclasses import dataclass
from pathlib import Path

from services.shared.config import ConfigurationError, between, data_path, flag, matching, one_of, variable


@dataclass(frozen=True)
class AirSettings:
    engine: str = variable("AOS_SEARCH_ENGINE", str, "tantivy", rule=one_of("tantivy", "elasticsearch"))
    index_dir: Path = variable("AOS_SEARCH_INDEX_DIR", data_path, "air-index")
    elasticsearch_url: str = variable("AOS_ELASTICSEARCH_URL", matching(r"^https?://", "must be an http:// or https:// URL"),
                                      None)
    elasticsearch_index: str = variable("AOS_ELASTICSEARCH_INDEX", matching(
        r"^[a-z0-9][a-z0-9._-]{0,200}$", "an index name: lower-case letters, digits, . _ -"), "aos-air-documents")
    plain_json: bool = variable("AOS_ELASTICSEARCH_PLAIN_JSON", flag, False)
    sync_seconds: float = variable("AOS_AIR_SYNC_SECONDS", float, 2.0, rule=between(0.05, 3600))
    # replicas on tantivy: each keeps an index of its own in step with the documents table (one writer each)
    replica: int = variable("AOS_REPLICA", int, 0, rule=between(0, 99))

    def check(self):
        if self.engine == "elasticsearch" and not self.elasticsearch_url:
            raise ConfigurationError("AOS configuration is wrong: AOS_ELASTICSEARCH_URL: required when "
                                     "AOS_SEARCH_ENGINE=elasticsearch")

    @property
    def search(self):
        """What search.from_settings takes."""
        path = self.index_dir if not self.replica else self.index_dir.with_name(f"{self.index_dir.name}-{self.replica}")
        return {"engine": self.engine, "path": str(path), "url": self.elasticsearch_url,
                "index": self.elasticsearch_index, "plain_json": self.plain_json}
