import hashlib
import itertools
import os
import stat
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from botocore.exceptions import ClientError

from evidence.digest import WRITEBACK_STEP, FileFollower
from evidence.storage import (
    CHUNK_SIZE,
    LocalStorage,
    ObjectMissing,
    OffsetMismatch,
    S3Storage,
    StorageError,
    TooLarge,
    UploadBusy,
    UploadMissing,
    evidence_key,
)

KEY = "visits/v1/" + "ab" * 32 + ".m4a"
BUCKET = "evidence-test"
MIB = 1 << 20


def joined(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "evidence")


@pytest.fixture
def s3(s3_client: Any) -> S3Storage:
    s3_client.create_bucket(Bucket=BUCKET)
    return S3Storage(bucket=BUCKET, client=s3_client)


# evidence_key


def test_evidence_key_is_content_addressed_and_normalised() -> None:
    assert evidence_key("v1", "AB" * 32, "JPG") == "visits/v1/" + "ab" * 32 + ".jpg"


@pytest.mark.parametrize(
    ("visit_id", "sha256_hex", "extension"),
    [("v1", "ab" * 31, "jpg"), ("v1", "zz" * 32, "jpg"), ("v1", "ab" * 32, ""), ("v1", "ab" * 32, "j/g"),
     ("a/b", "ab" * 32, "jpg"), ("", "ab" * 32, "jpg"), ("..", "ab" * 32, "jpg")],
)  # fmt: skip
def test_evidence_key_rejects_malformed_parts(visit_id: str, sha256_hex: str, extension: str) -> None:
    with pytest.raises(ValueError):
        evidence_key(visit_id, sha256_hex, extension)


# LocalStorage


def test_local_root_is_created_on_first_write(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "var" / "evidence")

    assert storage.size(KEY) is None
    assert storage.staged_size(KEY) == 0
    assert not (tmp_path / "var").exists()

    storage.append(KEY, 0, [b"a"], limit=10)

    assert storage.staged_size(KEY) == 1


def test_local_append_resumes_after_a_partial_upload(local: LocalStorage) -> None:
    assert local.append(KEY, 0, [b"ab", b"cd"], limit=10) == 4
    assert local.staged_size(KEY) == 4

    assert local.append(KEY, 4, [b"ef"], limit=10) == 6

    assert joined(local.read_staged(KEY)) == b"abcdef"
    assert local.staged_path(KEY).read_bytes() == b"abcdef"
    assert local.size(KEY) is None  # not complete until sealed


def test_local_offset_mismatch_reports_the_bytes_received(local: LocalStorage) -> None:
    local.append(KEY, 0, [b"abc"], limit=10)

    for offset in (0, 2, 5):
        with pytest.raises(OffsetMismatch) as raised:
            local.append(KEY, offset, [b"x"], limit=10)
        assert raised.value.received == 3

    assert joined(local.read_staged(KEY)) == b"abc"


def test_local_resuming_with_nothing_staged_reports_zero_and_creates_nothing(local: LocalStorage) -> None:
    with pytest.raises(OffsetMismatch) as raised:
        local.append(KEY, 7, [b"x"], limit=10)

    assert raised.value.received == 0
    assert not local.staged_path(KEY).exists()


def test_local_too_large_keeps_only_the_earlier_bytes(local: LocalStorage) -> None:
    local.append(KEY, 0, [b"abc"], limit=5)

    with pytest.raises(TooLarge) as raised:
        local.append(KEY, 3, [b"d", b"ef"], limit=5)

    assert raised.value.limit == 5
    assert joined(local.read_staged(KEY)) == b"abc"
    assert local.append(KEY, 3, [b"de"], limit=5) == 5


def test_local_failing_stream_keeps_what_was_written(local: LocalStorage) -> None:
    def disconnecting() -> Iterator[bytes]:
        yield b"abc"
        yield b"de"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        local.append(KEY, 0, disconnecting(), limit=100)

    assert local.staged_size(KEY) == 5
    assert local.append(KEY, 5, [b"f"], limit=100) == 6
    assert joined(local.read_staged(KEY)) == b"abcdef"


def test_local_append_and_seal_refuse_while_another_append_runs(local: LocalStorage) -> None:
    def with_a_retry_in_the_middle() -> Iterator[bytes]:
        yield b"ab"
        with pytest.raises(UploadBusy):
            local.append(KEY, 2, [b"x"], limit=10)
        with pytest.raises(UploadBusy):
            local.seal(KEY)
        yield b"cd"

    assert local.append(KEY, 0, with_a_retry_in_the_middle(), limit=10) == 4
    assert joined(local.read_staged(KEY)) == b"abcd"
    assert issubclass(UploadBusy, OffsetMismatch)  # an API catching OffsetMismatch answers "resume from received"


