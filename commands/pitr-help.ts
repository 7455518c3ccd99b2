/** `recover pitr --help`: the words, and which only the CLI takes. */
export const PITR_HELP = `
Words (the same as /recover pitr in Slack; the last four only here):
  <time with offset>       recover to this time, e.g. 2025-01-15T14:29:59.120555+00:00 (microseconds kept)
  --at <time>              the same, as an option
  --xid <xid> | --lsn <X/Y> | --name <restore point> | --immediate | --latest
                           the other targets (exactly one target in all)
  --before-xid <xid>       just before transaction <xid> (recovery_target_xid, not inclusive):
                           its changes are not replayed; the xid /recover locate prints
  --inclusive|--exclusive  stop just after (default) or just before the target
  --action promote|pause   what to do at the target (default promote)
  --to side|in-place       a new side instance (default) or over production
  --backup <id>            use this base backup instead of the newest that fits
  --db <name…>             databases to verify (default all); repeat, or a,b, or several names
  --instance <name>        side instance name under RECOVER_RESTORE_ROOT (default pitr-<UTC>-<random>)
  --port <1024-65535>      side instance port (default a free port); refused if in use
  --dry-run                show the plan, change nothing
  --json                   print exactly one JSON object, also on failure
  --confirm <production>   confirm --to in-place without the prompt (for scripts): production's
                           name exactly; without it a terminal asks for it, anything else refuses

Exit status: 0 done, 1 failed (including failed verification), 2 bad input (or not confirmed), 3 refused (the plan
cannot be met: target outside the window, WAL gap, no base backup, name or port in use).`;
