"""What an upgrade request asks for, and why it may be refused (protocol reference §1.2, §1.3, §7).

The service always completes the 101 upgrade; a refusal is then an `error` event followed at
once by a close frame: 3000 for authentication, 4000 for the model and the API shape.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers

from tui.protocol import Dialect

from .config import SimulatorConfig
from .errors import ProtocolError
from .session_schema import is_realtime_model
from .session_state import REALTIME, TRANSCRIPTION

KEY_SUBPROTOCOL_PREFIX = "openai-insecure-api-key."
BETA_SUBPROTOCOL = "openai-beta.realtime-v1"

AUTH_CLOSE_CODE = 3000
SHAPE_CLOSE_CODE = 4000

#: Families of OpenAI models that exist but do not serve realtime sessions.
_OTHER_OPENAI_MODELS = ("gpt-", "whisper", "tts-", "o1", "o3", "o4", "dall-e", "text-", "chatgpt")


@dataclass(frozen=True, slots=True)
class Accepted:
    """A session to serve."""

    kind: str
    """"realtime" or "transcription" (`?intent=transcription`)."""
    model: str | None
    """The realtime model; None for transcription sessions."""


@dataclass(frozen=True, slots=True)
class Refused:
    """An upgrade to answer with `error` and then close."""

    error: ProtocolError
    close_code: int

    @property
    def close_reason(self) -> str:
        """`invalid_request_error.<code>`, or the bare error type when there is no code."""
        return f"{self.error.error_type}.{self.error.code}" if self.error.code else self.error.error_type


def offered_subprotocols(headers: Headers) -> list[str]:
    """The subprotocols a client offered, in order."""
    return [token.strip() for value in headers.get_all("Sec-WebSocket-Protocol") for token in value.split(",") if token]


def check_request(path: str, headers: Headers, config: SimulatorConfig) -> Accepted | Refused:
    """Decide what to do with an upgrade: authentication, then the API shape, then the model."""
    subprotocols = offered_subprotocols(headers)
    refusal = _check_key(headers, subprotocols, config.api_key)
    if refusal is not None:
        return refusal
    wants_beta = BETA_SUBPROTOCOL in subprotocols or any(
        "realtime=v1" in value.replace(" ", "") for value in headers.get_all("OpenAI-Beta")
    )
    if wants_beta and config.dialect is Dialect.GA:
        return Refused(
            ProtocolError(
                "beta_api_shape_disabled",
                "The Realtime Beta API is no longer supported. Please migrate to the GA API "
                "(remove the 'OpenAI-Beta: realtime=v1' header).",
            ),
            SHAPE_CLOSE_CODE,
        )
    query = parse_qs(urlsplit(path).query)
    intent = _first(query, "intent")
    model = _first(query, "model") or config.default_model
    if intent is not None:
        if intent != TRANSCRIPTION:
            return Refused(
                ProtocolError("invalid_intent", f"Invalid intent '{intent}'. Supported values are: 'transcription'."),
                SHAPE_CLOSE_CODE,
            )
        return Accepted(TRANSCRIPTION, None)
    if model is None:
        return Refused(
            ProtocolError("missing_model", "You must provide a model parameter (e.g. ?model=gpt-realtime)."),
            SHAPE_CLOSE_CODE,
        )
    if not is_realtime_model(model):
        return Refused(ProtocolError("invalid_model", _invalid_model_message(model)), SHAPE_CLOSE_CODE)
    return Accepted(REALTIME, model)


def _check_key(headers: Headers, subprotocols: list[str], expected: str | None) -> Refused | None:
    if expected is None:
        return None
    authorizations = headers.get_all("Authorization")
    if len(authorizations) > 1:
        # Which one would count is anybody's guess: refused as a wrong key is (3000), never a crash.
        return Refused(
            ProtocolError(
                "invalid_api_key",
                f"{len(authorizations)} Authorization headers provided; send exactly one "
                "(Authorization: Bearer YOUR_KEY).",
            ),
            AUTH_CLOSE_CODE,
        )
    presented = _authorization_key(authorizations[0]) if authorizations else None
    for token in subprotocols:
        if token.startswith(KEY_SUBPROTOCOL_PREFIX):
            presented = token[len(KEY_SUBPROTOCOL_PREFIX) :]
    if not presented:
        return Refused(
            ProtocolError(
                None,
                # The realtime socket's wording (protocol reference §7), not the longer REST one.
                "Missing bearer or basic authentication in header",
            ),
            AUTH_CLOSE_CODE,
        )
    if not hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8")):
        return Refused(
            ProtocolError(
                "invalid_api_key",
                f"Incorrect API key provided: {_mask(presented)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
            ),
            AUTH_CLOSE_CODE,
        )
    return None


def _authorization_key(value: str) -> str | None:
    """The key an Authorization header presents: a Bearer token, or the password of Basic auth
    (the service takes the key as the password, any user name); None for anything else."""
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, colon, password = decoded.partition(":")
        return password if colon else None
    return None


def _invalid_model_message(model: str) -> str:
    if model.startswith(_OTHER_OPENAI_MODELS):
        return f"Model '{model}' is not supported in realtime mode."
    return f"The model '{model}' does not exist or you do not have access to it."


def _mask(key: str) -> str:
    # The service shows only the ends of a wrong key, never the whole of it.
    return f"{key[:3]}*****{key[-4:]}" if len(key) > 8 else "*" * len(key)


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None
