"""Fixtures for the tests of ``pulumi_yc_websocket.testing``: one provider process per module."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pulumi_yc_websocket.testing import ProviderServer, StackState, import_root

if TYPE_CHECKING:
    from collections.abc import Iterator

# The sample provider is pickled *by reference*, so the provider process must import it under
# the same module name: make it the top-level module ``sample_provider`` whatever way pytest
# names this directory's modules.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
sample_provider = importlib.import_module("sample_provider")


@pytest.fixture(scope="module")
def provider_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The sample provider's backend/log directory, also visible to this process."""
    path = tmp_path_factory.mktemp("sample-provider")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SAMPLE_PROVIDER_DIR", os.fspath(path))
        yield path


@pytest.fixture(scope="module")
def server(provider_dir: Path) -> Iterator[ProviderServer]:
    """The real ``python -m pulumi.dynamic`` server, able to import ``sample_provider``."""
    with ProviderServer(
        env={"SAMPLE_PROVIDER_DIR": os.fspath(provider_dir)},
        python_path=[import_root(sample_provider)],
        project="test",
    ) as srv:
        yield srv


@pytest.fixture
def state() -> StackState:
    """A fresh, empty stack state."""
    return StackState(project="test", stack="dev")
