"""Repairs Debian's azure-cli 2.45 role commands for TestAzureCLIRoleAssignments.

az 2.45's role module reads `<operations>.config.subscription_id`; the
azure-mgmt-authorization 3.0.0 that Debian ships next to it names that
attribute `_config` (Azure/azure-cli#24959), so every role assignment
command fails in the client before it sends a request. This module, put on
PYTHONPATH by the test only, gives those operation classes a read-only
`config` that returns `_config`. Nothing az sends is changed: the test sees
az's own requests, filters and api-versions reach Cerulean.
"""
import importlib

# The API versions of az 2.45's 'latest' profile for Microsoft.Authorization
# (azure/cli/core/profiles/_shared.py).
_VERSIONS = ("v2020_04_01_preview", "v2018_01_01_preview", "v2015_06_01")

for _version in _VERSIONS:
    try:
        _ops = importlib.import_module("azure.mgmt.authorization." + _version + ".operations")
    except ImportError:  # not az's Python
        continue
    for _name in dir(_ops):
        _cls = getattr(_ops, _name)
        if isinstance(_cls, type) and _name.endswith("Operations") and not hasattr(_cls, "config"):
            _cls.config = property(lambda self: self._config)
