"""The catalogue of diagnostic codes, and the error names Step Functions reserves."""

from __future__ import annotations

__all__ = ["CODES", "PREDEFINED_ERRORS"]

PREDEFINED_ERRORS = frozenset(
    {
        "States.ALL",
        "States.BranchFailed",
        "States.DataLimitExceeded",
        "States.ExceedToleratedFailureThreshold",
        "States.HeartbeatTimeout",
        "States.Http.Socket",
        "States.IntrinsicFailure",
        "States.ItemReaderFailed",
        "States.NoChoiceMatched",
        "States.ParameterPathFailure",
        "States.Permissions",
        "States.QueryEvaluationError",
        "States.ResultPathMatchFailure",
        "States.ResultWriterFailed",
        "States.Runtime",
        "States.TaskFailed",
        "States.Timeout",
    }
)
"""Error names Step Functions defines; any other ``States.`` name is reserved."""

CODES: dict[str, str] = {
    "INVALID_JSON": "the text is not JSON (loader)",
    "INVALID_TYPE": "the document is not a JSON object (loader)",
    "TOO_DEEP": "nested more deeply than the parser can follow (loader)",
    "UNKNOWN_FIELD": "a field ASL does not define",
    "FIELD_NOT_ALLOWED": "an ASL field this object may not have",
    "WRONG_TYPE": "a value of the wrong JSON type",
    "MISSING_FIELD": "a required field is absent",
    "UNKNOWN_STATE_TYPE": "Type is not one of the eight state types",
    "SCHEMA_VIOLATION": "any other schema error",
    "NEXT_AND_END": "a state has both Next and End",
    "MISSING_TRANSITION": "a state has neither Next nor End: true",
    "OUT_OF_RANGE": "a number outside its allowed range",
    "HEARTBEAT_NOT_BELOW_TIMEOUT": "HeartbeatSeconds is not smaller than TimeoutSeconds",
    "INVALID_VALUE": "a value outside its enumeration (JitterStrategy, QueryLanguage, Mode…)",
    "STATE_NAME_TOO_LONG": "a state name over 80 characters",
    "RESERVED_ERROR_NAME": "a custom error name starting with 'States.'",
    "INVALID_PATH": "a malformed Path",
    "INVALID_REFERENCE_PATH": "a malformed Reference Path (ResultPath, *Path fields)",
    "INVALID_INTRINSIC": "a malformed intrinsic function call in a '.$' field",
    "INVALID_TIMESTAMP": "a timestamp not in RFC 3339 form",
    "INVALID_JSONATA": "a string that should be a JSONata expression '{% … %}'",
    "INVALID_RESOURCE": "an empty Task Resource, or an optimised integration action AWS lacks",
    "INVALID_VARIABLE_NAME": "an Assign key that is not a variable name",
    "INVALID_STATES_REFERENCE": "$states.result or $states.errorOutput where it does not exist",
    "OUTER_SCOPE_ASSIGNMENT": "a branch or iteration assigning a variable of an enclosing scope",
    "CHOICE_RULE_OPERATORS": "a Choice rule without exactly one operator",
    "MUTUALLY_EXCLUSIVE": "two fields that may not appear together",
    "DUPLICATE_TEMPLATE_KEY": "two payload-template keys equal after '.$' stripping",
    "QUERY_LANGUAGE_MISMATCH": "a JSONPath-only field in JSONata or the reverse",
    "QUERY_LANGUAGE_DOWNGRADE": "a JSONPath state inside a JSONata machine",
    "EMPTY_ARRAY": "Choices, Branches, ErrorEquals, And or Or is empty",
    "DUPLICATE_STATE_NAME": "a state name used twice in the machine",
    "START_AT_NOT_FOUND": "StartAt names no state of its States object",
    "MISSING_TRANSITION_TARGET": "Next/Default/catcher Next names no state",
    "TRANSITION_OUT_OF_SCOPE": "a transition into or out of a branch or item processor",
    "UNREACHABLE_STATE": "a state StartAt cannot reach",
    "NO_TERMINAL_PATH": "a state from which no terminal state can be reached",
    "STATES_ALL_NOT_ALONE": "States.ALL shares its ErrorEquals with other names",
    "STATES_ALL_NOT_LAST": "States.ALL in a retrier or catcher that is not the last",
    "UNPREFIXED_INTEGRATION_ERROR": "(warning) an error name an optimised integration never raises",
    "CATCHER_DISCARDS_INPUT": "(warning) a catcher without ResultPath replaces the state input",
}
"""Every diagnostic code with what it means."""
