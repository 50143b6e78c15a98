from api.rules.branch import BranchRules
from api.rules.packs import pack


def rules(code: str = "CN", timezone: str = "Asia/Shanghai", **fields: object) -> BranchRules:
    """A branch's rules under a jurisdiction's pack, with the branch's own settings left at the pack's."""
    values: dict[str, object] = dict(
        pack=pack(code),
        timezone=timezone,
        visiting_from=None,
        visiting_until=None,
        recording_coverage=0.9,
        photo_purposes=("door", "mailbox"),
        max_on_site_s=3600,
    )
    return BranchRules(**(values | fields))  # type: ignore[arg-type]
