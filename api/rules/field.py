"""The deployment's field rules one request works under: the distances and times at the door that `Settings`
holds (its env variables stay where they are), read once per request by `api.deps.field_rules` and passed to the
services in place of the settings groups. A branch's own rules (`BranchRules`) come with the row's branch."""

from dataclasses import dataclass
from datetime import timedelta

from api.rules.evidence import PHOTO_FAR_M, PHOTO_SLACK


@dataclass(frozen=True, slots=True)
class FieldRules:
    geofence_radius_m: int  # a check-in farther from the address (plus its accuracy, up to this again) is refused
    checkin_max_gap_s: int  # the two agents check in at most this far apart
    duty_margin: timedelta  # fixes are accepted this long after the end of the team's sheet
    photo_far_m: float = PHOTO_FAR_M  # a photo farther from the address does not agree with its visit
    photo_slack: timedelta = PHOTO_SLACK  # nor one taken this long before the arrival or after the visit
