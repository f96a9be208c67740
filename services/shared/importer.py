"""One shape for every importer of what the manufacturer delivers (AIR content packages, the vehicle feed, the
software catalogue): check the whole input first, list every problem as `file:line: field: rule`, import only
when there is none, idempotently (the same input again changes nothing), and on the command line exit with one
code for a refusal."""
import sys
from dataclasses import dataclass

from services.shared.errors import flatten

REFUSED = 2  # the exit code of a refused input: nothing was imported
MAX_LISTED = 1000  # problems listed one by one; past that only counted


@dataclass(frozen=True)
class Problem:
    file: str  # the file, and where in it: `documents.jsonl:12`, `feed.json: vehicles[4]`
    field: str  # `-` for the whole line or file
    rule: str

    def __str__(self):
        return f"{self.file}: {self.field}: {self.rule}"


class Refused(Exception):
    """The input broke rules: every problem (the first MAX_LISTED of `total`); nothing was imported."""

    def __init__(self, problems, total=None):
        self.problems = list(problems)
        self.total = len(self.problems) if total is None else total
        super().__init__(f"refused: {self.total} problem(s); nothing was imported")


def invalid(where, validation_error, label=None):
    """A marshmallow ValidationError of one row as Problems, one per field."""
    place = f"{where} ({label})" if label else where
    return [Problem(place, path, text) for path, text in flatten(validation_error.messages)]


def command(run):
    """Run an importer's command line: print what `run()` returns, or each problem of a refusal and exit
    REFUSED."""
    try:
        print(run())
    except Refused as refused:
        for problem in refused.problems:
            print(problem, file=sys.stderr)
        more = refused.total - len(refused.problems)
        print(f"refused: {refused.total} problem(s){f' ({more} more not listed)' if more else ''}; "
              "nothing was imported", file=sys.stderr)
        return REFUSED
    return 0
