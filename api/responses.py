"""The error bodies the API answers, as OpenAPI models, and `errors(...)` to declare them per route.

Every error is `{"detail": ...}` (api.main turns EngineError, request validation
and HTTP errors into it); what `detail` holds depends on who refused:

- a sentence (`ErrorMessage`): most refusals (401, 403, 404, 409, 413, 415, and 422 from the engine);
- `RequestInvalid`: the request did not match its declared parameters or body (422 from FastAPI);
- `FieldsRejected`: data a form or a field check refused, one entry per field (422);
- `ProcessFailed`: the diagram failed while running, naming element and line (422);
- `DeploymentRefused`: a refused deployment, one entry per problem with file, element and line (422).

A route lists its statuses with `responses=errors(401, 403, ...)` and the shapes its 422
can take with `unprocessable=(...)`; `document_errors` (applied by api.main) keeps
FastAPI's HTTPValidationError out of the description and adds 401 wherever a token is
required, so a route that forgets still tells the truth about those.
"""
from __future__ import annotations

from typing import Any, Union

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema


class ErrorMessage(BaseModel):
    detail: str = Field(description="what went wrong, in a sentence")


class RequestProblem(BaseModel):
    loc: list[Union[str, int]] = Field(description="where in the request, e.g. [\"body\", \"data\"]")
    msg: str
    type: str


class RequestInvalid(BaseModel):
    detail: list[RequestProblem]


class FieldProblem(BaseModel):
    field: Union[str, None] = Field(description="the field, or null when the data as a whole is refused")
    message: str


class FieldsRejected(BaseModel):
    detail: list[FieldProblem]


class ProcessFailure(BaseModel):
    element: Union[str, None] = Field(description="the BPMN element that failed")
    line: Union[int, None]
    message: str


class ProcessFailed(BaseModel):
    detail: ProcessFailure


class DiagramProblem(BaseModel):
    file: Union[str, None]
    element: Union[str, None]
    line: Union[int, None]
    message: str


class DeploymentRefused(BaseModel):
    detail: list[DiagramProblem]


DESCRIPTIONS = {
    400: "The request is malformed (for example an invalid Content-Length)",
    401: "No token, or the token is invalid or has expired",
    403: "The caller's role or units may not do this",
    404: "Not found (or not visible to the caller)",
    409: "Conflicts with the current state (already done, claimed by someone else, changed meanwhile)",
    413: "The request body or an uploaded file is too large",
    415: "The body or the uploaded file is not of a type this operation takes",
    422: "The request was understood but refused; `detail` says what and where",
    429: "Too many failed logins for this user name; `Retry-After` says when to try again",
    503: "The database does not answer",
}
# The shapes any 422 can take at least: FastAPI's own check of parameters and body.
REQUEST = (RequestInvalid,)


def errors(*statuses: int, unprocessable: tuple[type[BaseModel], ...] = REQUEST) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with its description and model (422 a union of `unprocessable`)."""
    found: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model: Any = ErrorMessage
        if status == 422:
            shapes = tuple(dict.fromkeys(unprocessable))
            model = shapes[0] if len(shapes) == 1 else Union[shapes]
        found[status] = {"model": model, "description": DESCRIPTIONS[status]}
    return found


# Body checks of api.main's middleware answer these to any request that carries a body.
BODY = (400, 413)


def document_errors(schema: dict) -> dict:
    """Correct what routes did not declare: no HTTPValidationError anywhere, 401 where a token is needed."""
    request_invalid = {"$ref": "#/components/schemas/RequestInvalid"}
    message = {"$ref": "#/components/schemas/ErrorMessage"}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            unprocessable = responses.get("422", {}).get("content", {}).get("application/json", {})
            if unprocessable.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                responses["422"] = {"description": DESCRIPTIONS[422],
                                    "content": {"application/json": {"schema": request_invalid}}}
            if operation.get("security") and "401" not in responses:
                responses["401"] = {"description": DESCRIPTIONS[401],
                                    "content": {"application/json": {"schema": message}}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    _, defined = models_json_schema([(ErrorMessage, "serialization"), (RequestInvalid, "serialization")],
                                    ref_template="#/components/schemas/{model}")
    for name, model_schema in defined.get("$defs", {}).items():
        components.setdefault(name, model_schema)
    return schema
