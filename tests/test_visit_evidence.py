"""Evidence of a visit through the API, on the local store and on S3 (moto's server on 127.0.0.1): declared by the
phone, uploaded (resumable through the API, or presigned PUT and multipart straight to the bucket), checked and
inspected by the server, required by the branch's policy before the visit is complete, immutable and audited."""

import hashlib
import os
import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import anyio
import httpx2
import pytest
from botocore.exceptions import ClientError
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture
from typer.testing import CliRunner

from api.cli import cli
from api.config import EvidenceSettings, Settings
from api.geo import GeoPoint
from api.models.audit import AuditEvent
from api.models.branches import Branch
from api.models.cases import Address
from api.models.findings import Finding, FindingKind
from api.models.users import Role, User
from api.models.visit_evidence import EvidenceItem, EvidenceStatus
from api.models.visits import CheckIn
from api.rules.packs import Jurisdiction
from api.visit_evidence.store import open_store
from evidence.storage import LocalStorage
from tests.evidence.samples import bomb_png, jpeg_bytes, png_bytes, random_bytes, wav_bytes
from tests.factories import auth_headers, count_rows, make_branch, make_team, make_user, problem_type
from tests.test_visits import Day

BUCKET = "fieldvisit-evidence"
MIB = 1 << 20


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The suite's settings with the evidence store of the test's parameter: an S3 bucket with object lock on
    moto's server, or the local directory."""
    if request.param == "local":
        return settings
    s3 = request.getfixturevalue("s3_client")
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    settings.evidence = EvidenceSettings(
        backend="s3",
        s3_bucket=BUCKET,
        s3_region="us-east-1",
        s3_endpoint_url=request.getfixturevalue("moto_endpoint"),
        s3_retention_days=1,
        multipart_threshold_bytes=5 * MIB,
        part_size_bytes=5 * MIB,
    )
    return settings


WAV = {"kind": "recording", "purpose": "whole_visit", "content_type": "audio/wav"}  # a recording of the whole visit


class Evidence:
    """The phone's side of evidence: declare an item, send its bytes where the answer says, complete it."""

    def __init__(self, day: Day, *, policy: bool = True) -> None:
        self.day, self.client, self.photos = day, day.client, 0
        if policy:
            branch = day.session.get_one(Branch, day.team.branch_id)
            branch.evidence_recording_coverage, branch.evidence_photo_purposes = 0.9, ["door", "mailbox"]
            day.session.commit()

    def declare(self, agent: User, data: bytes, visit_id: UUID | None = None, **fields: Any) -> Any:
        body = {
            "kind": "photo",
            "purpose": "door",
            "content_type": "image/jpeg",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "captured_at": datetime.now(UTC).isoformat(),
            "client_id": str(uuid4()),
        } | fields
        url = f"/visits/{visit_id or self.day.visit_id()}/evidence"
        return self.client.post(url, json=body, headers=auth_headers(agent))

    def send(self, agent: User, declared: dict[str, Any], data: bytes) -> None:
        upload = declared["upload"]
        if upload["method"] == "resumable":
            sent = self.client.put(upload["url"], content=data, headers=auth_headers(agent) | {"Upload-Offset": "0"})
            assert sent.status_code == 200, sent.text
        elif upload["method"] == "put":
            httpx2.put(upload["url"], content=data, headers=upload["headers"]).raise_for_status()
        else:
            size = upload["part_size"]
            for part in upload["parts"]:
                start = (part["part_number"] - 1) * size
                httpx2.put(part["url"], content=data[start : start + size]).raise_for_status()

    def complete(self, agent: User, evidence_id: str) -> Any:
        return self.client.post(f"/evidence/{evidence_id}/complete", headers=auth_headers(agent))

    def submit(self, agent: User, data: bytes, **fields: Any) -> Any:
        declared = self.declare(agent, data, **fields)
        assert declared.status_code == 201, declared.text
        self.send(agent, declared.json(), data)
        return self.complete(agent, declared.json()["id"])

    def photo(self, agent: User, purpose: str, **exif: Any) -> Any:
        """A photo at the address, now; each a few pixels taller than the one before, so no two are the same."""
        where = {"lat": self.day.point.lat, "lon": self.day.point.lon, "taken_at": datetime.now(UTC)} | exif
        self.photos += 1
        return self.submit(agent, jpeg_bytes(height=480 + self.photos - 1, **where), purpose=purpose)

    def recording(self, agent: User, seconds: float, captured_at: datetime) -> Any:
        return self.submit(agent, wav_bytes(seconds), **WAV, captured_at=captured_at.isoformat())


def _started(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, *, policy: bool = True
) -> tuple[Day, Evidence]:
    """A day whose first visit both agents have started, and the phone's side of its evidence."""
    day = Day(client, session, time_machine)
    evidence = Evidence(day, policy=policy)
    day.started()
    return day, evidence


def _arrived_earlier(day: Day, seconds: float) -> datetime:
    """Move the visit's check-ins back in time, as if the agents had been at the door `seconds` longer."""
    arrived = datetime.now(UTC) - timedelta(seconds=seconds)
    day.session.execute(update(CheckIn).values(received_at=arrived))
    day.session.commit()
    return arrived


def _accepted(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(EvidenceItem.status == EvidenceStatus.ACCEPTED)) or 0


def _confirm(day: Day) -> Any:
    return day.client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.b))


def test_a_visit_completes_once_its_recording_and_photos_are_in(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, settings: Settings
) -> None:
    day, evidence = _started(client, app, session, time_machine)
    arrived = _arrived_earlier(day, 20)

    recording = evidence.recording(day.a, 40, captured_at=arrived - timedelta(seconds=2))
    door = evidence.photo(day.b, "door")
    assert day.outcome(day.a).status_code == 201
    refused = _confirm(day)
    mailbox = evidence.photo(day.a, "mailbox")
    confirmed = _confirm(day)

    assert recording.status_code == 200, recording.text
    assert recording.json()["status"] == "accepted" and recording.json()["codec"] == "pcm"
    assert abs(recording.json()["duration_s"] - 40) < 0.1 and recording.json()["detected_type"] == "audio/wav"
    photo = door.json()
    assert door.status_code == 200 and photo["status"] == "accepted" and photo["flags"] == []
    assert photo["lat"] == pytest.approx(day.point.lat, abs=1e-4) and photo["distance_m"] < 20
    assert photo["taken_at"] is not None and photo["has_thumbnail"] and (photo["width"], photo["height"]) == (640, 480)
    assert refused.status_code == 409 and problem_type(refused) == "evidence-incomplete"
    assert refused.json()["missing_photos"] == ["mailbox"] and refused.json()["recording_coverage"] == 1
    assert mailbox.json()["status"] == "accepted"
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "completed"