def test_local_seal_makes_the_object_complete_and_read_only(local: LocalStorage) -> None:
    local.append(KEY, 0, [b"hello ", b"world"], limit=100)

    local.seal(KEY)

    assert local.size(KEY) == 11
    assert joined(local.read(KEY)) == b"hello world"
    assert stat.S_IMODE(local.path(KEY).stat().st_mode) == 0o444
    assert local.path(KEY).read_bytes() == b"hello world"
    assert local.staged_size(KEY) == 0
    assert not local.staged_path(KEY).exists()


def test_local_seal_twice_and_sealing_over_an_existing_object_keep_the_first_bytes(local: LocalStorage) -> None:
    local.append(KEY, 0, [b"first"], limit=100)
    local.seal(KEY)
    local.seal(KEY)

    local.append(KEY, 0, [b"second"], limit=100)
    local.seal(KEY)

    assert joined(local.read(KEY)) == b"first"
    assert not local.staged_path(KEY).exists()


def _age(path: Path, days: float) -> None:
    then = time.time() - days * 86400
    os.utime(path, (then, then))


def test_local_sweep_removes_only_uploads_idle_for_long(local: LocalStorage) -> None:
    fresh, sealed = "visits/v1/" + "cd" * 32 + ".jpg", "visits/v1/" + "ef" * 32 + ".wav"
    local.append(KEY, 0, [b"given up"], limit=100)
    local.append(fresh, 0, [b"still coming"], limit=100)
    local.append(sealed, 0, [b"checked"], limit=100)
    local.seal(sealed)
    leftover = local.root / ".tmp" / "tmp-of-a-crashed-put"
    leftover.parent.mkdir()
    leftover.write_bytes(b"half a thumbnail")
    for path in (local.staged_path(KEY), local.staged_path(fresh), local.path(sealed), leftover):
        _age(path, 8 if path != local.staged_path(fresh) else 1)

    removed = local.sweep_staged(7 * 86400)

    assert removed == [(KEY, 8), ("tmp-of-a-crashed-put", 16)]
    assert local.staged_size(KEY) == 0 and local.staged_size(fresh) == 12
    assert joined(local.read(sealed)) == b"checked"
    assert local.append(KEY, 0, [b"again"], limit=100) == 5  # the given-up upload starts over
    assert local.staged_digest(KEY, 5) == hashlib.sha256(b"again").hexdigest()
    assert local.sweep_staged(7 * 86400) == []


def test_local_sweep_leaves_a_file_being_written(local: LocalStorage) -> None:
    local.append(KEY, 0, [b"slow"], limit=100)
    _age(local.staged_path(KEY), 8)
    writing = threading.Event()
    finish = threading.Event()

    def chunks() -> Iterator[bytes]:
        writing.set()
        finish.wait(10)
        yield b"er"

    thread = threading.Thread(target=local.append, args=(KEY, 4, chunks(), 100))
    thread.start()
    writing.wait(10)
    try:
        assert local.sweep_staged(7 * 86400) == []
    finally:
        finish.set()
        thread.join()
    assert joined(local.read_staged(KEY)) == b"slower"


def test_local_seal_with_nothing_staged_or_stored_is_object_missing(local: LocalStorage) -> None:
    with pytest.raises(ObjectMissing):
        local.seal(KEY)


def test_local_discard_forgets_the_staged_bytes(local: LocalStorage) -> None:
    local.append(KEY, 0, [b"corrupt"], limit=100)

    local.discard_staged(KEY)
    local.discard_staged(KEY)

    assert local.staged_size(KEY) == 0
    assert joined(local.read_staged(KEY)) == b""
    assert local.append(KEY, 0, [b"good"], limit=100) == 4


def test_local_put_read_size(local: LocalStorage) -> None:
    key = "visits/v1/thumbs/" + "cd" * 32 + ".jpg"

    assert local.put(key, iter([b"ab", b"c"])) == 3
    assert local.put(key, iter([b"different"])) == 3  # same key = same bytes: left as it is

    assert local.size(key) == 3
    assert joined(local.read(key)) == b"abc"
    assert joined(local.read(key, (1, 2))) == b"bc" and joined(local.read(key, (0, 0))) == b"a"
    assert stat.S_IMODE(local.path(key).stat().st_mode) == 0o444
    assert list((local.root / ".tmp").iterdir()) == []
    assert local.download_url(key, "photo.jpg", 60) is None


