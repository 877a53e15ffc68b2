// How a CLI command says it failed: bad usage (exit 2), or a problem it has already reported (exit 1).
export class UsageError extends Error {}

/** The command ran and found a problem it has already reported: exit 1. */
export class CommandFailed extends Error {}
