"""The BlobStore contract: every adapter must pass it. The S3 adapter runs against SeaweedFS with access keys
and signed URLs enforced (the same adapter serves MinIO in production)."""
import time

import pytest
import requests

from services.shared.blobs import BlobMissing, S3BlobStore


@pytest.fixture(params=["s3-seaweedfs"])
def store(request, blob_config):
    adapter = S3BlobStore(blob_config["endpoint"], blob_config["access_key"], blob_config["secret_key"],
                          blob_config["bucket"], region=blob_config["region"])
    adapter.ensure_bucket()
    adapter.ensure_bucket()  # making sure twice is harmless
    return adapter


def test_what_is_put_comes_back(store):
    store.put("invoices/2026/AOS-2026-000001.pdf", b"%PDF-1.7 invoice", "application/pdf")
    assert store.get("invoices/2026/AOS-2026-000001.pdf") == b"%PDF-1.7 invoice"
    assert store.exists("invoices/2026/AOS-2026-000001.pdf")
    store.put("invoices/2026/AOS-2026-000001.pdf", b"%PDF-1.7 second", "application/pdf")
    assert store.get("invoices/2026/AOS-2026-000001.pdf") == b"%PDF-1.7 second"


def test_a_missing_blob_is_missing(store):
    assert not store.exists("nothing/here")
    with pytest.raises(BlobMissing):
        store.get("nothing/here")


def test_a_signed_url_downloads_and_nothing_else_does(store, blob_config):
    store.put("a/b.bin", b"\x00\x01binary", "application/octet-stream")
    signed = store.signed_url("a/b.bin", seconds=60)
    answer = requests.get(signed, timeout=10)
    assert answer.status_code == 200 and answer.content == b"\x00\x01binary"
    plain = requests.get(f"http://{blob_config['endpoint']}/{blob_config['bucket']}/a/b.bin", timeout=10)
    assert plain.status_code == 403
    tampered = requests.get(signed.replace("a/b.bin", "a/c.bin"), timeout=10)
    assert tampered.status_code == 403


def test_a_signed_url_expires(store):
    store.put("short.txt", b"brief", "text/plain")
    signed = store.signed_url("short.txt", seconds=1)
    time.sleep(2.5)
    assert requests.get(signed, timeout=10).status_code == 403


def test_a_wrong_secret_is_refused(blob_config):
    intruder = S3BlobStore(blob_config["endpoint"], blob_config["access_key"], "not-the-secret",
                           blob_config["bucket"], region=blob_config["region"])
    with pytest.raises(Exception) as raised:
        intruder.ensure_bucket()
    assert "SignatureDoesNotMatch" in str(raised.value) or "AccessDenied" in str(raised.value)


def test_services_starting_together_all_find_their_bucket(blob_config):
    """Several services share one bucket and make sure of it at start-up, at the same moment."""
    import eventlet
    pool = eventlet.GreenPool()
    for attempt in range(10):
        bucket = f"{blob_config['bucket']}-{attempt}"
        stores = [S3BlobStore(blob_config["endpoint"], blob_config["access_key"], blob_config["secret_key"], bucket,
                              region=blob_config["region"]) for _ in range(8)]
        outcomes = list(pool.imap(lambda s: s.ensure_bucket() or "ok", stores))
        assert outcomes == ["ok"] * 8, f"attempt {attempt}: {outcomes}"
        stores[0].put("k", b"v", "text/plain")
        assert stores[7].get("k") == b"v"
