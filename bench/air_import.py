"""Benchmark: a 100,000-document content package (the demo corpus) checked and imported, then indexed by the
tantivy adapter, as `make air-import` and the air service do it. Prints documents/s of each step and the peak
memory (resident set) after each.

    python -m bench.air_import [--documents 100000] [--database-url postgresql://...]
"""
import resource
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from bench import system
from deploy import seaweedfs
from deploy.ports import free_port
from services.air import content, search
from deploy import corpus
from services.air.dependencies import catch_up
from services.shared.blobs import S3BlobStore
from services.shared.database import make_engine
from services.shared.migrate import upgrade


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--documents", type=int, default=100000)
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        port = free_port()
        keys = seaweedfs.new_keys()
        store_process = seaweedfs.start_with(data / "objects", port, keys, log=open(data / "seaweedfs.log", "w"))
        databases = {}
        try:
            started = time.perf_counter()
            corpus.write(data / "library", opts.documents)
            generated = time.perf_counter() - started
            print(f"generated {opts.documents} documents in {generated:.1f} s; peak memory {peak_mb():.0f} MB")
            if opts.database_url:
                databases = system.fresh_databases(opts.database_url, f"aos_bench_{port}")
                url = databases["air"]
            else:
                url = f"sqlite:///{data / 'air.sqlite'}"
            upgrade("air", url)
            engine = make_engine(url)
            store = S3BlobStore(f"127.0.0.1:{port}", keys["AOS_BLOB_ACCESS_KEY"], keys["AOS_BLOB_SECRET_KEY"], "aos")
            store.ensure_bucket()
            started = time.perf_counter()
            report = content.import_package(data / "library", engine, store, progress=True)
            imported = time.perf_counter() - started
            after_import = peak_mb()
            index = search.TantivyIndex(data / "index")
            started = time.perf_counter()
            indexed = catch_up(index, sessionmaker(engine))
            index.close()
            took = time.perf_counter() - started
            size = sum(f.stat().st_size for f in (data / "index").iterdir()) / 1e6
            print(f"\nAIR import benchmark: {opts.documents} documents, {report.binaries_stored} binaries, "
                  f"{'PostgreSQL' if opts.database_url else 'SQLite'}")
            print(f"check + import (database, object storage): {imported:6.1f} s  {report.documents / imported:8.0f} "
                  f"documents/s   peak memory {after_import:.0f} MB")
            print(f"index (tantivy, from the database):        {took:6.1f} s  {indexed / took:8.0f} documents/s   "
                  f"peak memory {peak_mb():.0f} MB   index {size:.0f} MB on disk")
            engine.dispose()
        finally:
            store_process.terminate()
            store_process.wait(timeout=20)
            if databases:
                system.drop_databases(opts.database_url, databases)


if __name__ == "__main__":
    main()