def test_local_failed_put_leaves_nothing(local: LocalStorage) -> None:
    def failing() -> Iterator[bytes]:
        yield b"ab"
        raise OSError("disk trouble")

    with pytest.raises(OSError, match="disk trouble"):
        local.put(KEY, failing())

    assert local.size(KEY) is None
    assert list((local.root / ".tmp").iterdir()) == []


def test_local_missing_objects(local: LocalStorage) -> None:
    assert local.size(KEY) is None
    assert local.size("visits") is None  # a directory is not an object
    with pytest.raises(ObjectMissing):
        local.read(KEY)


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "a//b", "a/", "../x", "a/../b", "a/./b", ".staging/x", "a/.hidden", "a\x00b"]
)
def test_local_rejects_keys_that_leave_the_root_or_meet_its_internals(local: LocalStorage, key: str) -> None:
    for method in (local.path, local.staged_path, local.size, local.staged_size, local.seal, local.discard_staged):
        with pytest.raises(ValueError):
            method(key)
    with pytest.raises(ValueError):
        local.append(key, 0, [b"x"], limit=10)
    with pytest.raises(ValueError):
        local.put(key, [b"x"])


def test_local_staging_names_do_not_collide(local: LocalStorage) -> None:
    assert local.staged_path("a/b") != local.staged_path("a%2Fb")
    assert local.staged_path("a/b").parent == local.staged_path("a%2Fb").parent


