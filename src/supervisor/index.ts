/**
 * sluice/supervisor: see docs/supervisor.md. This face is filled in by its issue.
 */
export {};
