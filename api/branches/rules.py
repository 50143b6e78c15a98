"""A branch row's field rules (`api.rules`), built once per request or planning run."""

from api.branches.models import Branch
from api.rules.branch import BranchRules
from api.rules.packs import pack


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
    )
