"""The BlobStore port: binaries (invoice PDFs, later documents and flash files) in object storage, handed to
clients through short-lived signed URLs. One adapter speaks S3 through the `minio` client: SeaweedFS as the
embedded default, MinIO or any S3 service in production (region must be passed for both)."""
import io
from datetime import timedelta

from minio import Minio
from minio.error import S3Error
from nameko.extensions import DependencyProvider

from services.shared.config import setting


class BlobMissing(KeyError):
    pass


class BlobStore:
    """The port: what every adapter does, and what the contract tests check."""

    def put(self, key, data, content_type):  # pragma: no cover - the port
        raise NotImplementedError

    def get(self, key):  # pragma: no cover
        raise NotImplementedError

    def exists(self, key):  # pragma: no cover
        raise NotImplementedError

    def put_once(self, key, data, content_type):
        """Store content-addressed data unless it is there already; True when it was stored now."""
        if self.exists(key):
            return False
        self.put(key, data, content_type)
        return True

    def signed_url(self, key, seconds=300, filename=None):  # pragma: no cover
        """A GET link that works for `seconds`; with `filename`, the name a browser saves it under."""
        raise NotImplementedError


class S3BlobStore(BlobStore):
    """`links`: the (access key, secret key) of a read-only credential that signs the browser's links; the
    credential that writes never leaves the services."""

    def __init__(self, endpoint, access_key, secret_key, bucket, region="us-east-1", secure=False, links=None):
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region)
        self.signer = Minio(endpoint, access_key=links[0], secret_key=links[1], secure=secure,
                            region=region) if links else self.client
        self.bucket = bucket

    def ensure_bucket(self):
        if not self.client.bucket_exists(self.bucket):
            try:
                self.client.make_bucket(self.bucket)
            except S3Error:
                # another process made it in between; SeaweedFS may answer that race with a bare 409, which the
                # client reads as NoSuchBucket: what counts is whether the bucket is there now
                if not self.client.bucket_exists(self.bucket):
                    raise

    def put(self, key, data, content_type):
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)

    def get(self, key):
        try:
            answer = self.client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                raise BlobMissing(key) from exc
            raise
        try:
            return answer.read()
        finally:
            answer.close()
            answer.release_conn()

    def exists(self, key):
        try:
            self.client.stat_object(self.bucket, key)
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NotFound"):
                return False
            raise

    def signed_url(self, key, seconds=300, filename=None):
        headers = {"response-content-disposition": f'inline; filename="{filename}"'} if filename else None
        return self.signer.presigned_get_object(self.bucket, key, expires=timedelta(seconds=seconds),
                                                response_headers=headers)


def from_config(config):
    blob = setting(config, "BLOB_STORE")
    return S3BlobStore(blob["endpoint"], blob["access_key"], blob["secret_key"], blob["bucket"],
                       region=blob["region"], secure=blob["secure"],
                       links=(blob["link_access_key"], blob["link_secret_key"]))


class Blobs(DependencyProvider):
    """The service's BlobStore, built and its bucket made sure of at start-up."""

    def setup(self):
        self.store = from_config(self.container.config)

    def start(self):
        self.store.ensure_bucket()

    def get_dependency(self, worker_ctx):
        return self.store