def test_local_streams_in_constant_memory(local: LocalStorage) -> None:
    def generated() -> Iterator[bytes]:
        for i in range(64):
            yield bytes([i]) * CHUNK_SIZE

    tracemalloc.start()
    try:
        assert local.append(KEY, 0, generated(), limit=64 * MIB) == 64 * MIB
        _, append_peak = tracemalloc.get_traced_memory()
        local.seal(KEY)
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        for chunk in local.read(KEY):
            assert len(chunk) <= CHUNK_SIZE
            digest.update(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert digest.digest() == hashlib.sha256(b"".join(bytes([i]) * CHUNK_SIZE for i in range(64))).digest()
    assert append_peak < 8 * MIB
    assert read_peak < 8 * MIB


# S3Storage


def test_s3_client_is_built_from_the_arguments(moto_endpoint: str) -> None:
    storage = S3Storage(bucket=BUCKET, region="eu-central-1", endpoint_url=moto_endpoint)

    config = storage.client.meta.config
    assert storage.name == "s3"
    assert storage.client.meta.endpoint_url == moto_endpoint
    assert storage.client.meta.region_name == "eu-central-1"
    assert config.signature_version == "s3v4"
    assert config.s3 == {"addressing_style": "path"}
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"


def test_s3_rejects_bad_retention_settings() -> None:
    with pytest.raises(ValueError):
        S3Storage(bucket=BUCKET, retention_mode="FOREVER", client=object())
    with pytest.raises(ValueError):
        S3Storage(bucket=BUCKET, retention_days=0, client=object())


def test_s3_presigned_put_with_the_returned_headers_stores_the_bytes(s3: S3Storage, s3_client: Any) -> None:
    data = b"a recording"
    digest = hashlib.sha256(data).hexdigest()

    url, headers = s3.presigned_put(KEY, content_type="audio/mp4", sha256_hex=digest, expires_s=300)
    response = httpx2.put(url, content=data, headers=headers)

    assert response.status_code == 200
    assert set(headers) == {"Content-Type", "x-amz-checksum-sha256"}
    signed = parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-type", "x-amz-checksum-sha256"} <= set(signed)  # what makes real S3 refuse other bytes
    assert s3.size(KEY) == len(data)
    assert joined(s3.read(KEY)) == data
    assert s3_client.head_object(Bucket=BUCKET, Key=KEY)["ContentType"] == "audio/mp4"


def test_s3_multipart_with_presigned_parts(s3: S3Storage) -> None:
    first, last = b"\x01" * (5 * MIB), b"the end"
    upload_id = s3.start_multipart(KEY, content_type="audio/mp4")

    for number, part in enumerate((first, last), start=1):
        response = httpx2.put(s3.presigned_part(KEY, upload_id, number, expires_s=300), content=part)
        assert response.status_code == 200
    assert s3.uploaded_parts(KEY, upload_id) == [(1, len(first)), (2, len(last))]
    assert s3.size(KEY) is None

    s3.complete_multipart(KEY, upload_id)
    s3.complete_multipart(KEY, upload_id)  # a retried request is fine

    assert s3.size(KEY) == len(first) + len(last)
    chunks = list(s3.read(KEY))
    assert max(len(c) for c in chunks) <= CHUNK_SIZE
    assert b"".join(chunks) == first + last
    with pytest.raises(UploadMissing):
        s3.uploaded_parts(KEY, upload_id)


def test_s3_second_multipart_for_a_complete_key_leaves_it_and_is_aborted(s3: S3Storage, s3_client: Any) -> None:
    uploads = [s3.start_multipart(KEY, content_type="audio/mp4") for _ in range(2)]
    for upload_id, data in zip(uploads, (b"first", b"other"), strict=True):
        httpx2.put(s3.presigned_part(KEY, upload_id, 1, expires_s=300), content=data).raise_for_status()

    for upload_id in uploads:
        s3.complete_multipart(KEY, upload_id)

    assert joined(s3.read(KEY)) == b"first"
    assert s3_client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_s3_complete_without_parts_or_upload(s3: S3Storage) -> None:
    upload_id = s3.start_multipart(KEY, content_type="audio/mp4")
    with pytest.raises(StorageError):
        s3.complete_multipart(KEY, upload_id)
    with pytest.raises(UploadMissing):
        s3.complete_multipart(KEY, "no-such-upload")


def test_s3_put_read_size_and_missing_objects(s3: S3Storage, s3_client: Any) -> None:
    key = "visits/v1/thumbs/" + "cd" * 32 + ".jpg"

    assert s3.put(key, iter([b"ab", b"c"])) == 3
    assert s3.put(key, iter([b"different"])) == 3

    assert s3.size(key) == 3
    assert joined(s3.read(key)) == b"abc"
    assert joined(s3.read(key, (1, 2))) == b"bc" and joined(s3.read(key, (0, 0))) == b"a"
    assert s3_client.head_object(Bucket=BUCKET, Key=key)["ContentType"] == "image/jpeg"
    assert s3.size(KEY) is None
    with pytest.raises(ObjectMissing):
        s3.read(KEY)


def test_s3_promote_copies_checked_bytes_and_forgets_the_upload(s3_client: Any) -> None:
    s3_client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)  # versioned, as evidence buckets are
    s3 = S3Storage(bucket=BUCKET, client=s3_client)
    s3_client.put_object(Bucket=BUCKET, Key="uploads/1", Body=b"bad bytes")
    s3.discard_upload("uploads/1")
    s3_client.put_object(Bucket=BUCKET, Key="uploads/1", Body=b"good bytes")

    assert s3_client.list_object_versions(Bucket=BUCKET, Prefix="uploads/1")["Versions"][0]["Size"] == 10
    s3.promote("uploads/1", KEY)
    s3_client.put_object(Bucket=BUCKET, Key="uploads/2", Body=b"other bytes")
    s3.promote("uploads/2", KEY)

    assert joined(s3.read(KEY)) == b"good bytes"
    assert "Versions" not in s3_client.list_object_versions(Bucket=BUCKET, Prefix="uploads/")


def test_s3_keys_live_under_the_prefix(s3_client: Any) -> None:
    s3_client.create_bucket(Bucket=BUCKET)
    storage = S3Storage(bucket=BUCKET, prefix="branch-7/", client=s3_client)

    storage.put(KEY, [b"abc"])

    assert s3_client.get_object(Bucket=BUCKET, Key="branch-7/" + KEY)["Body"].read() == b"abc"
    assert storage.size(KEY) == 3
    with pytest.raises(ValueError):
        storage.size("../escape")


def test_s3_download_url_serves_the_bytes_as_an_attachment(s3: S3Storage) -> None:
    s3.put(KEY, [b"a recording"])

    response = httpx2.get(s3.download_url(KEY, 'Müller "door" 1.m4a', expires_s=60) or "")

    assert response.status_code == 200
    assert response.content == b"a recording"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="M_ller _door_ 1.m4a"')
    assert "filename*=UTF-8''M%C3%BCller%20%22door%22%201.m4a" in disposition


