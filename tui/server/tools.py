"""Function calling for the simulated model: which tool a turn calls, and with what arguments.

The rule is deliberately simple and documented, so a client's test can predict it:

- Only tools of `type: "function"` are considered, from `response.tools` when the
  `response.create` gives them, else from the session.
- `tool_choice`:
  - `"none"` never calls a tool;
  - `"auto"` calls the best matching tool, if any matches, and never right after a
    `function_call_output` (the model then answers about that output instead);
  - `"required"` calls the best match, or the first tool when nothing matches;
  - `{"type": "function", "name": N}` always calls tool N.
  `required` and a named tool call again even after a tool output, as the service does.
- A tool matches what was heard when a word of its name appears in it (generic verbs such as
  "get", "set", "fetch", "lookup" do not count: `get_weather` matches "weather"), or when at
  least two content words of its description do. Plural "s" is ignored. The best match has the
  most name words heard (twice as much as description words); ties go to the earlier tool.
- Arguments are a JSON object built from the tool's JSON-schema `parameters`: every required
  property is present, optional ones only when the heard text supplies them. Strings named like a
  place (`location`, `city`, ...) take the capitalised words after "in"/"at"/"for"/"from"/"to"
  ("in London" -> "London"); query-like strings (`query`, `text`, ...) take the heard text;
  enums take the member that was said, else their first; numbers take the first number said;
  anything else gets a plausible placeholder (or the schema `default`).
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

_WORD = re.compile(r"[A-Za-z0-9']+")
_NAME_SPLIT = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_ARG_PIECE = re.compile(r"[A-Za-z0-9_]+|\s+|[^A-Za-z0-9_\s]+")

#: Words of a tool name that say what it does, not what it is about.
_GENERIC_NAME_WORDS = frozenset(
    "get set fetch find lookup look up search query do make create update delete remove list show check call "
    "run send current info information data the a an for of to by and tool function api my".split()
)
#: Common words that never count as description matches.
_STOP_WORDS = frozenset(
    "about after also because been before being from have into just like make more most much only other "
    "over same some such than that their them then there these they this those through very what when where "
    "which while will with would your current given specified return returns provide provided user users "
    "information details value values using used".split()
)
_PLACE_NAMES = frozenset(
    "location city place town country destination origin where address region area state locale venue".split()
)
_TEXT_NAMES = frozenset("query q text question message prompt input search term terms topic content request".split())
_PLACE_LEAD = frozenset({"in", "at", "for", "from", "to", "near"})
_SKIP_AFTER_LEAD = frozenset({"the", "a", "an", "city", "of", "town"})
_NOT_PLACES = frozenset(
    "today tomorrow tonight yesterday now me you it this that there here weekend morning evening afternoon "
    "night week month year".split()
)
_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
_PLAUSIBLE_PLACE = "San Francisco"


def function_tools(tools: Any) -> list[dict[str, Any]]:
    """The function tools of a `tools` list (MCP and malformed entries are skipped)."""
    if not isinstance(tools, list):
        return []
    return [t for t in tools if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("name"), str)]


def choose_tool(tools: Any, tool_choice: Any, heard: str, *, after_tool_output: bool) -> dict[str, Any] | None:
    """The function tool this turn calls, or None to answer in words (see the module rules)."""
    candidates = function_tools(tools)
    if not candidates or tool_choice == "none":
        return None
    if isinstance(tool_choice, dict):
        if tool_choice.get("type") != "function":
            return None
        wanted = tool_choice.get("name")
        return next((t for t in candidates if t["name"] == wanted), None)
    best = _best_match(candidates, heard)
    if tool_choice == "required":
        return best or candidates[0]
    return None if after_tool_output else best


def _best_match(tools: list[dict[str, Any]], heard: str) -> dict[str, Any] | None:
    said = {_stem(w) for w in _WORD.findall(heard.lower())}
    best: dict[str, Any] | None = None
    best_score = 0
    for tool in tools:
        name_hits = len(_name_words(tool["name"]) & said)
        description_hits = len(_description_words(str(tool.get("description") or "")) & said)
        if name_hits == 0 and description_hits < 2:
            continue
        score = 2 * name_hits + description_hits
        if score > best_score:
            best, best_score = tool, score
    return best


def _name_words(name: str) -> set[str]:
    words = {_stem(w.lower()) for part in re.split(r"[_\-.\s]+", name) for w in _NAME_SPLIT.findall(part)}
    specific = {w for w in words if w not in _GENERIC_NAME_WORDS}
    return specific or words


def _description_words(description: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(description.lower()) if len(w) >= 4 and w not in _STOP_WORDS}


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


# ---- arguments -----------------------------------------------------------------------------


def build_arguments(tool: dict[str, Any], heard: str) -> str:
    """The JSON `arguments` string of a call to `tool` for the heard text."""
    parameters = tool.get("parameters")
    value, _ = _fill_object(parameters if isinstance(parameters, dict) else {}, heard)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def argument_pieces(arguments: str) -> list[str]:
    """Cut an arguments string into token-like deltas (`{"`, `location`, `":"`, `London`, `"}`)."""
    return _ARG_PIECE.findall(arguments) or ([arguments] if arguments else [])


def _fill_object(schema: dict[str, Any], heard: str) -> tuple[dict[str, Any], bool]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}, False
    required = schema.get("required")
    required_names = set(required) if isinstance(required, list) else set()
    out: dict[str, Any] = {}
    any_heard = False
    for name, prop in properties.items():
        value, from_heard = _fill(str(name), prop if isinstance(prop, dict) else {}, heard)
        if name in required_names or from_heard:
            out[str(name)] = value
            any_heard = any_heard or from_heard
    return out, any_heard


def _fill(name: str, schema: dict[str, Any], heard: str) -> tuple[Any, bool]:
    """A value for one property and whether it came from the heard text."""
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        lowered = heard.lower()
        for member in enum:
            if isinstance(member, str) and re.search(rf"\b{re.escape(member.lower())}\b", lowered):
                return member, True
        return schema.get("default", enum[0]), False
    kind = _schema_type(schema)
    if kind == "object":
        return _fill_object(schema, heard)
    if kind == "array":
        items = schema.get("items")
        value, from_heard = _fill(name, items if isinstance(items, dict) else {"type": "string"}, heard)
        return [value], from_heard
    if kind in ("integer", "number"):
        number = _first_number(heard)
        if number is not None:
            return (int(number) if kind == "integer" else number), True
        fallback = schema.get("default", schema.get("minimum", 1))
        return (int(fallback) if kind == "integer" and isinstance(fallback, int | float) else fallback), False
    if kind == "boolean":
        said = name.lower().replace("_", " ") in heard.lower()
        return (True, True) if said else (schema.get("default", False), False)
    return _fill_string(name, schema, heard)


def _fill_string(name: str, schema: dict[str, Any], heard: str) -> tuple[Any, bool]:
    key = name.lower()
    words = set(re.split(r"[_\-\s]+", key))
    description = str(schema.get("description") or "").lower()
    if words & _PLACE_NAMES or re.search(r"\b(city|location|place)\b", description):
        place = place_in(heard)
        if place is not None:
            return place, True
        return schema.get("default", _PLAUSIBLE_PLACE), False
    if words & _TEXT_NAMES and heard.strip():
        return heard.strip(), True
    if "default" in schema:
        return schema["default"], False
    fmt = schema.get("format")
    if fmt == "date" or "date" in words:
        return datetime.date.today().isoformat(), False
    if fmt == "date-time":
        return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(), False
    if fmt == "email" or "email" in words:
        return "user@example.com", False
    if "language" in words or "lang" in words:
        return "en", False
    if "name" in words:
        return "Alex", False
    return "example", False


def place_in(heard: str) -> str | None:
    """The place named after "in", "at", "for", ... ("weather in New York today" -> "New York")."""
    tokens = _WORD.findall(heard)
    found: str | None = None
    for index, token in enumerate(tokens):
        if token.lower() not in _PLACE_LEAD:
            continue
        rest = tokens[index + 1 :]
        while rest and rest[0].lower() in _SKIP_AFTER_LEAD:
            rest = rest[1:]
        if not rest or rest[0].lower() in _NOT_PLACES or rest[0].isdigit():
            continue
        words = [rest[0]]
        # A multi-word place continues while the recognizer capitalised it ("New York").
        for follower in rest[1:]:
            if not follower[:1].isupper():
                break
            words.append(follower)
        candidate = " ".join(w[:1].upper() + w[1:] for w in words)
        if rest[0][:1].isupper():
            return candidate
        found = found or candidate
    return found


def _first_number(heard: str) -> float | None:
    for token in re.findall(r"-?\d+(?:\.\d+)?|[A-Za-z]+", heard):
        if token[0].isdigit() or token[0] == "-":
            value = float(token)
            return value
        if token.lower() in _NUMBER_WORDS:
            return float(_NUMBER_WORDS[token.lower()])
    return None


def _schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None and isinstance(schema.get("properties"), dict):
        return "object"
    return kind if isinstance(kind, str) else "string"


# ---- the follow-up answer --------------------------------------------------------------------


def summarize_output(output: str, *, limit: int = 200) -> str:
    """A short spoken summary of a `function_call_output` ("temperature 18, conditions sunny")."""
    try:
        data = json.loads(output)
    except ValueError:
        data = output
    text = _summary(data).strip()
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text or "no result"


def _summary(data: Any) -> str:
    if isinstance(data, dict):
        return ", ".join(f"{str(k).replace('_', ' ')} {_summary(v)}" for k, v in data.items())
    if isinstance(data, list):
        return ", ".join(_summary(v) for v in data)
    if isinstance(data, bool):
        return "yes" if data else "no"
    if data is None:
        return "nothing"
    if isinstance(data, float) and data.is_integer():
        return str(int(data))
    return str(data)
