"""The monitoring world model: the state the compliance rules read, built from the ledger's
accepted events in ledger order (``Book``; its rows in ``entities``: ``Client``, ``Order``,
``Pledge``, ``Contract``, ...).

Not to be confused with the admission world model (``domain.registry``), whose ``*Record``
classes hold only what validation needs to accept or refuse an event before it is stored.
"""
