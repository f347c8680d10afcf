"""Every route graphlang serves, described: one ``Operation`` per path template and method.

A route added anywhere needs an entry in ``graph_paths`` (under ``/beta``) or ``service_paths``
(everything else); ``tests/api/test_openapi.py`` fails for any served route that has none.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphlang.describe import graph_paths, service_paths
from graphlang.describe.operations import Operation
from graphlang.describe.schemas import Schema

OPERATIONS: Mapping[str, Mapping[str, Operation]] = {**graph_paths.PATHS, **service_paths.PATHS}
SCHEMAS: Mapping[str, Schema] = {**graph_paths.SCHEMAS, **service_paths.SCHEMAS}
PARAMETERS: Mapping[str, Schema] = service_paths.PARAMETERS

# Paths served by a route under a second spelling: the service root is also "/beta/".
ALIASES: Mapping[str, tuple[str, ...]] = {"/beta": ("/beta/",)}
