"""boto3 clients for the optimised integrations, and how their answers and errors are shaped."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import StatesError
from engine.lambda_shapes import sdk_metadata
from engine.paths import compact_json

if TYPE_CHECKING:
    pass

__all__ = [
    "RAW_HEADERS",
    "Operation",
    "as_json_text",
    "call_api",
    "clear_client_cache",
    "client_for",
    "keep_header_names",
    "message_operation",
    "require_boto3",
    "with_metadata",
]

_DEFAULT_REGION = "us-east-1"
_POOL_CONNECTIONS = 50  # one client serves every worker thread (anyio's default limit is 40)
_CACHE_LIMIT = 64  # fingerprints/clients kept before the cache starts over
_SECRET_MARKERS = ("SECRET", "TOKEN", "PASSWORD")


@dataclass(frozen=True)
class Operation:
    """One optimised integration: the boto3 service, the Step Functions error prefix, the call.

    ``call(client, parameters, context)`` runs in a worker thread and returns the task result;
    ``context`` is the state's ``$$`` object.
    """

    service: str
    error_prefix: str
    java_service: str
    call: Callable[[Any, dict[str, Any], Mapping[str, Any]], Any]


def require_boto3() -> Any:
    """The boto3 module; States.Runtime saying how to install it when it is missing."""
    try:
        import boto3
    except ImportError as exc:
        raise StatesError(
            "States.Runtime",
            "The built-in AWS service integrations need boto3: "
            "install the 'aws' extra (pip install 'saga-statemachine[aws]').",
        ) from exc
    return boto3


@dataclass(frozen=True)
class _ClientKey:
    """What makes two clients interchangeable."""

    service: str
    region: str
    endpoint_url: str | None
    profile: str | None
    credentials: tuple[str, ...] | None
    handlers: int


class _ClientCache:
    """boto3 clients shared by every thread and execution of the process.

    Clients are thread-safe, sessions are not: sessions are created and used only under the
    lock. A look-up is keyed first by the environment's ``AWS_*`` variables (cheap, lock-free
    on a hit), which resolve to the service, region, endpoint URL, profile and credentials the
    client is built for, so a changed ``AWS_ENDPOINT_URL`` or credential gets another client.
    The count of botocore's built-in handlers is part of the key too: a client created before
    a library (moto) registered its hook is not reused after. botocore's service data is
    loaded once and shared by every session.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_environment: dict[tuple[str, tuple[Any, ...]], Any] = {}
        self._clients: dict[_ClientKey, Any] = {}
        self._sessions: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self._loaders: dict[str | None, Any] = {}

    def get(self, service: str) -> Any:
        """The client for ``service`` in the current environment."""
        environment = _environment()
        client = self._by_environment.get((service, environment))
        if client is not None:
            return client
        with self._lock:
            client = self._by_environment.get((service, environment))
            if client is None:
                if len(self._by_environment) >= _CACHE_LIMIT:
                    self._forget()
                client = self._create(service, environment)
                self._by_environment[(service, environment)] = client
            return client

    def clear(self) -> None:
        """Forget clients and sessions (botocore's service data stays loaded)."""
        with self._lock:
            self._forget()

    def _forget(self) -> None:
        self._by_environment.clear()
        self._clients.clear()
        self._sessions.clear()

    def _create(self, service: str, environment: tuple[Any, ...]) -> Any:
        sessions = self._sessions.get(environment)
        if sessions is None:
            sessions = self._new_sessions()
            self._sessions[environment] = sessions
        session, core = sessions
        key = _ClientKey(
            service=service,
            region=session.region_name or _DEFAULT_REGION,
            endpoint_url=_configured_endpoint(core, service),
            profile=core.profile,
            credentials=_credentials_identity(core.get_credentials()),
            handlers=environment[0],
        )
        client = self._clients.get(key)
        if client is None:
            from botocore.config import Config

            client = session.client(
                service,
                region_name=key.region,
                # The SDK Step Functions uses does not ask for response checksums (AWS
                # recorded s3:getObject without ChecksumCRC32); boto3 would by default.
                config=Config(
                    max_pool_connections=_POOL_CONNECTIONS,
                    response_checksum_validation="when_required",
                ),
            )
            client.meta.events.register("after-call", keep_header_names)
            self._clients[key] = client
        return client

    def _new_sessions(self) -> tuple[Any, Any]:
        """A boto3 session and its botocore session, sharing botocore's loaded data."""
        boto3 = require_boto3()
        import botocore.loaders
        import botocore.session

        core = botocore.session.Session()
        data_path = core.get_config_variable("data_path")
        loader = self._loaders.get(data_path)
        if loader is None:
            loader = botocore.loaders.create_loader(data_path)
            self._loaders[data_path] = loader
        core.register_component("data_loader", loader)
        session = boto3.session.Session(botocore_session=core)
        # boto3 adds its own data directory to the (shared) loader on every session.
        loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
        return session, core


