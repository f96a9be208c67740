"""One shape for every importer of what the manufacturer delivers (AIR content packages, the vehicle feed, the
software catalogue): check the whole input first, list every problem as `file:line: field: rule`, import only
when there is none, idempotently (the same input again changes nothing), and on the command line exit with one
code for a refusal."""
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from marshmallow import RAISE, Schema, fields, validate

from services.shared.errors import flatten

REFUSED = 2  # the exit code of a refused input: nothing was imported
MAX_LISTED = 1000  # problems listed one by one; past that only counted


class Strict(Schema):
    """A record of a package: a field the format does not know is a problem, never skipped."""
    class Meta:
        unknown = RAISE


def text_field(max_length, **kw):
    """A text of 1 to `max_length` characters."""
    return fields.String(validate=validate.Length(min=1, max=max_length), **kw)


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


class Package:
    """A folder or a zip, read the same way."""

    def __init__(self, path):
        self.path = Path(path)
        self._zip = zipfile.ZipFile(self.path) if self.path.is_file() else None
        if self._zip is not None:
            names = self._zip.namelist()
            # a zip of the folder itself: strip the one leading folder name
            roots = {n.split("/", 1)[0] for n in names}
            self._prefix = (roots.pop() + "/") if len(roots) == 1 and "manifest.json" not in names else ""
            self._sizes = {n[len(self._prefix):]: self._zip.getinfo(n).file_size for n in names if not n.endswith("/")}
        elif not self.path.is_dir():
            raise Refused([Problem(str(path), "-", "no package here: give a folder or a .zip")])

    def size(self, name):
        if self._zip is not None:
            return self._sizes.get(name)
        target = self.path / name
        return target.stat().st_size if target.is_file() else None

    def read(self, name):
        if self._zip is not None:
            return self._zip.read(self._prefix + name)
        return (self.path / name).read_bytes()

    def lines(self, name):
        if self._zip is not None:
            with self._zip.open(self._prefix + name) as handle:
                for raw in handle:
                    yield raw.decode("utf-8")
        else:
            with open(self.path / name, encoding="utf-8") as handle:
                yield from handle


def safe(name):
    """A path inside the package: neither absolute nor climbing out of it."""
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts
