"""The regulator's node (issue 23): the firm's tables of record published with PostgreSQL
logical replication (``publication``), received in one database per firm on the regulator's
server (``feed``), and checked there independently of the firm (``checks``, ``follower``)."""
