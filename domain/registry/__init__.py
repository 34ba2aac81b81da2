"""The ledger's aggregates and the checks an event must pass before it is stored."""

from domain.parameters import ParameterType, coerce_parameter
from domain.registry.aggregates import EntityKey, Record
from domain.registry.cache import Loader
from domain.registry.registry import ParameterCatalogue, Registry

__all__ = [
    "EntityKey",
    "Loader",
    "ParameterCatalogue",
    "ParameterType",
    "Record",
    "Registry",
    "coerce_parameter",
]
