"""Where evidence bytes live: a local directory or an S3 bucket, written once and never changed or deleted.

Keys are content-addressed (see `evidence_key`), so a retried upload lands on the same key and a key never changes
its bytes: every write that finds a complete object leaves it as it is. Bytes always move in chunks of
`CHUNK_SIZE`; no method holds a whole file in memory.

Every store takes uploads from phones through the same steps (`Storage`'s upload methods, in `evidence.uploads`'s
terms): begin, tell the phone where to send, say how much arrived, hand over the arrived bytes for checking, and
finish them into the content-addressed key (or forget them to start again). The bytes go around the API where the
store allows it: `S3Storage` hands out presigned PUT and multipart part URLs; `LocalStorage` takes resumable appends
through the API into a staging file.
"""

import base64
import fcntl
import math
import mimetypes
import os
import stat
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, ClassVar
from urllib.parse import quote, unquote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from evidence.digest import FileFollower, sha256_of
from evidence.uploads import Instructions, Method, NotResumable, NotUploaded, Progress, Upload

CHUNK_SIZE = 1 << 20
Arrived = tuple[BinaryIO, str, int]  # the uploaded bytes as a seekable file, their SHA-256 and their size
_SHA256_HEX = frozenset("0123456789abcdef")


class StorageError(Exception):
    """Base."""


class ObjectMissing(StorageError):
    """No complete object under the key."""


class UploadMissing(StorageError):
    """No multipart upload with that id: never started, aborted, or completed without leaving the object."""


class OffsetMismatch(StorageError):
    """A resumable upload's offset isn't where the staged bytes end; `received` is where they do."""

    def __init__(self, received: int) -> None:
        super().__init__(f"{received} bytes received so far")
        self.received = received


class UploadBusy(OffsetMismatch):
    """Another request is writing the key's staging file right now (a client retrying before its last try ended)."""


class TooLarge(StorageError):
    """An append would take the staged bytes beyond `limit`."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


def evidence_key(visit_id: str, sha256_hex: str, extension: str) -> str:
    """'visits/{visit_id}/{sha256}.{ext}' — a retried upload lands on the same key, a key never changes its bytes.

    The digest and the extension are lower-cased; a malformed digest, an extension that isn't 1-10 letters or
    digits, or a visit id that isn't one path segment raise ValueError.
    """
    digest, ext = _sha256_hex(sha256_hex), extension.lower()
    if not (ext.isascii() and ext.isalnum() and len(ext) <= 10):
        raise ValueError(f"extension {extension!r} must be 1-10 letters or digits")
    if "/" in visit_id:
        raise ValueError(f"visit id {visit_id!r} must not contain '/'")
    return _check_key(f"visits/{visit_id}/{digest}.{ext}")


def _check_key(key: str) -> str:
    """Return the key if it is a relative path of non-empty segments, none of them starting with '.'.

    The dot rule rejects '.' and '..' and keeps keys away from LocalStorage's own '.staging' and '.tmp'.
    """
    segments = key.split("/")
    if not key or "\x00" in key or any(not s or s.startswith(".") for s in segments):
        raise ValueError(f"invalid key {key!r}: segments must be non-empty and must not start with '.'")
    return key


class Storage(ABC):
    """Complete objects: read, size, a server-side write of small ones, and direct download URLs."""

    name: ClassVar[str]  # "local" or "s3"

    @abstractmethod
    def size(self, key: str) -> int | None:
        """Size of the complete object, None when there is none."""

    @abstractmethod
    def read(self, key: str, span: tuple[int, int] | None = None) -> Iterator[bytes]:
        """The complete object in chunks, or only its bytes `span` = (first, last), inclusive and within the object;
        ObjectMissing (raised by the call, not the iteration) if absent."""

    @abstractmethod
    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Server-side write of a whole small object (thumbnails); returns its size.

        If the key exists already it is left as it is (same key = same bytes) and its size is returned.
        """

    @abstractmethod
    def download_url(self, key: str, filename: str, expires_s: int) -> str | None:
        """A short-lived URL the client downloads `filename` from directly, or None when the API must stream it."""

    # uploads from phones: begin, instructions and progress, then arrived, and finish (or restart after a mismatch)

    @abstractmethod
    def begin(self, upload: Upload) -> str | None:
        """Prepare the upload of a declared item; the handle to keep with it (None: the store needs none)."""

    @abstractmethod
    def instructions(self, upload: Upload, resumable_url: str, expires_s: int) -> Instructions:
        """Where and how the phone sends the bytes; `resumable_url` is the API's route for a store that takes
        appends through the API (`receive`), URLs the store signs live `expires_s`."""

    @abstractmethod
    def progress(self, upload: Upload) -> Progress:
        """How much of the upload the store holds."""

    def receive(self, upload: Upload, offset: int, chunks: Iterable[bytes]) -> int:
        """Append bytes sent through the API at `offset`; the bytes held so far. NotResumable for a store that takes
        uploads around the API; OffsetMismatch and TooLarge as `LocalStorage.append`."""
        raise NotResumable(upload.item_id)

    @abstractmethod
    def arrived(self, upload: Upload) -> AbstractContextManager[Arrived]:
        """The uploaded bytes, read once as a stream, for the caller to check before `finish`; NotUploaded when they
        have not all arrived. Nothing under `upload.key` changes."""

    @abstractmethod
    def restart(self, upload: Upload) -> str | None:
        """Forget uploaded bytes that failed the check; the handle for the phone's next upload."""

    @abstractmethod
    def finish(self, upload: Upload) -> None:
        """Make the checked bytes the complete object `upload.key`, kept as the store keeps evidence (read-only,
        retention); a complete object already there stays (same key = same bytes)."""

    @abstractmethod
    def sweep_uploads(self, idle_s: float) -> list[tuple[str, int]]:
        """Remove uploads nobody continued for `idle_s` seconds; the name and size of each. StorageError where the
        store itself expires them."""


