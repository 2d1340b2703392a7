"""The exit codes of ``filmclub``, one definition for the CLI, the bot and the service unit.

A supervisor (``deploy/filmclub.service``) restarts on 1 and 3 but not on 2: a missing or invalid setting will not
fix itself by trying again.
"""

#: Done, or stopped cleanly by SIGTERM or Ctrl-C.
EXIT_OK = 0
#: Something the operator must fix before a retry can help: a rejected token, an invalid catalog, a failed command.
EXIT_FAILED = 1
#: Usage or configuration: a missing DISCORD_TOKEN, an invalid setting, a bad command line, a SQLite file that
#: another process runs on (or shards that SQLite cannot leave to another process), a shard Discord refuses.
EXIT_USAGE = 2
#: Discord or the database could not be reached at start-up (DNS failure, refused connection, no answer in time).
EXIT_UNREACHABLE = 3
