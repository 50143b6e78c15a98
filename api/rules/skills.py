"""Which skills a visit needs and a team has: a debtor who has complained before is visited by an experienced team
only. Planning, the day's changes and the requests' pages all ask here."""

EXPERIENCED = "experienced"


def required_skills(complaint_history: bool) -> frozenset[str]:
    """The skills a team needs to visit a case."""
    return frozenset({EXPERIENCED}) if complaint_history else frozenset()


def team_skills(experienced: bool) -> frozenset[str]:
    """The skills a team has."""
    return frozenset({EXPERIENCED}) if experienced else frozenset()