class LocalStorage(Storage):
    """Files under `root` (created when first written): complete objects read-only at root/<key>.

    Resumable uploads append to root/.staging/<key, quoted to one file name> and are moved in place by `seal`.
    Complete objects are never replaced: publishing uses os.link, which fails rather than overwrite.
    """

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        self._followers: dict[str, FileFollower] = {}  # hashing staging files while uploads write them
        self._followers_lock = threading.Lock()

    def path(self, key: str) -> Path:
        """Path of the complete object."""
        return self.root / _check_key(key)

    def staged_path(self, key: str) -> Path:
        """Path of the staging file (for inspection libraries that need a seekable file)."""
        return self.root / ".staging" / quote(_check_key(key), safe="")

    def size(self, key: str) -> int | None:
        try:
            st = self.path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return st.st_size if stat.S_ISREG(st.st_mode) else None

    def read(self, key: str, span: tuple[int, int] | None = None) -> Iterator[bytes]:
        if self.size(key) is None:
            raise ObjectMissing(key)
        return _read_file(self.path(key), span)

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        final = self.path(key)
        if (size := self.size(key)) is not None:
            return size
        tmp_dir = self.root / ".tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=tmp_dir)
        try:
            with open(fd, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
                f.flush()
                os.fsync(fd)
                os.fchmod(fd, 0o444)
            _publish(Path(tmp), final)
        finally:
            os.unlink(tmp)
        return final.stat().st_size

    def download_url(self, key: str, filename: str, expires_s: int) -> str | None:
        return None

    def begin(self, upload: Upload) -> str | None:
        return None

    def instructions(self, upload: Upload, resumable_url: str, expires_s: int) -> Instructions:
        return Instructions(Method.RESUMABLE, resumable_url, {"Content-Type": "application/octet-stream"})

    def progress(self, upload: Upload) -> Progress:
        return Progress(self.staged_size(upload.key), [], None)

    def receive(self, upload: Upload, offset: int, chunks: Iterable[bytes]) -> int:
        return self.append(upload.key, offset, chunks, limit=upload.size)

    @contextmanager
    def arrived(self, upload: Upload) -> Iterator[Arrived]:
        """The staging file itself, hashed by the thread that followed it as it was written."""
        received = self.staged_size(upload.key)
        if received < upload.size:
            raise NotUploaded(received)
        digest = self.staged_digest(upload.key, received) or ""  # "": the staged bytes changed meanwhile
        with self.staged_path(upload.key).open("rb") as file:
            yield file, digest, received

    def restart(self, upload: Upload) -> str | None:
        self.discard_staged(upload.key)
        return None

    def finish(self, upload: Upload) -> None:
        self.seal(upload.key)

    def sweep_uploads(self, idle_s: float) -> list[tuple[str, int]]:
        return self.sweep_staged(idle_s)

    def staged_size(self, key: str) -> int:
        """Bytes received so far for the key (0 if nothing)."""
        try:
            return self.staged_path(key).stat().st_size
        except FileNotFoundError:
            return 0

    def append(self, key: str, offset: int, chunks: Iterable[bytes], limit: int) -> int:
        """Append the chunks to the key's staging file, which must hold exactly `offset` bytes; returns the new size.

        Raises OffsetMismatch(received) when it doesn't, UploadBusy when another append or a seal holds the file.
        Going beyond `limit` total bytes raises TooLarge and truncates back to `offset`. Any other failure mid-stream
        (an exception from `chunks`, e.g. a client disconnect) keeps what was written so the client can resume.
        Pass the declared size as `limit`: then nothing can be appended after the caller has checked the bytes.
        """
        staged = self.staged_path(key)
        staged.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT if offset == 0 else 0)
        try:
            fd = os.open(staged, flags, 0o644)
        except FileNotFoundError:
            raise OffsetMismatch(0) from None
        with open(fd, "ab") as f:
            self._lock_staged(f, key)
            if (received := os.fstat(fd).st_size) != offset:
                raise OffsetMismatch(received)
            self._follow(key, staged)
            size = offset
            try:
                for chunk in chunks:
                    if size + len(chunk) > limit:
                        self._unfollow(key)  # it may have hashed what is cut off now
                        f.truncate(offset)
                        raise TooLarge(limit)
                    f.write(chunk)
                    size += len(chunk)
            finally:
                f.flush()
        return size

    def staged_digest(self, key: str, size: int) -> str | None:
        """SHA-256 of the staged bytes, which must be exactly `size`: from the thread that hashed them while they were
        written (waiting for it to catch up), or read from the file now when there is none (another process took the
        upload, or it stopped for long)."""
        with self._followers_lock:
            follower = self._followers.pop(key, None)
        if follower is not None:
            digest = follower.digest(size, timeout=60)
            follower.close()
            if digest is not None and self._is_staged(key, follower.inode, size):
                return digest
        digest, read = sha256_of(self.read_staged(key))
        return digest if read == size else None

    def _follow(self, key: str, staged: Path) -> None:
        with self._followers_lock:
            follower = self._followers.get(key)
            if follower is not None and follower.is_alive() and follower.inode == staged.stat().st_ino:
                return
            if follower is not None:
                follower.close()
            self._followers[key] = FileFollower(staged)

    def _unfollow(self, key: str) -> None:
        with self._followers_lock:
            follower = self._followers.pop(key, None)
        if follower is not None:
            follower.close()

    def _is_staged(self, key: str, inode: int, size: int) -> bool:
        try:
            current = self.staged_path(key).stat()
        except FileNotFoundError:
            return False
        return (current.st_ino, current.st_size) == (inode, size)

    def read_staged(self, key: str) -> Iterator[bytes]:
        """The staged bytes in chunks (none if nothing is staged)."""
        staged = self.staged_path(key)
        return _read_file(staged) if staged.exists() else iter(())

    def seal(self, key: str) -> None:
        """Make the staged bytes the complete object, read-only (0o444); the caller has verified them.

        If the complete object exists already the staging file is dropped instead (same key = same bytes), so
        sealing twice is fine. ObjectMissing when there is neither; UploadBusy while an append is running.
        """
        staged, final = self.staged_path(key), self.path(key)
        try:
            f = open(staged, "rb")  # noqa: SIM115 - closed below, after the link
        except FileNotFoundError:
            if self.size(key) is None:
                raise ObjectMissing(key) from None
            return
        with f:
            self._lock_staged(f, key)
            self._unfollow(key)
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), 0o444)
            _publish(staged, final)
            staged.unlink()

    def discard_staged(self, key: str) -> None:
        """Forget the staged bytes (a hash mismatch: the client uploads again)."""
        self._unfollow(key)
        self.staged_path(key).unlink(missing_ok=True)

    def sweep_staged(self, idle_s: float) -> list[tuple[str, int]]:
        """Remove the staging files of uploads nobody has written for `idle_s` seconds (phones that gave up), and
        leftovers of interrupted `put`s; the key (or temporary name) and size of each removed. A file being written
        or sealed right now is left alone; the upload of a removed key starts again from byte 0."""
        removed = []
        for folder in (self.root / ".staging", self.root / ".tmp"):
            for path in sorted(folder.iterdir()) if folder.is_dir() else []:
                name = unquote(path.name) if folder.name == ".staging" else path.name
                size = self._remove_if_idle(path, idle_s)
                if size is not None:
                    removed.append((name, size))
                    if folder.name == ".staging":
                        self._unfollow(name)
        return removed

    @staticmethod
    def _remove_if_idle(path: Path, idle_s: float) -> int | None:
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed below, after the unlink
        except FileNotFoundError:
            return None
        with f:
            if _lock_as(f, path) is not True or time.time() - os.fstat(f.fileno()).st_mtime < idle_s:
                return None
            path.unlink()
            return os.fstat(f.fileno()).st_size

    def _lock_staged(self, f: BinaryIO, key: str) -> None:
        """Hold an exclusive lock on the open staging file until it is closed; it must still be the staging file."""
        locked = _lock_as(f, self.staged_path(key))
        if locked is None:
            raise UploadBusy(self.staged_size(key))
        if not locked:
            # Sealed or discarded between our open and our lock: appending to it could change a complete object.
            raise OffsetMismatch(self.staged_size(key))


