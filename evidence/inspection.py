"""What photo and recording inspection share: the refusal of bytes that are not acceptable evidence."""


class Rejected(Exception):
    """The bytes are not acceptable evidence; `reason` is a short machine slug, str(exc) a sentence for people.

    Reasons: "not-an-image", "unsupported-image-format", "image-too-large", "truncated-image" (photos);
    "not-audio", "unsupported-audio-format", "truncated-audio", "empty-recording" (recordings).
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def __repr__(self) -> str:
        return f"Rejected({self.reason!r}, {self.detail!r})"
