"""The AWS APIs' own request shapes, from the service models botocore ships, for engines that
check a learner's file as the API request it is (WAF's CreateWebACL, CloudFront's
CreateDistribution).

Loaded with botocore's data loader alone: a botocore session (credentials, endpoints,
clients) costs several times as much to import, and none of it is needed to read a shape.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def service_model(service: str) -> Any:
    """botocore's ServiceModel of ``service`` (its newest API version), loaded once."""
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel

    data = create_loader().load_service_model(service, "service-2")
    return ServiceModel(data, service_name=service)


def request_problem(service: str, operation: str, request: Any) -> tuple[str, str] | None:
    """The first thing ``service``'s API would refuse in ``request`` as ``operation``'s
    input, as (message, JSON path), or None. botocore's own parameter validation (types,
    required members, unknown members, lengths and ranges), then the enum values botocore
    leaves to the service."""
    from botocore.validate import ParamValidator

    shape = service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    if report.has_errors():
        error_type, name, extra = report._errors[0]  # botocore keeps the report's parts here
        name = name.lstrip(".")
        path = name
        if error_type == "missing required field":
            path = f"{name}.{extra['required_name']}" if name else extra["required_name"]
        elif error_type == "unknown field":
            path = f"{name}.{extra['unknown_param']}" if name else extra["unknown_param"]
        return report._format_error((error_type, name, extra)), path
    return _enum_problem(request, shape, "")


def _enum_problem(value: Any, shape: Any, path: str) -> tuple[str, str] | None:
    kind = shape.type_name
    found = None
    if kind == "structure" and isinstance(value, dict):
        for key, member in shape.members.items():
            if key in value:
                found = found or _enum_problem(value[key], member, f"{path}.{key}" if path else key)
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            found = found or _enum_problem(item, shape.member, f"{path}[{i}]")
    elif kind == "string" and shape.enum and value not in shape.enum:
        found = (
            f"Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy "
            f"enum value set: [{', '.join(shape.enum)}]",
            path,
        )
    return found
