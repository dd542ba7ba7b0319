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
