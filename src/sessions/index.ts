/**
 * sluice/sessions: see docs/sessions.md. This face is filled in by its issue.
 */
export {};
