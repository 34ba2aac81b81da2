"""Every read model of the store, how it is rebuilt from the log and how it is compared with
its rebuild; and every other table, with why it is not one."""

from projections.rebuild.models import (
    NOT_READ_MODELS,
    READ_MODELS,
    ComparedTable,
    ReadModel,
    import_log,
    positions,
    read_model_tables,
    rebuild_read_models,
    replace_read_models,
)

__all__ = [
    "NOT_READ_MODELS", "READ_MODELS", "ReadModel", "ComparedTable", "import_log", "positions",
    "read_model_tables", "rebuild_read_models", "replace_read_models",
]
