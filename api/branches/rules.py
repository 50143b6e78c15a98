"""A branch row's field rules (`api.rules`), built once per request or planning run."""

from api.models.branches import Branch
from api.rules.branch import BranchRules
from api.rules.packs import pack
from api.rules.tracking import TrackingRules


def rules_of(branch: Branch) -> BranchRules:
    """The branch's field rules: its jurisdiction's pack and its own stricter settings."""
    return BranchRules(
        pack=pack(branch.jurisdiction),
        timezone=branch.timezone,
        visiting_from=branch.visiting_from,
        visiting_until=branch.visiting_until,
        recording_coverage=branch.evidence_recording_coverage,
        photo_purposes=tuple(branch.evidence_photo_purposes),
        max_on_site_s=branch.max_on_site_min * 60,
        tracking=TrackingRules(
            retention_days=branch.track_retention_days,
            out_of_contact_s=branch.out_of_contact_min * 60,
            off_route_m=branch.off_route_m,
            off_route_s=branch.off_route_min * 60,
            presence_threshold=branch.presence_threshold,
        ),
    )
