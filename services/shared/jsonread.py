"""Reading what comes from outside as JSON, once and strictly: a body or a query that a strict reader would not
take is refused here with a clear error naming where, before anything else sees it. Refused: text that is not
UTF-8, a lone surrogate (`"\\ud800"`, which no UTF-8 can carry further), NUL (no database keeps it in text), and
nesting deeper than any request of ours needs (a 2 KB body of brackets must not exhaust a stack)."""
import json

from services.shared.errors import BadRequest, InvalidInput

MAX_DEPTH = 32


def _bad_text(text):
    """Why a string cannot be taken, or None."""
    if "\x00" in text:
        return "must not contain NUL (\\u0000)"
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return "must not contain a lone surrogate (\\ud800-\\udfff): send UTF-8 text"
    return None


def _refused(field, path, message):
    """INVALID_TEXT naming the field both ways a client reads refusals: `field` (a dotted path) and `fields`
    (nested, as a schema's validation error lists them)."""
    nested = [message]
    for key in reversed(path):
        nested = {key: nested}
    return InvalidInput("INVALID_TEXT", f"{field} {message}.", {"field": field, "rule": "text",
                                                                "fields": nested if path else {field: [message]}})


def check(value, where="body"):
    """Walks `value` (without recursion) and refuses the first string that cannot be taken, naming its path,
    and nesting past MAX_DEPTH."""
    stack = [(value, (), 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest("BODY_TOO_DEEP", f"The {where} is nested deeper than {MAX_DEPTH} levels.",
                             {"max_depth": MAX_DEPTH, "field": ".".join(map(str, path[:MAX_DEPTH])) or where})
        if isinstance(item, dict):
            for key, inner in item.items():
                problem = _bad_text(key)
                if problem:
                    raise InvalidInput("INVALID_TEXT", f"A name in the {where} {problem}.",
                                       {"field": ".".join(map(str, path)) or where, "rule": "text"})
                stack.append((inner, path + (key,), depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, path + (i,), depth + 1) for i, inner in enumerate(item))
        elif isinstance(item, str):
            problem = _bad_text(item)
            if problem:
                raise _refused(".".join(map(str, path)) or where, path, problem)
    return value


def parse(raw, where="body"):
    """The JSON document in `raw` (bytes), checked; BadRequest (400) for what is not JSON at all."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("MALFORMED_JSON", f"The {where} is not valid JSON: {exc}.")
    except RecursionError:
        raise BadRequest("BODY_TOO_DEEP", f"The {where} is nested deeper than {MAX_DEPTH} levels.",
                         {"max_depth": MAX_DEPTH})
    return check(value, where)
