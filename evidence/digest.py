"""SHA-256 of a file computed while it is being written: a thread follows the file and reads what was appended.

A large upload is hashed from the stored bytes as they land, on a second core, instead of in one more pass after
the upload ends; the caller still gets the digest of exactly the bytes the file holds. The thread also starts writing
back to disk what it has hashed, so the fsync that seals the file finds little left to write.
"""

import hashlib
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

CHUNK_SIZE = 1 << 20
WRITEBACK_STEP = 8 << 20  # hashed bytes handed to the disk at a time
POLL_S = (0.005, 0.2)  # how long to wait for more bytes: the first time, and at most (doubling in between)
IDLE_S = 60.0  # a follower of a file that stopped growing gives up; the caller hashes the file itself then


def sha256_of(chunks: Iterable[bytes]) -> tuple[str, int]:
    """SHA-256 (hex) and size of a stream of bytes."""
    sha, size = hashlib.sha256(), 0
    for chunk in chunks:
        sha.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), size


class FileFollower(threading.Thread):
    """Hashes `path` from its first byte, following it as it grows, until closed or idle."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True, name=f"sha256 {path.name}")
        self._file = path.open("rb")
        self.inode = os.fstat(self._file.fileno()).st_ino
        self._sha, self.position, self._written_back = hashlib.sha256(), 0, 0
        self._closed, self._lock = threading.Event(), threading.Lock()
        self.start()

    def run(self) -> None:
        idle_since, wait = time.monotonic(), POLL_S[0]
        with self._file:
            while not self._closed.is_set():
                chunk = self._file.read(CHUNK_SIZE)
                if chunk:
                    with self._lock:
                        self._sha.update(chunk)
                        self.position += len(chunk)
                    if self.position - self._written_back >= WRITEBACK_STEP:
                        self._start_writeback()
                    idle_since, wait = time.monotonic(), POLL_S[0]
                elif time.monotonic() - idle_since > IDLE_S:
                    return
                else:
                    self._closed.wait(wait)
                    wait = min(2 * wait, POLL_S[1])

    def _start_writeback(self) -> None:
        """Start writing the hashed bytes back to disk, without waiting for it. On Linux, POSIX_FADV_DONTNEED starts
        write-back of a range's dirty pages (PostgreSQL's pg_flush_data relies on it too) and drops no dirty page;
        where there is no posix_fadvise the seal's fsync writes everything."""
        if hasattr(os, "posix_fadvise"):
            length = self.position - self._written_back
            os.posix_fadvise(self._file.fileno(), self._written_back, length, os.POSIX_FADV_DONTNEED)
        self._written_back = self.position

    def digest(self, size: int, timeout: float) -> str | None:
        """The digest once exactly `size` bytes are hashed; None if the follower stopped or went past `size`."""
        deadline = time.monotonic() + timeout
        while self.is_alive() and self.position < size and time.monotonic() < deadline:
            time.sleep(POLL_S[0])
        with self._lock:
            return self._sha.hexdigest() if self.position == size else None

    def close(self) -> None:
        self._closed.set()
