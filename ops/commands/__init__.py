"""The command modules of ``regledger``: each defines ``register(app: typer.Typer) -> None``
(or a group's sub-app), listed in ``ops.cli``'s table in the order the help shows them."""
