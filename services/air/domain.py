"""AIR's rules in plain Python: the document types of EU 2018/858 Annex X, the manufacturer's main groups,
whether a document applies to a vehicle, who may read what, and how a workshop's search text becomes a query
(user text is text: nothing in it reaches an engine as syntax)."""
import re
from dataclasses import dataclass
from datetime import date

from services.air.schemas import DOCUMENT_TYPES, LANGUAGES, MAX_QUERY_CHARS, SYSTEMS  # noqa: F401  (the contract's words)
from services.billing.access import covers
from services.shared.errors import PaymentRequired

FAULT_CODE = re.compile(r"^[PCBU][0-3][0-9A-F]{3}$")
MAX_TERMS = 16
PAIR_BOOST = 2.0
FUZZY_MIN_LENGTH = 4  # "1" or "oil" one edit away would match half the library
ANY = "*"  # an empty applicability list: the document applies to every series (model, engine)
EARLIEST, LATEST = 0, 99991231


def day_number(d):
    """A date as the integer YYYYMMDD both engines range-filter on."""
    return d.year * 10000 + d.month * 100 + d.day


# ---- what a workshop typed --------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Words:
    """A search text taken apart: loose terms, "quoted phrases" (each a list of terms), fault codes."""
    terms: tuple = ()
    phrases: tuple = ()
    codes: tuple = ()
    pairs: tuple = ()  # neighbouring terms as typed: "cylinder 1" ranks above "cylinder 2 … 1"

    @property
    def empty(self):
        return not (self.terms or self.phrases)


def tokens(text):
    """Lower-case words as both engines' standard analysers cut them: letters and digits, nothing else."""
    return [t.lower() for t in _TOKEN.findall(text)]


def read_text(text):
    """Quoted parts become phrases, the rest loose terms; a fault-code-shaped word is also a code. Quotes without
    a partner, operators, brackets, colons, wildcards: all just characters between words."""
    phrases, rest = [], []
    for i, part in enumerate(text.split('"')):
        inside = i % 2 == 1 and i < text.count('"')
        words = tokens(part)
        if inside and len(words) > 1:
            phrases.append(tuple(words))
        else:
            rest.extend(words)
    terms = tuple(dict.fromkeys(rest))[:MAX_TERMS]
    codes = tuple(t.upper() for t in dict.fromkeys(rest + [w for p in phrases for w in p])
                  if FAULT_CODE.match(t.upper()))
    pairs = tuple((a, b) for a, b in zip(rest, rest[1:]) if a != b)[:MAX_TERMS]
    return Words(terms=terms, phrases=tuple(phrases[:4]), codes=codes, pairs=pairs)


# ---- the car on the lift ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Vehicle:
    """What applicability is checked against: from vehicle data's describe."""
    vin: str
    series: str
    model_code: str
    engine_code: str
    production_date: date

    @classmethod
    def from_described(cls, described):
        produced = described["production_date"]
        if isinstance(produced, str):
            produced = date.fromisoformat(produced)
        return cls(described["vin"], described["series"], described["model_code"], described["engine_code"],
                   produced)


def applies(applicability, vehicle):
    """Whether a document's applicability covers the vehicle: every list empty or naming it, the production
    date inside the range."""
    if vehicle is None:
        return True
    for key, value in (("series", vehicle.series), ("model_codes", vehicle.model_code),
                       ("engine_codes", vehicle.engine_code)):
        if applicability.get(key) and value not in applicability[key]:
            return False
    produced_from, produced_until = applicability.get("produced_from"), applicability.get("produced_until")
    if produced_from and vehicle.production_date < _date(produced_from):
        return False
    if produced_until and vehicle.production_date > _date(produced_until):
        return False
    return True


def _date(value):
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass(frozen=True)
class Filters:
    """What narrows a search or the navigation: document types, main groups, language, the vehicle."""
    types: tuple = ()
    systems: tuple = ()
    language: str | None = None
    vehicle: Vehicle | None = None


# ---- who may read ----------------------------------------------------------------------------------------------

def may_read(accesses, vin, now):
    """AIR access, or a VIN pass for the vehicle in question."""
    return any(covers(a, "air", vin, now) for a in accesses)


def access_required(document_id, vin, tariffs):
    return PaymentRequired(
        "ACCESS_REQUIRED",
        "Opening technical documents needs access to technical information: buy an hour or longer, or a VIN pass "
        "for the vehicle (then open the document for that VIN).",
        {"document_id": document_id, "vin": vin, "tariffs": tariffs})


# ---- partners' mirrors ------------------------------------------------------------------------------------------

def for_series(document, series):
    """A document a mirror of `series` keeps: it applies to that series, or to every one (no series named)."""
    return series is None or not document.applicability.get("series") or series in document.applicability["series"]


def exported(document):
    """A document as a line of an export or a change feed: the whole record, or, withdrawn, its tombstone."""
    if document.withdrawn_at is not None:
        return {"cursor": str(document.revision), "id": document.id, "deleted": True}
    return {"cursor": str(document.revision), "id": document.id, "deleted": False, "type": document.type,
            "title": document.title, "system": document.system, "language": document.language,
            "version": document.version, "valid_from": document.valid_from, "codes": document.codes,
            "applicability": document.applicability, "body": document.body,
            "binaries": [{k: b[k] for k in ("name", "title", "media_type", "size", "sha256") if k in b}
                         for b in document.binaries]}
