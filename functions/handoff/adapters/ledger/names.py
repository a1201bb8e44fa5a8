"""Normalised matching keys for the customer master. Used only to match; stored names stay as given."""

import re
import unicodedata

# Legal-form tokens dropped from the end of a name when matching ("Acme GmbH" == "ACME").
LEGAL_SUFFIXES = frozenset(
    {
        "ab", "ag", "as", "bv", "co", "corp", "corporation", "gmbh", "inc", "incorporated", "kg", "kk",
        "limited", "llc", "llp", "lp", "ltd", "nv", "oy", "plc", "pte", "pty", "sa", "sarl", "sas", "se",
        "spa", "srl",
    }
)


def tax_key(tax_id: str | None) -> str | None:
    """"DE 811.907-980" -> "DE811907980"; None when there is nothing left."""
    if not tax_id:
        return None
    key = re.sub(r"[\s.\-]", "", tax_id).upper()
    return key or None


def name_key(legal_name: str) -> str:
    """Casefold, drop accents and punctuation, then trailing legal-form tokens (never all of them)."""
    decomposed = unicodedata.normalize("NFKD", legal_name.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    tokens = re.sub(r"[^\w\s]|_", " ", plain).split()
    while len(tokens) > 1 and tokens[-1] in LEGAL_SUFFIXES:
        tokens.pop()
    return " ".join(tokens)
