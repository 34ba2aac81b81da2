"""The state the compliance rules read, built from the ledger's events in ledger order."""
