"""The admission world model: the ledger's aggregates and the checks an event must pass
before it is stored.

Its entities are ``*Record`` classes (``ClientRecord``, ``OrderRecord``, ``PledgeRecord``,
``ContractRecord``, ...; ``aggregates``) holding only what validation needs. Not to be confused
with the monitoring world model (``domain.book``), whose ``Client``, ``Order``, ... are the
state the compliance rules read once events are accepted.
"""

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
