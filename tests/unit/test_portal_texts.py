"""Every text the portal shows through t() or marks with N_() has its German, and every placeholder in it
survives the translation."""
import re

from services.shared.config import ROOT

SOURCES = ROOT / "portal" / "src"
QUOTED = r"""'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)\""""


def _strings(pattern, text):
    for match in re.finditer(pattern, text):
        yield (match.group(1) if match.group(1) is not None else match.group(2)).replace("\\'", "'")


def english():
    found = set()
    for path in SOURCES.rglob("*.js"):
        if path.name != "de.js":
            found.update(_strings(r"\b(?:t|N_)\(\s*(?:" + QUOTED + ")", path.read_text()))
    return found


def german():
    text = (SOURCES / "de.js").read_text()
    pairs = re.findall(r"^\s*(?:(\w+)|" + QUOTED + r"):\s*\n?\s*(?:" + QUOTED + "),?$", text, re.M)
    return {(key or k1 or k2).replace("\\'", "'"): (v1 or v2).replace("\\'", "'") for key, k1, k2, v1, v2 in pairs}


def test_every_text_of_the_portal_has_its_german():
    texts, de = english(), german()
    assert len(texts) > 250  # the extraction works
    missing = sorted(texts - de.keys())
    assert not missing, "no German for:\n" + "\n".join(missing)


def test_placeholders_survive_translation():
    for text, translation in german().items():
        assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", translation)), text