def test_a_recording_covering_half_the_time_on_site_is_not_enough(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day, evidence = _started(client, app, session, time_machine)
    arrived = _arrived_earlier(day, 20)
    time_machine.move_to(arrived + timedelta(seconds=20), tick=False)  # the uploads take no time on site: 20 s it is
    evidence.photo(day.a, "door"), evidence.photo(day.a, "mailbox")
    evidence.recording(day.a, 10, captured_at=arrived)
    day.outcome(day.a)

    refused = _confirm(day)

    assert refused.status_code == 409 and problem_type(refused) == "evidence-incomplete"
    assert 0.4 < refused.json()["recording_coverage"] < 0.6 and refused.json()["required_coverage"] == 0.9
    assert refused.json()["missing_photos"] == []
    assert "recordings cover" in refused.json()["detail"]
    assert client.get(f"/visits/{day.visit_id()}", headers=auth_headers(day.a)).json()["status"] == "reported"


def _seeks_like_a_player(client: TestClient, user: User, evidence_id: str, data: bytes, etag: str) -> None:
    """What an <audio> element asks for: a range from a point, the end, a suffix; a stale If-Range; past the end."""
    size, url, headers = len(data), f"/evidence/{evidence_id}/content", auth_headers(user)

    def get(**extra: str) -> Any:
        return client.get(url, headers=headers | extra)

    middle = get(Range=f"bytes={MIB}-{MIB + 9}")
    tail = get(Range=f"bytes={size - 3}-")
    suffix = get(Range="bytes=-5")
    current = get(Range="bytes=0-1", **{"If-Range": etag})
    stale = get(Range="bytes=0-1", **{"If-Range": '"another"'})
    several = get(Range="bytes=0-1,4-5")
    past = get(Range=f"bytes={size}-")

    assert middle.status_code == 206 and middle.content == data[MIB : MIB + 10]
    assert middle.headers["content-range"] == f"bytes {MIB}-{MIB + 9}/{size}"
    assert middle.headers["content-length"] == "10"
    assert tail.status_code == 206 and tail.content == data[-3:]
    assert suffix.status_code == 206 and suffix.content == data[-5:]
    assert current.status_code == 206 and current.content == data[:2]
    assert stale.status_code == 200 and stale.content == data
    assert several.status_code == 200 and several.content == data
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"
    assert problem_type(past) == "range-not-satisfiable" and past.json()["size_bytes"] == size


def test_a_large_recording_goes_up_in_parts_or_resumes(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, settings: Settings
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    data = wav_bytes(400)  # 6.1 MiB: multipart on S3 (5 MiB parts)
    declared = evidence.declare(day.a, data, **WAV).json()
    upload, evidence_id = declared["upload"], declared["id"]
    headers = auth_headers(day.a)

    if settings.evidence.backend == "s3":
        assert upload["method"] == "multipart" and [p["part_number"] for p in upload["parts"]] == [1, 2]
        httpx2.put(upload["parts"][0]["url"], content=data[: 5 * MIB]).raise_for_status()
        state = client.get(f"/evidence/{evidence_id}/upload", headers=headers).json()
        assert state["received"] == 5 * MIB and state["parts_received"] == [1]
        httpx2.put(state["upload"]["parts"][1]["url"], content=data[5 * MIB :]).raise_for_status()
    else:
        assert upload["method"] == "resumable"
        first = client.put(upload["url"], content=data[:MIB], headers=headers)
        wrong = client.put(upload["url"], content=data[MIB:], headers=headers | {"Upload-Offset": "10"})
        state = client.get(f"/evidence/{evidence_id}/upload", headers=headers).json()
        rest = client.put(upload["url"], content=data[MIB:], headers=headers | {"Upload-Offset": str(MIB)})
        assert first.json()["received"] == MIB and state["received"] == MIB
        assert wrong.status_code == 409 and problem_type(wrong) == "upload-offset-mismatch"
        assert wrong.json()["received"] == MIB
        assert rest.status_code == 200 and rest.json()["received"] == len(data)

    completed = evidence.complete(day.a, evidence_id)
    again = evidence.complete(day.a, evidence_id)
    download = client.get(
        f"/evidence/{evidence_id}/content", headers=auth_headers(day.supervisor), follow_redirects=False
    )

    assert completed.status_code == 200 and completed.json()["status"] == "accepted", completed.text
    assert again.json() == completed.json()
    assert client.get(f"/evidence/{evidence_id}/upload", headers=headers).json()["upload"] is None
    if settings.evidence.backend == "s3":
        assert download.status_code == 307
        assert httpx2.get(download.headers["location"]).content == data
        seek = httpx2.get(download.headers["location"], headers={"Range": f"bytes={MIB}-{MIB + 9}"})
        assert seek.status_code == 206 and seek.content == data[MIB : MIB + 10]  # the presigned URL seeks too
    else:
        assert download.status_code == 200 and download.content == data
        assert download.headers["accept-ranges"] == "bytes"
        _seeks_like_a_player(client, day.supervisor, evidence_id, data, download.headers["etag"])
    reads = session.scalars(select(AuditEvent.changes).where(AuditEvent.entity_id == evidence_id)).all()
    assert {"what": "download"} in reads


@pytest.mark.parametrize("settings", ["s3"], indirect=True)
def test_a_multipart_upload_the_bucket_dropped_is_started_afresh(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, s3_client: Any
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    data = wav_bytes(400)  # 6.1 MiB: two parts
    declared = evidence.declare(day.a, data, **WAV).json()
    httpx2.put(declared["upload"]["parts"][0]["url"], content=data[: 5 * MIB]).raise_for_status()
    dropped = session.get_one(EvidenceItem, UUID(declared["id"])).multipart_upload_id
    # a bucket lifecycle rule (or an operator) aborts the incomplete upload
    s3_client.abort_multipart_upload(Bucket=BUCKET, Key=f"uploads/{declared['id']}", UploadId=dropped)
    early = evidence.complete(day.a, declared["id"])
    state = client.get(f"/evidence/{declared['id']}/upload", headers=auth_headers(day.a)).json()
    for part, start in zip(state["upload"]["parts"], (0, 5 * MIB), strict=True):
        httpx2.put(part["url"], content=data[start : start + 5 * MIB]).raise_for_status()

    assert early.status_code == 409 and problem_type(early) == "evidence-not-uploaded"
    assert state["received"] == 0 and state["parts_received"] == []
    session.expire_all()
    assert session.get_one(EvidenceItem, UUID(declared["id"])).multipart_upload_id not in (None, dropped)
    assert evidence.complete(day.a, declared["id"]).json()["status"] == "accepted"


def test_retries_of_declare_upload_and_complete_record_once(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    data = jpeg_bytes(lat=day.point.lat, lon=day.point.lon, taken_at=datetime.now(UTC))
    client_id = str(uuid4())

    first = evidence.declare(day.a, data, client_id=client_id)
    retry = evidence.declare(day.a, data, client_id=client_id)
    other_id = evidence.declare(day.a, data)
    evidence.send(day.a, first.json(), data)
    completed = [evidence.complete(day.a, first.json()["id"]) for _ in range(2)]

    assert first.status_code == retry.status_code == 201 and first.json()["id"] == retry.json()["id"]
    assert other_id.status_code == 409 and problem_type(other_id) == "evidence-already-declared"
    assert [r.json()["status"] for r in completed] == ["accepted", "accepted"]
    assert count_rows(session, EvidenceItem) == 1


@pytest.mark.parametrize(
    ("data", "fields", "reason"),
    [
        (bomb_png(), {"content_type": "image/png"}, "image-too-large"),
        (png_bytes(), {"content_type": "image/jpeg"}, "content-type-mismatch"),
        (jpeg_bytes()[:4000], {}, "truncated-image"),
        (random_bytes(50_000), WAV, "not-audio"),
        (jpeg_bytes(), WAV | {"content_type": "audio/mp4"}, "not-audio"),
        (b"%PDF-1.7\n" + random_bytes(3000), {"kind": "document", "content_type": "application/pdf"}, "not-a-pdf"),
    ],
    ids=["decompression-bomb", "png-as-jpeg", "truncated-jpeg", "random-bytes-as-audio", "jpeg-as-audio", "cut-pdf"],
)
def test_bad_content_is_rejected_with_its_reason(
    client: TestClient,
    app: FastAPI,
    session: Session,
    time_machine: TimeMachineFixture,
    data: bytes,
    fields: dict[str, Any],
    reason: str,
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)

    response = evidence.submit(day.a, data, **fields)
    item = session.scalars(select(EvidenceItem)).one()

    assert response.status_code == 422 and problem_type(response) == "evidence-rejected", response.text
    assert response.json()["reason"] == reason
    session.refresh(item)
    assert item.status is EvidenceStatus.REJECTED and item.rejected_reason == reason
    assert _accepted(session) == 0


def test_a_signed_letter_is_kept_as_a_pdf_or_a_scan_without_flags(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    letter = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

    kept = evidence.submit(day.b, letter, kind="document", purpose="signed_letter", content_type="application/pdf")

    scan = evidence.submit(day.b, png_bytes(), kind="document", purpose="signed_letter", content_type="image/png")

    assert kept.status_code == 200 and kept.json()["status"] == "accepted"
    assert kept.json()["detected_type"] == "application/pdf" and not kept.json()["has_thumbnail"]
    assert scan.json()["status"] == "accepted" and scan.json()["has_thumbnail"] and scan.json()["flags"] == []


@pytest.mark.parametrize("seconds", [5, 400], ids=["one-put", "in-parts-on-s3"])
def test_a_hash_mismatch_is_refused_and_can_be_uploaded_again(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, seconds: int
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    data = wav_bytes(seconds)
    tampered = data[:-1] + bytes([data[-1] ^ 1])
    declared = evidence.declare(day.a, data, **WAV).json()

    evidence.send(day.a, declared, tampered)
    mismatch = evidence.complete(day.a, declared["id"])
    state = client.get(f"/evidence/{declared['id']}/upload", headers=auth_headers(day.a)).json()
    evidence.send(day.a, state, data)
    fixed = evidence.complete(day.a, declared["id"])

    assert mismatch.status_code == 422 and problem_type(mismatch) == "evidence-mismatch"
    assert mismatch.json()["declared_sha256"] == hashlib.sha256(data).hexdigest()
    assert mismatch.json()["stored_sha256"] == hashlib.sha256(tampered).hexdigest()
    assert fixed.status_code == 200 and fixed.json()["status"] == "accepted"


def test_limits_and_missing_bytes_are_refused(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, settings: Settings
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    data = jpeg_bytes()

    too_big = evidence.declare(day.a, data, size=31 * MIB)
    wrong_type = evidence.declare(day.a, data, content_type="image/gif")
    declared = evidence.declare(day.a, data).json()
    early = evidence.complete(day.a, declared["id"])
    if settings.evidence.backend == "local":  # the API refuses bytes beyond the declared size as they arrive
        overflow = client.put(
            declared["upload"]["url"], content=data + b"more", headers=auth_headers(day.a) | {"Upload-Offset": "0"}
        )
        assert overflow.status_code == 413 and problem_type(overflow) == "evidence-too-large"
        assert client.get(f"/evidence/{declared['id']}/upload", headers=auth_headers(day.a)).json()["received"] == 0
    else:  # the bucket takes them; completing finds the size wrong
        evidence.send(day.a, declared, data + b"more")
        overflow = evidence.complete(day.a, declared["id"])
        assert overflow.status_code == 422 and problem_type(overflow) == "evidence-mismatch"
        assert overflow.json()["stored_size"] == len(data) + 4

    assert too_big.status_code == 413 and problem_type(too_big) == "evidence-too-large"
    assert too_big.json()["limit"] == 30 * MIB
    assert wrong_type.status_code == 415 and problem_type(wrong_type) == "evidence-type-not-accepted"
    assert early.status_code == 409 and problem_type(early) == "evidence-not-uploaded"
    assert _accepted(session) == 0
    assert count_rows(session, EvidenceItem) == 1


def test_photos_far_away_or_at_another_time_are_flagged(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)

    far = evidence.photo(day.a, "building", lat=day.point.lat + 0.01)
    yesterday = evidence.photo(day.a, "door", taken_at=datetime.now(UTC) - timedelta(days=1))
    bare = evidence.submit(day.a, jpeg_bytes(width=320, height=240), purpose="mailbox")

    assert far.json()["status"] == "accepted" and far.json()["flags"] == ["far_from_address"]
    assert far.json()["distance_m"] > 1_000
    assert yesterday.json()["flags"] == ["outside_visit_time", "not_on_work_date"]
    assert bare.json()["flags"] == ["no_capture_time", "no_position"]
    feed = client.get("/events", headers=auth_headers(day.supervisor)).json()["items"]
    flagged = [event["payload"] for event in feed if event["kind"] == "evidence_flagged"]
    assert [(row["evidence_id"], row["flags"]) for row in flagged] == [
        (far.json()["id"], ["far_from_address"]),
        (yesterday.json()["id"], ["outside_visit_time", "not_on_work_date"]),
        (bare.json()["id"], ["no_capture_time", "no_position"]),
    ]


def test_a_photo_of_a_visit_made_the_day_before_the_work_date_is_flagged(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.at(time(15, 0), day.work_date - timedelta(days=1))
    evidence = Evidence(day, policy=False)
    override = f"/visit-sheets/{day.sheet_id}/stops/{day.request.id}/hours-override"
    allowed = client.post(
        override, json={"reason": "the debtor leaves town tomorrow"}, headers=auth_headers(day.supervisor)
    )
    assert allowed.status_code == 200, allowed.text
    day.started()

    photo = evidence.photo(day.a, "door")

    assert photo.json()["status"] == "accepted" and photo.json()["flags"] == ["not_on_work_date"]


def test_evidence_is_seen_by_the_team_and_the_branch_only(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    item = evidence.photo(day.a, "door").json()
    branch = session.get_one(Branch, day.team.branch_id)
    other_agent = session.get_one(User, make_team(session, branch).members[0].agent_id)
    other_supervisor = make_user(session, Role.SUPERVISOR, make_branch(session))

    upload = evidence.declare(other_agent, jpeg_bytes(width=10, height=10))
    for outsider in (other_agent, other_supervisor):
        for url in (f"/evidence/{item['id']}", f"/evidence/{item['id']}/content", f"/visits/{day.visit_id()}/evidence"):
            response = client.get(url, headers=auth_headers(outsider))
            assert response.status_code == 404, (outsider.role, url)
    seen = client.get(f"/visits/{day.visit_id()}/evidence", headers=auth_headers(day.supervisor))
    thumbnail = client.get(
        f"/evidence/{item['id']}/content?thumbnail=true", headers=auth_headers(day.b), follow_redirects=False
    )
    if thumbnail.status_code == 307:  # S3: a presigned URL
        thumbnail = httpx2.get(thumbnail.headers["location"])

    assert upload.status_code == 404 and problem_type(upload) == "visit-not-found"
    assert [row["id"] for row in seen.json()] == [item["id"]]
    assert thumbnail.status_code == 200 and thumbnail.content[:3] == b"\xff\xd8\xff"
    assert count_rows(session, EvidenceItem) == 1


@pytest.mark.parametrize("settings", ["s3"], indirect=True)
def test_no_one_can_delete_locked_evidence_on_s3(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, s3_client: Any
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    item = evidence.photo(day.a, "door").json()
    key = session.get_one(EvidenceItem, UUID(item["id"])).storage_key
    version = s3_client.head_object(Bucket=BUCKET, Key=key)["VersionId"]

    with pytest.raises(ClientError) as refused:
        s3_client.delete_object(Bucket=BUCKET, Key=key, VersionId=version)

    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert s3_client.head_object(Bucket=BUCKET, Key=key)["ObjectLockMode"] == "COMPLIANCE"


@pytest.mark.parametrize("settings", ["local"], indirect=True)  # S3's objects are locked
def test_evidence_verify_finds_a_changed_byte(
    client: TestClient,
    app: FastAPI,
    session: Session,
    time_machine: TimeMachineFixture,
    settings: Settings,
    runner: CliRunner,
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    item = evidence.photo(day.a, "door").json()
    evidence.recording(day.a, 3, captured_at=datetime.now(UTC))

    intact = runner.invoke(cli, ["evidence", "verify"])
    stored = Path(settings.var_dir, "evidence", session.get_one(EvidenceItem, UUID(item["id"])).storage_key)
    stored.chmod(0o644)
    with stored.open("r+b") as file:
        file.seek(100)
        byte = file.read(1)
        file.seek(100)
        file.write(bytes([byte[0] ^ 0xFF]))
    broken = runner.invoke(cli, ["evidence", "verify"])

    assert intact.exit_code == 0 and "evidence intact: 2 items" in intact.output
    assert broken.exit_code == 1 and item["id"] in broken.output and "changed" in broken.output


@pytest.mark.parametrize("settings", ["local"], indirect=True)  # S3 uploads do not pass through the API
def test_an_upload_cut_off_keeps_what_arrived(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    data = wav_bytes(30)
    declared = evidence.declare(day.a, data, **WAV).json()
    messages = [
        {"type": "http.request", "body": data[:300_000], "more_body": True},
        {"type": "http.request", "body": data[300_000:400_000], "more_body": True},
        {"type": "http.disconnect"},  # the phone lost its network
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(name.lower().encode(), value.encode()) for name, value in auth_headers(day.a).items()]
    scope = {
        "type": "http",
        "method": "PUT",
        "path": f"/evidence/{declared['id']}/content",
        "raw_path": f"/evidence/{declared['id']}/content".encode(),
        "query_string": b"",
        "headers": [*headers, (b"upload-offset", b"0")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
        "app": app,
    }
    anyio.run(app, scope, receive, send)
    state = client.get(f"/evidence/{declared['id']}/upload", headers=auth_headers(day.a)).json()
    resumed = client.put(
        declared["upload"]["url"], content=data[400_000:], headers=auth_headers(day.a) | {"Upload-Offset": "400000"}
    )

    assert sent[0]["status"] == 400 and b"upload-interrupted" in sent[1]["body"]
    assert state["received"] == 400_000
    assert resumed.status_code == 200 and evidence.complete(day.a, declared["id"]).json()["status"] == "accepted"


@pytest.mark.parametrize("settings", ["local"], indirect=True)  # the local store's staging files
def test_evidence_sweep_frees_uploads_given_up_on_and_the_phone_starts_over(
    client: TestClient,
    app: FastAPI,
    session: Session,
    time_machine: TimeMachineFixture,
    settings: Settings,
    runner: CliRunner,
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    data = wav_bytes(30)
    declared = evidence.declare(day.a, data, **WAV).json()
    headers = auth_headers(day.a) | {"Upload-Offset": "0"}
    assert client.put(declared["upload"]["url"], content=data[:200_000], headers=headers).status_code == 200
    key = session.get_one(EvidenceItem, UUID(declared["id"])).storage_key
    staged = open_store(settings)
    assert isinstance(staged, LocalStorage)

    kept = runner.invoke(cli, ["evidence", "sweep"])  # a day old at most: the phone may still resume
    then = (datetime.now(UTC) - timedelta(days=8)).timestamp()
    os.utime(staged.staged_path(key), (then, then))
    swept = runner.invoke(cli, ["evidence", "sweep", "--idle-days", "7"])
    state = client.get(f"/evidence/{declared['id']}/upload", headers=auth_headers(day.a)).json()
    again = client.put(declared["upload"]["url"], content=data, headers=headers)

    assert kept.exit_code == 0 and "0 unfinished uploads removed" in kept.output
    assert swept.exit_code == 0 and f"removed {key}: 200000 bytes" in swept.output
    assert state["received"] == 0 and state["upload"]["method"] == "resumable"
    assert again.status_code == 200 and evidence.complete(day.a, declared["id"]).json()["status"] == "accepted"


def test_evidence_sweep_says_s3_uploads_are_not_on_this_disk(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"BACKEND": "s3", "S3_BUCKET": BUCKET, "S3_REGION": "us-east-1"}.items():
        monkeypatch.setenv(f"FIELDVISIT_EVIDENCE__{name}", value)
    refused = runner.invoke(cli, ["evidence", "sweep"])
    assert refused.exit_code == 1 and "Only the local store" in refused.output


def test_two_completions_at_once_decide_once(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day, evidence = _started(client, app, session, time_machine, policy=False)
    data = jpeg_bytes(lat=day.point.lat + 0.01, lon=day.point.lon, taken_at=datetime.now(UTC))  # flagged: far away
    declared = evidence.declare(day.a, data, purpose="building").json()
    evidence.send(day.a, declared, data)
    barrier, answers = threading.Barrier(2), []

    def complete() -> None:
        barrier.wait()
        answers.append(evidence.complete(day.a, declared["id"]))

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answer.status_code for answer in answers] == [200, 200]
    assert {answer.json()["status"] for answer in answers} == {"accepted"}
    session.expire_all()
    assert session.scalar(select(func.count()).where(Finding.kind == FindingKind.EVIDENCE_FLAGGED)) == 1


def test_a_photo_without_a_utc_offset_is_timed_by_the_clock_at_the_address(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    """A New York branch, a Chicago debtor, a door photo taken at 10:05 at the door whose EXIF time has no offset
    (most phone cameras write it so): it is 10:05 in Chicago, inside the visit, as the door rules count it; not
    10:05 in New York, an hour before anyone arrived (issue 32)."""
    day = Day(client, session, time_machine, jurisdiction=Jurisdiction.US)
    day.branch.timezone = "America/New_York"
    day.point = GeoPoint(lat=41.8781, lon=-87.6298)
    for north, request in enumerate(day.requests):
        address = session.get_one(Address, request.address_id)
        address.point = GeoPoint(lat=day.point.lat + north * 0.002, lon=day.point.lon).to_wkt()
    session.commit()
    evidence = Evidence(day, policy=False)
    day.at(time(11, 0))  # 10:00 in Chicago
    day.started()
    taken = datetime.now(UTC) + timedelta(minutes=5)

    photo = evidence.photo(day.a, "door", taken_at=taken.astimezone(ZoneInfo("America/Chicago")).replace(tzinfo=None))

    assert photo.status_code == 200 and photo.json()["flags"] == [], photo.json()
    assert datetime.fromisoformat(photo.json()["taken_at"]) == taken.replace(microsecond=0)
    assert not session.scalars(select(Finding).where(Finding.kind == FindingKind.EVIDENCE_FLAGGED)).all()
