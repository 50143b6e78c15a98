"""A branch's rules, gathered once per request or planning run: its jurisdiction's pack and the stricter settings
the branch adds. The firm-wide distances at the door come from `Settings` into `api.rules.position`."""

from dataclasses import dataclass, field
from datetime import time

from api.rules.packs import Pack, Rule
from api.rules.tracking import TrackingRules


@dataclass(frozen=True, slots=True)
class BranchRules:
    pack: Pack
    timezone: str  # the branch's: its planning day and work dates count on this clock
    visiting_from: time | None  # the branch's own hours, only ever inside the pack's; None: the pack's
    visiting_until: time | None
    recording_coverage: float  # share of the time on site the recordings must cover
    photo_purposes: tuple[str, ...]  # photos a visit needs before it is complete
    max_on_site_s: int  # a visit longer on site is flagged for review
    tracking: TrackingRules = field(default_factory=TrackingRules)

    @property
    def opens(self) -> time:
        return max(self.pack.hours.opens, self.visiting_from or self.pack.hours.opens)

    @property
    def closes(self) -> time:
        return min(self.pack.hours.closes, self.visiting_until or self.pack.hours.closes)

    @property
    def hours_rule(self) -> Rule:
        """The rule the hours come from: the pack's, or the branch's when it is stricter."""
        hours = self.pack.hours
        if (self.opens, self.closes) == (hours.opens, hours.closes):
            return hours.rule
        return Rule(
            f"branch hours {self.opens:%H:%M}–{self.closes:%H:%M}",
            f"the branch's setting, stricter than {hours.rule.label} ({hours.rule.source})",
        )


def looser_hours(pack: Pack, visiting_from: time | None, visiting_until: time | None) -> str | None:
    """Why a branch's hours are not allowed (they may only be stricter than the pack's), or None."""
    hours = pack.hours
    if visiting_from is not None and visiting_from < hours.opens:
        return f"{pack.code} visits start at {hours.opens:%H:%M} at the earliest ({hours.rule.label})"
    if visiting_until is not None and visiting_until > hours.closes:
        return f"{pack.code} visits end by {hours.closes:%H:%M} at the latest ({hours.rule.label})"
    return None
