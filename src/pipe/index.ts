/**
 * sluice/pipe: see docs/pipe.md. This face is filled in by its issue.
 */
export {};