def _lock_as(f: BinaryIO, path: Path) -> bool | None:
    """Take an exclusive lock on the open file `f`, held until it is closed: True when `path` still names it, False
    when `path` names another file or none (sealed, discarded or swept since `f` was opened), None when another
    holder has it (an append, a seal or a sweep)."""
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return None
    try:
        current = path.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(f.fileno())
    return (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino)


def _read_file(path: Path, span: tuple[int, int] | None = None) -> Iterator[bytes]:
    with open(path, "rb") as f:
        if span is None:
            while chunk := f.read(CHUNK_SIZE):
                yield chunk
            return
        f.seek(span[0])
        left = span[1] - span[0] + 1
        while left > 0 and (chunk := f.read(min(CHUNK_SIZE, left))):
            left -= len(chunk)
            yield chunk


def _publish(source: Path, final: Path) -> None:
    """Give `source` the name `final` too, unless that exists already (os.link never replaces a file)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, final)
    except FileExistsError:
        pass
    else:
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class S3Storage(Storage):
    """Objects in an S3 bucket under `prefix` (prefix + key); phones upload and download with presigned URLs.

    With `retention_days`, `lock` puts object-lock retention on an object (the bucket must have object lock
    enabled), so not even the bucket's owner can delete its versions until then. Uploads above
    `multipart_threshold_bytes` go in parts of `part_size_bytes`; every upload lands on its own key under
    `uploads/` first, so that bytes failing the check never reach a complete key.
    """

    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        region: str | None = None,
        endpoint_url: str | None = None,
        retention_days: int | None = None,
        retention_mode: str = "COMPLIANCE",
        multipart_threshold_bytes: int = 16 << 20,
        part_size_bytes: int = 16 << 20,
        client: Any | None = None,
    ) -> None:
        if retention_days is not None and retention_days < 1:
            raise ValueError(f"retention_days {retention_days} must be at least 1")
        if retention_mode not in ("COMPLIANCE", "GOVERNANCE"):
            raise ValueError(f"retention_mode {retention_mode!r} must be COMPLIANCE or GOVERNANCE")
        self.bucket, self.prefix = bucket, prefix
        self.retention_days, self.retention_mode = retention_days, retention_mode
        self.multipart_threshold_bytes, self.part_size_bytes = multipart_threshold_bytes, part_size_bytes
        if client is None:
            config = Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
            client = boto3.client("s3", region_name=region, endpoint_url=endpoint_url, config=config)
        self._client = client

    @property
    def client(self) -> Any:
        return self._client

    def size(self, key: str) -> int | None:
        try:
            head = self._client.head_object(**self._at(key))
        except ClientError as error:
            if _status(error) == 404:
                return None
            raise
        return int(head["ContentLength"])

    def read(self, key: str, span: tuple[int, int] | None = None) -> Iterator[bytes]:
        ranged = {"Range": f"bytes={span[0]}-{span[1]}"} if span is not None else {}
        try:
            body = self._client.get_object(**self._at(key), **ranged)["Body"]
        except ClientError as error:
            if _code(error) == "NoSuchKey":
                raise ObjectMissing(key) from error
            raise
        return _stream(body)

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        if (size := self.size(key)) is not None:
            return size
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        with tempfile.SpooledTemporaryFile(max_size=CHUNK_SIZE) as spool:
            for chunk in chunks:
                spool.write(chunk)
            size = spool.tell()
            spool.seek(0)
            try:
                # If-None-Match: a concurrent put of the same key wins and this one leaves it alone.
                self._client.put_object(**self._at(key), Body=spool, ContentType=content_type, IfNoneMatch="*")
            except ClientError as error:
                if _code(error) != "PreconditionFailed" or (existing := self.size(key)) is None:
                    raise
                return existing
        return size

    def download_url(self, key: str, filename: str, expires_s: int) -> str | None:
        """A presigned GET whose response carries Content-Disposition: attachment with `filename`."""
        params = self._at(key) | {"ResponseContentDisposition": _attachment(filename)}
        return self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)

    def begin(self, upload: Upload) -> str | None:
        if upload.size <= self.multipart_threshold_bytes:
            return None
        return self.start_multipart(_upload_key(upload), content_type=upload.content_type)

    def instructions(self, upload: Upload, resumable_url: str, expires_s: int) -> Instructions:
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_s)
        key = _upload_key(upload)
        if upload.handle is None:
            url, headers = self.presigned_put(
                key, content_type=upload.content_type, sha256_hex=upload.sha256, expires_s=expires_s
            )
            return Instructions(Method.PUT, url, headers, expires_at=expires_at)
        parts = [
            (number, self.presigned_part(key, upload.handle, number, expires_s))
            for number in range(1, math.ceil(upload.size / self.part_size_bytes) + 1)
        ]
        return Instructions(Method.MULTIPART, None, {}, self.part_size_bytes, parts, expires_at)

    def progress(self, upload: Upload) -> Progress:
        """A multipart upload that S3 no longer has (aborted by a lifecycle rule or by hand) and that left no object
        is started afresh: the phone sends every part again instead of being stuck with URLs of an upload gone."""
        key = _upload_key(upload)
        if upload.handle is None:
            return Progress(self.size(key) or 0, [], None)
        try:
            parts = self.uploaded_parts(key, upload.handle)
        except UploadMissing:
            if (size := self.size(key)) is not None:  # completed, waiting for the check
                return Progress(size, [], upload.handle)
            return Progress(0, [], self.start_multipart(key, content_type=upload.content_type))
        return Progress(sum(size for _, size in parts), [number for number, _ in parts], upload.handle)

    @contextmanager
    def arrived(self, upload: Upload) -> Iterator[Arrived]:
        """A temporary copy of the uploaded object (a multipart upload completed first), hashed as it is copied."""
        key = _upload_key(upload)
        if upload.handle is not None:
            try:
                self.complete_multipart(key, upload.handle)
            except StorageError as error:
                raise NotUploaded(0) from error
        with tempfile.TemporaryFile() as file:
            try:
                chunks = self.read(key)
            except ObjectMissing as error:
                raise NotUploaded(0) from error
            digest, size = sha256_of(_copied(chunks, file))
            file.seek(0)
            yield file, digest, size

    def restart(self, upload: Upload) -> str | None:
        self.discard_upload(_upload_key(upload))
        if upload.handle is None:
            return None
        return self.start_multipart(_upload_key(upload), content_type=upload.content_type)  # that one is finished

    def finish(self, upload: Upload) -> None:
        self.promote(_upload_key(upload), upload.key)
        self.lock(upload.key)

    def sweep_uploads(self, idle_s: float) -> list[tuple[str, int]]:
        raise StorageError(
            "Only the local store keeps unfinished uploads on this server's disk; on S3 they are in the bucket,"
            " where a lifecycle rule on the uploads/ prefix expires them."
        )

    def presigned_put(
        self, key: str, *, content_type: str, sha256_hex: str, expires_s: int
    ) -> tuple[str, dict[str, str]]:
        """A presigned PUT URL and the headers the client must send with it.

        Content-Type and x-amz-checksum-sha256 (base64 of the digest) are signed, so real S3 refuses other bytes.
        moto checks neither: the caller verifies size and hash after the upload either way.
        """
        checksum = base64.b64encode(bytes.fromhex(_sha256_hex(sha256_hex))).decode()
        params = self._at(key) | {"ContentType": content_type, "ChecksumSHA256": checksum}
        url = self._client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_s)
        return url, {"Content-Type": content_type, "x-amz-checksum-sha256": checksum}

    def start_multipart(self, key: str, *, content_type: str) -> str:
        """Start a multipart upload; returns its upload id."""
        return str(self._client.create_multipart_upload(**self._at(key), ContentType=content_type)["UploadId"])

    def presigned_part(self, key: str, upload_id: str, part_number: int, expires_s: int) -> str:
        """A presigned PUT URL for one part (its size is the client's business; all but the last >= 5 MiB)."""
        params = self._at(key) | {"UploadId": upload_id, "PartNumber": part_number}
        return str(self._client.generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_s))

    def uploaded_parts(self, key: str, upload_id: str) -> list[tuple[int, int]]:
        """(part number, size) of the parts received so far; UploadMissing for an unknown or finished upload."""
        try:
            return [(part["PartNumber"], part["Size"]) for part in self._parts(key, upload_id)]
        except ClientError as error:
            if _code(error) == "NoSuchUpload":
                raise UploadMissing(upload_id) from error
            raise

    def complete_multipart(self, key: str, upload_id: str) -> None:
        """Complete the upload with the parts S3 has received.

        Safe to call twice: an upload that is gone (NoSuchUpload) while the object exists is done. If another
        upload completed the key first, that object stays (same key = same bytes) and this upload is aborted.
        UploadMissing when neither the upload nor the object exists; StorageError when no part arrived.
        """
        try:
            parts = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in self._parts(key, upload_id)]
        except ClientError as error:
            if _code(error) != "NoSuchUpload":
                raise
            if self.size(key) is None:
                raise UploadMissing(upload_id) from error
            return
        if not parts:
            raise StorageError(f"no parts uploaded for {key}")
        upload = self._at(key) | {"UploadId": upload_id}
        try:
            self._client.complete_multipart_upload(**upload, MultipartUpload={"Parts": parts}, IfNoneMatch="*")
        except ClientError as error:
            if _code(error) != "PreconditionFailed":
                raise
            try:
                self._client.abort_multipart_upload(**upload)
            except ClientError as abort_error:
                if _code(abort_error) != "NoSuchUpload":
                    raise

    def promote(self, upload_key: str, key: str) -> None:
        """Make the checked bytes uploaded to `upload_key` the complete object `key`, copied inside the bucket (the
        API never carries them), unless `key` exists already (same key = same bytes); then forget every version of
        `upload_key`. Uploads go to their own key so that bytes that fail the check never reach a complete key."""
        if self.size(key) is None:
            source = {"Bucket": self.bucket, "Key": self.prefix + _check_key(upload_key)}
            self._client.copy(source, self.bucket, self.prefix + _check_key(key))
        self.discard_upload(upload_key)

    def discard_upload(self, upload_key: str) -> None:
        """Forget every version of an upload's key: bytes that failed the check, or were promoted already. Never
        call it with a complete object's key."""
        listing = self._client.get_paginator("list_object_versions").paginate(**self._at(upload_key, "Prefix"))
        for page in listing:
            for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if version["Key"] == self.prefix + upload_key:
                    self._client.delete_object(**self._at(upload_key), VersionId=version["VersionId"])

    def lock(self, key: str) -> None:
        """Retain the object's current version for `retention_days` from now; no-op without `retention_days`."""
        if self.retention_days is None:
            return
        until = datetime.now(UTC) + timedelta(days=self.retention_days)
        retention = {"Mode": self.retention_mode, "RetainUntilDate": until}
        try:
            self._client.put_object_retention(**self._at(key), Retention=retention)
        except ClientError as error:
            if _code(error) == "NoSuchKey":
                raise ObjectMissing(key) from error
            raise

    def _at(self, key: str, name: str = "Key") -> dict[str, Any]:
        return {"Bucket": self.bucket, name: self.prefix + _check_key(key)}

    def _parts(self, key: str, upload_id: str) -> Iterator[dict[str, Any]]:
        pages = self._client.get_paginator("list_parts").paginate(**self._at(key), UploadId=upload_id)
        for page in pages:
            yield from page.get("Parts", [])


def _upload_key(upload: Upload) -> str:
    return f"uploads/{upload.item_id}"


def _copied(chunks: Iterable[bytes], file: BinaryIO) -> Iterator[bytes]:
    for chunk in chunks:
        file.write(chunk)
        yield chunk


def _stream(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK_SIZE)
    finally:
        body.close()


def _attachment(filename: str) -> str:
    """Content-Disposition for a download: a plain-ASCII fallback name and the exact one (RFC 6266 / 5987)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _sha256_hex(value: str) -> str:
    digest = value.lower()
    if len(digest) != 64 or not set(digest) <= _SHA256_HEX:
        raise ValueError(f"{value!r} is not a SHA-256 hex digest")
    return digest


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
