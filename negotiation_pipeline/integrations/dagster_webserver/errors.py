"""GraphQL error unions of the Dagster webserver, and how they become Python exceptions.

Every GraphQL field that can fail returns a union of a success type and error types
(`PythonError`, `PartitionKeysNotFoundError`, `InvalidStepError`, ...). Each query asks for
`__typename` and the fields of every error member (`error_fields`), and `unwrap` turns anything
but the expected success type into a `DagsterOperationError` whose message names the error type
and its details.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from negotiation_pipeline.integrations.dagster_webserver.transport import (
    DagsterWebserverError,
    GraphQLRequestError,
)


class DagsterOperationError(DagsterWebserverError):
    """A GraphQL field answered with one of its error types instead of the success type."""

    def __init__(self, operation: str, typename: str, detail: str) -> None:
        self.operation = operation
        self.typename = typename
        self.detail = detail
        super().__init__(f"{operation} failed with {typename}: {detail}")


# The fields of each error member worth showing. GraphQL rejects a fragment on a type that is not
# a member of the field's union, so every query lists its own members (`error_fields`).
_ERROR_MEMBER_FIELDS: dict[str, str] = {
    "PythonError": "message className causes { message }",
    "PartitionKeysNotFoundError": "message partitionKeys",
    "PartitionSetNotFoundError": "message partitionSetName",
    "InvalidStepError": "invalidStepKey",
    "InvalidOutputError": "stepKey invalidOutputName",
    "RunConfigValidationInvalid": "pipelineName errors { message }",
    "PipelineNotFoundError": "message pipelineName",
    "SensorNotFoundError": "message sensorName",
    "BackfillNotFoundError": "message backfillId",
    "AssetNotFoundError": "message",
    "RunConflict": "message",
    "UnauthorizedError": "message",
    "InvalidSubsetError": "message",
    "PresetNotFoundError": "message",
    "ConflictingExecutionParamsError": "message",
    "NoModeProvidedError": "message",
    "InvalidPipelineRunsFilterError": "message",
}


def error_fields(*members: str) -> str:
    """The selection that reads `__typename` and the fields of each error member."""
    fragments = "\n".join(f"  ... on {m} {{ {_ERROR_MEMBER_FIELDS[m]} }}" for m in members)
    return f"  __typename\n{fragments}\n"


def describe_error(result: Mapping[str, Any]) -> str:
    """A readable sentence for one error-union member (what the operator should see)."""
    typename = str(result.get("__typename", "unknown"))
    message = str(result.get("message") or "").strip()
    if typename == "InvalidStepError":
        return f"step {result.get('invalidStepKey')!r} does not exist in the job"
    if typename == "InvalidOutputError":
        return f"step {result.get('stepKey')!r} has no output {result.get('invalidOutputName')!r}"
    if typename == "RunConfigValidationInvalid":
        errors = [str(e.get("message", "")) for e in result.get("errors") or []]
        return f"invalid run config for {result.get('pipelineName')}: " + "; ".join(errors)
    if typename == "PartitionKeysNotFoundError":
        keys = ", ".join(str(k) for k in result.get("partitionKeys") or [])
        return f"unknown partition key(s): {keys}" if keys else message
    if typename == "PythonError":
        causes = [str(c.get("message", "")).strip() for c in result.get("causes") or []]
        prefix = f"{result['className']}: " if result.get("className") else ""
        text = message if message.startswith(prefix) else prefix + message
        return "; caused by ".join([text, *causes]) if causes else text
    return message or f"no details (type {typename})"


def unwrap(operation: str, result: Any, expected: str) -> dict[str, Any]:
    """`result` when it is the `expected` success type; otherwise DagsterOperationError."""
    if not isinstance(result, dict):
        raise GraphQLRequestError(f"{operation}: the webserver returned no result")
    typename = result.get("__typename")
    if typename != expected:
        raise DagsterOperationError(operation, str(typename), describe_error(result))
    return result
