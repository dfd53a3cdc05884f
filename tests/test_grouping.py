"""The suite's own scheduling: under ``--dist loadgroup`` (pyproject's addopts) the tests that
share a module-scoped fixture carry one ``xdist_group``, so a worker computes each such fixture
(a whole study, the quick benchmark) once for all of them. A pytest and pytest-xdist pair that
drops the group from the node id would silently make every worker recompute them."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="module")
def shared():
    return os.environ.get("PYTEST_XDIST_WORKER")


def test_a_test_sharing_a_module_fixture_is_grouped_by_module(shared, request):
    if shared is None:
        pytest.skip("not running under pytest-xdist")
    assert request.node.nodeid.endswith("@" + __name__), request.node.nodeid


def test_a_test_without_one_is_not(request):
    assert "@" not in request.node.nodeid
