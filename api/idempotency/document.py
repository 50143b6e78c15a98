"""How the Idempotency-Key appears in the OpenAPI document: on every POST, with its replay header and problems."""

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from api.idempotency.middleware import IdempotencyKeyInvalid, IdempotencyKeyReused, RequestInProgress
from api.models.idempotency import KEY_FORMAT, KEY_PATTERN, MAX_KEY_LENGTH
from api.problems import PROBLEM_MEDIA_TYPE, Problem, problem_model

_REPLAYED = {
    "description": "`true` when this is the kept answer to an earlier request with the same Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]},
}
_RETRY_PROBLEMS: dict[int, tuple[type[Problem], ...]] = {
    409: (RequestInProgress,),
    422: (IdempotencyKeyReused, IdempotencyKeyInvalid),
}


def document_idempotency(document: dict[str, Any]) -> dict[str, Any]:
    """The Idempotency-Key header, the replay header and the retry problems on every POST of the document."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (problem_model(kind), "serialization") for kinds in _RETRY_PROBLEMS.values() for kind in kinds
    ]
    _, definitions = models_json_schema(models, ref_template="#/components/schemas/{model}")
    document.setdefault("components", {}).setdefault("schemas", {}).update(definitions.get("$defs", {}))
    for methods in document.get("paths", {}).values():
        operation = methods.get("post")
        if operation is None:
            continue
        keyed = "security" in operation  # the key is the caller's: without an access token there is none
        operation.setdefault("parameters", []).append(_key_parameter(keyed))
        if not keyed:
            continue
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                response.setdefault("headers", {})["Idempotent-Replayed"] = _REPLAYED
        for status, kinds in _RETRY_PROBLEMS.items():
            _add_problems(operation["responses"], status, kinds)
    return document


def _key_parameter(keyed: bool) -> dict[str, Any]:
    description = (
        f"Makes retries safe: {KEY_FORMAT}. A retry gets the first answer again (with `Idempotent-Replayed:"
        " true`); the same key with another request is refused (422 `idempotency-key-reused`); a retry while the"
        " first is still handled gets 409 `request-in-progress` (retry in a moment; a first attempt whose server or"
        " database died holds the key 30 s at most, then a retry runs the request). Answers with a server error"
        " are not kept, so such a request may be retried with the same key."
        if keyed
        else "Not used here: keys belong to the caller of an access token, and this request has none; a retry"
        " simply runs again."
    )
    schema = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN.pattern}
    return {"name": "Idempotency-Key", "in": "header", "required": False, "description": description, "schema": schema}


def _add_problems(responses: dict[str, Any], status: int, kinds: tuple[type[Problem], ...]) -> None:
    response = responses.setdefault(str(status), {"description": "", "content": {PROBLEM_MEDIA_TYPE: {"schema": {}}}})
    schema = response["content"][PROBLEM_MEDIA_TYPE]["schema"]
    refs = schema.pop("anyOf", None) or ([{"$ref": schema.pop("$ref")}] if "$ref" in schema else [])
    refs += [{"$ref": f"#/components/schemas/{problem_model(kind).__name__}"} for kind in kinds]
    schema["anyOf"] = refs
    response["description"] = "; ".join(
        filter(None, [response["description"], *(f"{kind.title} (`{kind.slug}`)" for kind in kinds)])
    )
