"""The BlobStore contract: every adapter must pass it. The S3 adapter runs against SeaweedFS with access keys
and signed URLs enforced (the same adapter serves MinIO in production)."""
import time

import pytest
import requests

from services.shared.blobs import BlobMissing, S3BlobStore


@pytest.fixture(params=["s3-seaweedfs"])
def store(request, blob_config):
    adapter = S3BlobStore(blob_config["endpoint"], blob_config["access_key"], blob_config["secret_key"],
                          blob_config["bucket"], region=blob_config["region"],
                          links=(blob_config["link_access_key"], blob_config["link_secret_key"]))
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


def test_links_are_signed_by_a_credential_that_can_only_read(store, blob_config):
    """A link's key is in every browser that downloads: with it one reads what it was signed for, and nothing
    can be written, listed or read without a signature."""
    store.put("invoices/2026/AOS-2026-000007.pdf", b"%PDF-1.7 seven", "application/pdf")
    signed = store.signed_url("invoices/2026/AOS-2026-000007.pdf", seconds=60)
    assert f"X-Amz-Credential={blob_config['link_access_key']}" in signed
    assert requests.get(signed, timeout=10).content == b"%PDF-1.7 seven"
    reader = S3BlobStore(blob_config["endpoint"], blob_config["link_access_key"], blob_config["link_secret_key"],
                         blob_config["bucket"], region=blob_config["region"])
    for write in (lambda: reader.put("invoices/2026/AOS-2026-000007.pdf", b"forged", "application/pdf"),
                  lambda: list(reader.client.list_objects(blob_config["bucket"], recursive=True))):
        with pytest.raises(Exception) as refused:
            write()
        assert "AccessDenied" in str(refused.value)
    assert store.get("invoices/2026/AOS-2026-000007.pdf") == b"%PDF-1.7 seven"


def test_the_old_default_keys_open_nothing(blob_config):
    for access, secret in (("aos-dev", "aos-dev-secret-change-me"), ("aos", "CHANGE-ME")):
        intruder = S3BlobStore(blob_config["endpoint"], access, secret, blob_config["bucket"],
                               region=blob_config["region"])
        with pytest.raises(Exception) as refused:
            intruder.ensure_bucket()
        assert "InvalidAccessKeyId" in str(refused.value) or "AccessDenied" in str(refused.value)


def test_only_the_s3_port_answers_and_only_with_credentials(seaweed, store):
    """SeaweedFS's filer and volume servers sit behind S3: without a token signed with this start's keys the
    filer's HTTP answers nothing, not a listing and not a file."""
    process, _ = seaweed
    store.put("invoices/2026/AOS-2026-000008.pdf", b"%PDF-1.7 eight", "application/pdf")
    filer = f"http://127.0.0.1:{process.ports['filer.port']}"
    for path in (f"/buckets/{store.bucket}/invoices/2026/AOS-2026-000008.pdf", f"/buckets/{store.bucket}/",
                 "/buckets/", "/"):
        answer = requests.get(filer + path, timeout=10)
        assert answer.status_code == 401 and b"eight" not in answer.content, (path, answer.status_code)


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
