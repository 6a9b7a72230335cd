"""The S3 calls the clip store makes, one method each, errors translated once.

Every method raises StorageUnavailable when the store cannot be reached or fails (see
hq/storage/s3/client.py); the few S3 answers the store acts on come back as values
(``None``/``False``) instead of exceptions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from .client import Reachability

_GONE = ("NoSuchUpload", "NoSuchKey", "404")


class ClipObjects:
    """One bucket's objects and multipart uploads through a boto3 client."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.s3 = Reachability(f"S3 clip store (bucket {bucket})")

    def bucket_exists(self) -> bool:
        """Whether the bucket is there for this key (False: missing or forbidden)."""
        from botocore.exceptions import ClientError

        try:
            with self.s3.calling(f"head bucket {self.bucket}",
                                 expected=("404", "NoSuchBucket", "403", "AccessDenied")):
                self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            return False
        return True

    def start_multipart(self, key: str, metadata: dict[str, str]) -> str:
        with self.s3.calling(f"start multipart upload {key}"):
            mp = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, Metadata=metadata,
                ContentType="application/octet-stream")
        return str(mp["UploadId"])

    def upload_part(self, key: str, multipart: str, number: int, data: bytes) -> str | None:
        """The part's ETag; None if the store no longer knows the multipart upload."""
        from botocore.exceptions import ClientError

        try:
            with self.s3.calling(f"part {number} of {key}", expected=_GONE):
                resp = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=multipart,
                                               PartNumber=number, Body=data)
        except ClientError:
            return None
        return str(resp["ETag"])

    def complete(self, key: str, multipart: str, parts: Sequence[tuple[int, str]]) -> bool:
        """Assemble the object; False if the multipart upload is unknown (done before?)."""
        from botocore.exceptions import ClientError

        try:
            with self.s3.calling(f"complete {key}", expected=_GONE):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=multipart,
                    MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]})
        except ClientError:
            return False
        return True

    def abort(self, key: str, multipart: str) -> None:
        from botocore.exceptions import ClientError

        try:
            with self.s3.calling(f"abort {key}", expected=_GONE):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                                   UploadId=multipart)
        except ClientError:
            pass  # already gone: what aborting wanted

    def put(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        with self.s3.calling(f"put {key}"):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, Metadata=metadata,
                                   ContentType="application/octet-stream")

    def size(self, key: str) -> int | None:
        """The object's length, None if there is no such object."""
        from botocore.exceptions import ClientError

        try:
            with self.s3.calling(f"head {key}", expected=_GONE):
                head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return None
        return int(head["ContentLength"])

    def get(self, key: str, byte_range: str | None = None) -> Any:
        """The streaming body of the object (or a range of it); None if there is none."""
        from botocore.exceptions import ClientError

        args = {"Bucket": self.bucket, "Key": key}
        if byte_range is not None:
            args["Range"] = byte_range
        try:
            with self.s3.calling(f"get {key}", expected=_GONE):
                return self.client.get_object(**args)["Body"]
        except ClientError:
            return None

    def sha256(self, key: str) -> str | None:
        """The object read once and hashed; None if there is none."""
        h = hashlib.sha256()
        body = self.get(key)
        if body is None:
            return None
        with self.s3.calling(f"read back {key}"):
            try:
                for block in body.iter_chunks(1 << 20):
                    h.update(block)
            finally:
                body.close()
        return h.hexdigest()

    def delete(self, key: str) -> None:
        """Delete the object (S3 answers the same whether it existed or not)."""
        with self.s3.calling(f"delete {key}"):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def presign_get(self, key: str, seconds: int, media_type: str, filename: str) -> str:
        return str(self.client.generate_presigned_url(
            "get_object", ExpiresIn=seconds, Params={
                "Bucket": self.bucket, "Key": key, "ResponseContentType": media_type,
                "ResponseContentDisposition": f'inline; filename="{filename}"'}))


def chunks(body: Any, chunk_size: int) -> Iterator[bytes]:
    """A GET's streaming body in chunks, closed at the end (or when the reader stops)."""
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()