def test_s3_locked_object_cannot_be_deleted(s3_client: Any) -> None:
    s3_client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    storage = S3Storage(bucket=BUCKET, retention_days=1, client=s3_client)
    storage.put(KEY, [b"evidence"])

    storage.lock(KEY)

    head = s3_client.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC)
    with pytest.raises(ClientError) as refused:
        s3_client.delete_object(Bucket=BUCKET, Key=KEY, VersionId=head["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert joined(storage.read(KEY)) == b"evidence"


def test_s3_unlocked_object_can_be_deleted_by_the_bucket_owner(s3_client: Any) -> None:
    """The control for the test above: without lock() (no retention_days) nothing protects the version."""
    s3_client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    storage = S3Storage(bucket=BUCKET, client=s3_client)
    storage.put(KEY, [b"evidence"])

    storage.lock(KEY)

    version = s3_client.head_object(Bucket=BUCKET, Key=KEY)["VersionId"]
    s3_client.delete_object(Bucket=BUCKET, Key=KEY, VersionId=version)
    assert storage.size(KEY) is None


# the digest of staged bytes, hashed while they were written


def test_local_staged_digest_follows_appends_resumes_and_refusals(local: LocalStorage) -> None:
    data = bytes(range(256)) * 40_000  # about 10 MiB, written in pieces like an interrupted upload

    local.append(KEY, 0, [data[: 3 * MIB]], limit=len(data))
    with pytest.raises(TooLarge):
        local.append(KEY, 3 * MIB, [data[3 * MIB :] + b"extra"], limit=len(data))
    local.append(KEY, 3 * MIB, [data[3 * MIB : 5 * MIB], data[5 * MIB :]], limit=len(data))

    assert local.staged_digest(KEY, len(data)) == hashlib.sha256(data).hexdigest()
    assert local.staged_digest(KEY, len(data) - 1) is None


def test_local_staged_digest_after_a_discard_is_of_the_new_bytes(local: LocalStorage) -> None:
    local.append(KEY, 0, [b"wrong bytes"], limit=11)
    local.discard_staged(KEY)
    local.append(KEY, 0, [b"right bytes"], limit=11)

    assert local.staged_digest(KEY, 11) == hashlib.sha256(b"right bytes").hexdigest()


def test_local_staged_digest_without_a_follower_reads_the_file(local: LocalStorage) -> None:
    local.append(KEY, 0, [b"written by another process"], limit=100)
    elsewhere = LocalStorage(local.root)  # another worker process of the server: it followed nothing

    assert elsewhere.staged_digest(KEY, 26) == hashlib.sha256(b"written by another process").hexdigest()


def test_a_follower_hashes_a_file_while_it_grows(tmp_path: Path) -> None:
    path, pieces = tmp_path / "growing", [bytes([i]) * 100_000 for i in range(30)]
    path.write_bytes(b"")
    follower = FileFollower(path)

    def writer() -> None:
        with path.open("ab") as file:
            for piece in pieces:
                file.write(piece)
                file.flush()
                time.sleep(0.002)

    thread = threading.Thread(target=writer)
    thread.start()
    digest = follower.digest(3_000_000, timeout=10)
    thread.join()
    follower.close()

    assert digest == hashlib.sha256(b"".join(pieces)).hexdigest()


def _follow_whole(path: Path, data: bytes) -> str | None:
    path.write_bytes(data)
    follower = FileFollower(path)
    digest = follower.digest(len(data), timeout=10)
    follower.close()
    follower.join()
    return digest


def test_a_follower_starts_writing_back_what_it_hashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    advised: list[tuple[int, int, int]] = []
    real = os.posix_fadvise

    def recording(fd: int, offset: int, length: int, advice: int) -> None:
        advised.append((offset, length, advice))
        real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", recording)
    data = bytes(range(256)) * (10 * WRITEBACK_STEP // 256 // 4)  # 2.5 steps

    assert _follow_whole(tmp_path / "recording", data) == hashlib.sha256(data).hexdigest()
    # contiguous ranges from the first byte, each at least a step, never beyond what was hashed; the tail is left
    # to the seal's fsync
    assert [offset for offset, _, _ in advised] == [0, *itertools.accumulate(length for _, length, _ in advised[:-1])]
    assert all(length >= WRITEBACK_STEP for _, length, _ in advised) and len(advised) == 2
    assert sum(length for _, length, _ in advised) <= len(data)
    assert {advice for _, _, advice in advised} == {os.POSIX_FADV_DONTNEED}


def test_a_follower_hashes_without_posix_fadvise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "posix_fadvise")
    data = b"x" * (2 * WRITEBACK_STEP + 1)
    assert _follow_whole(tmp_path / "recording", data) == hashlib.sha256(data).hexdigest()
