"""How words written by hand at the door are compared: the same words in any order, case, width or spacing."""

import re
import unicodedata

_WORD = re.compile(r"\w+")


def words_key(text: str) -> str:
    """The words of `text` casefolded (full-width folded to ASCII first), sorted and joined by single spaces:
    'Neighbour,  Flat 302' and 'flat 302 neighbour' have the same key."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(sorted(set(_WORD.findall(folded))))
