from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime


class JobLease(Base):
    """A background job's lease, shared by every process of every machine that may run it: the process running a
    round (`worker`, "host:pid") keeps `lease_until` moving while it works; a lease that lapsed, or whose process on
    this host is gone, is taken over by the next process that looks. `ended_at`: when its last round ended, so that
    a job runs as often as it is declared to across all processes, not in each."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    worker: Mapped[str] = mapped_column(String(300), default="", server_default="")
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
