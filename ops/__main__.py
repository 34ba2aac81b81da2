"""``python -m ops`` is the ``regledger`` command."""

from ops.cli import main

main()
