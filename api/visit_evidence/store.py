"""The evidence store the settings name, and which content types each kind of evidence may have."""

from api.config import Settings
from api.models.visit_evidence import EvidenceKind
from evidence.storage import LocalStorage, S3Storage, Storage

# declared content type -> (file extension, the types the inspected bytes may turn out to be)
_PHOTO = {
    "image/jpeg": ("jpg", {"image/jpeg"}),
    "image/png": ("png", {"image/png"}),
    "image/heic": ("heic", {"image/heic"}),
}
_AUDIO = {
    "audio/mp4": ("m4a", {"audio/mp4"}),
    "audio/x-m4a": ("m4a", {"audio/mp4"}),
    "audio/3gpp": ("3gp", {"audio/mp4"}),
    "audio/mpeg": ("mp3", {"audio/mpeg"}),
    "audio/ogg": ("ogg", {"audio/ogg"}),
    "audio/opus": ("opus", {"audio/ogg"}),
    "audio/wav": ("wav", {"audio/wav"}),
    "audio/x-wav": ("wav", {"audio/wav"}),
    "audio/amr": ("amr", {"audio/amr"}),
}
CONTENT_TYPES: dict[EvidenceKind, dict[str, tuple[str, set[str]]]] = {
    EvidenceKind.PHOTO: _PHOTO,
    EvidenceKind.RECORDING: _AUDIO,
    EvidenceKind.DOCUMENT: _PHOTO | {"application/pdf": ("pdf", {"application/pdf"})},
}


def open_store(settings: Settings) -> Storage:
    options = settings.evidence
    if options.backend == "s3":
        return S3Storage(
            bucket=options.s3_bucket,
            prefix=options.s3_prefix,
            region=options.s3_region,
            endpoint_url=options.s3_endpoint_url,
            retention_days=options.s3_retention_days,
            retention_mode=options.s3_retention_mode,
            multipart_threshold_bytes=options.multipart_threshold_bytes,
            part_size_bytes=options.part_size_bytes,
        )
    return LocalStorage(options.local_dir or settings.var_dir / "evidence")