RAW_HEADERS = "RawHTTPHeaders"
"""The ``ResponseMetadata`` member holding the response's headers as the endpoint named them."""


def keep_header_names(http_response: Any = None, parsed: Any = None, **_: Any) -> None:
    """botocore ``after-call`` hook: keep the response's header names as sent.

    botocore lower-cases ``HTTPHeaders``; the SDK Step Functions uses reports the names as the
    service wrote them (``Content-Type``, ``x-amzn-RequestId``).
    """
    headers = getattr(http_response, "headers", None)
    if headers is None or not isinstance(parsed, dict):
        return
    metadata = parsed.setdefault("ResponseMetadata", {})
    if isinstance(metadata, dict):
        metadata[RAW_HEADERS] = {str(name): str(headers[name]) for name in headers}


def _environment() -> tuple[Any, ...]:
    """The process state clients depend on: botocore's built-in handlers and ``AWS_*``."""
    from botocore.handlers import BUILTIN_HANDLERS

    watched = sorted(
        (key, _digest(value) if any(m in key for m in _SECRET_MARKERS) else value)
        for key, value in os.environ.items()
        if key.startswith("AWS_")
    )
    return (len(BUILTIN_HANDLERS), *watched)


def _digest(*values: str | None) -> str:
    text = "\x00".join(value or "" for value in values)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _configured_endpoint(core: Any, service: str) -> str | None:
    """The endpoint URL configuration gives ``service`` (environment, then config file)."""
    from botocore.configprovider import ConfiguredEndpointProvider
    from botocore.utils import ensure_boolean

    if ensure_boolean(core.get_config_variable("ignore_configured_endpoint_urls") or False):
        return None
    provider = ConfiguredEndpointProvider(core.full_config, core.get_scoped_config(), service)
    endpoint: str | None = provider.provide()
    return endpoint


def _credentials_identity(credentials: Any) -> tuple[str, ...] | None:
    """Who the credentials act as: the access key and a digest of the secret parts."""
    if credentials is None:
        return None
    frozen = credentials.get_frozen_credentials()
    return (
        str(credentials.method),
        str(frozen.access_key),
        _digest(frozen.secret_key, frozen.token),
    )


_CLIENTS = _ClientCache()


def clear_client_cache() -> None:
    """Forget every cached client (e.g. after editing AWS config files).

    Changes to ``AWS_*`` environment variables need no clearing: they select other clients.
    """
    _CLIENTS.clear()


def client_for(service: str) -> Any:
    """A boto3 client for ``service`` with the standard configuration, shared process-wide.

    Endpoints come from boto3's own settings (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>``,
    config files); the region from them too, defaulting to us-east-1.
    """
    return _CLIENTS.get(service)


def call_api(client: Any, operation: str, parameters: Mapping[str, Any]) -> Any:
    """Call the API ``operation`` (``"PutItem"``) with only the parameters it accepts.

    Step Functions drops keys the API does not know instead of failing.
    """
    from botocore import xform_name

    members = client.meta.service_model.operation_model(operation).input_shape.members
    accepted = {key: value for key, value in parameters.items() if key in members}
    return getattr(client, xform_name(operation))(**accepted)


def as_json_text(value: Any) -> Any:
    """Objects and arrays as the compact JSON text Step Functions sends; strings unchanged."""
    return value if isinstance(value, str) else compact_json(value)


def message_operation(
    service: str, error_prefix: str, java_service: str, api: str, body: str
) -> Operation:
    """An integration sending one message: ``body`` as JSON text, the response with metadata."""

    def call(client: Any, parameters: dict[str, Any], context: Mapping[str, Any]) -> Any:
        if body in parameters:
            parameters[body] = as_json_text(parameters[body])
        return with_metadata(call_api(client, api, parameters))

    return Operation(service, error_prefix, java_service, call)


def with_metadata(response: Mapping[str, Any]) -> dict[str, Any]:
    """The API response as Step Functions returns it: its fields and ``Sdk*Metadata``, sorted."""
    meta = response.get("ResponseMetadata", {})
    fields = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    raw = meta.get(RAW_HEADERS, meta.get("HTTPHeaders", {}))
    headers = {str(k): str(v) for k, v in dict(raw).items()}
    request_id = str(meta.get("RequestId", ""))
    merged = {**fields, **sdk_metadata(request_id, headers, int(meta.get("HTTPStatusCode", 200)))}
    return dict(sorted(merged.items()))
