"""A naive dynamic provider, as a Pulumi program would define it inline in ``__main__``.

Run as a script (``python bench/naive_provider.py``) it prints the serialized provider: its
class lives in ``__main__``, so Pulumi pickles it by value. Every lookup builds a new
``requests`` session and exchanges the OAuth token for a new IAM token.
"""

from __future__ import annotations

import os
from typing import Any

import requests
from pulumi.dynamic import CheckResult, CreateResult, ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider


class NaiveConnectionProvider(ResourceProvider):
    """Looks the connection up in ``check``, from the environment's endpoints and token."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Exchange the token, GET the connection, return it as checked inputs."""
        iam = os.environ["YC_IAM_ENDPOINT"]
        endpoint = os.environ["YC_APIGATEWAY_CONNECTIONS_ENDPOINT"]
        with requests.Session() as session:
            exchange = session.post(
                f"{iam}/iam/v1/tokens",
                json={"yandexPassportOauthToken": os.environ["YC_TOKEN"]},
                timeout=30,
            )
            exchange.raise_for_status()
            token = exchange.json()["iamToken"]
            response = session.get(
                f"{endpoint}/apigateways/websocket/v1/connections/{news['connectionId']}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            response.raise_for_status()
            data = response.json()
        return CheckResult(
            {
                **news,
                "found": True,
                "gatewayId": data.get("gatewayId"),
                "identity": data.get("identity"),
                "connectedAt": data.get("connectedAt"),
                "lastActiveAt": data.get("lastActiveAt"),
            },
            [],
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Record the checked inputs as outputs."""
        return CreateResult(str(props["connectionId"]), dict(props))


if __name__ == "__main__":
    print(serialize_provider(NaiveConnectionProvider()))
