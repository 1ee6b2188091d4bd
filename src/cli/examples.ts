/**
 * The examples every `sluice COMMAND --help` ends with, in one place so they read as one manual
 * and stay consistent. `attachExamples` adds them after the subcommands are registered; a
 * subcommand without an entry here gets none (a test checks that every one has some).
 */
import type { Command } from 'commander';

export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  run: [
    "sluice run 'yes | head -1'                      # prints y, exits 0 (yes dies of SIGPIPE)",
    "sluice run --stats 'seq 1 1000000 | grep 7 | wc -l'",
    "sluice run --pipefail 'false | true'; echo $?    # 1, as bash -o pipefail",
    "sluice run 'sort < in.txt | uniq -c > out.txt 2>&1'",
  ],
  daemon: [
    'sluice daemon --detach                           # background; prints its pid, socket, log',
    'sluice shutdown                                  # stops it and every session',
    'sluice daemon                                    # foreground, logging to stderr; Ctrl-C stops',
    'sluice daemon --socket /tmp/my.sock --log-file /tmp/my.log --log-dir ~/.sluice/logs',
  ],
  shutdown: [
    'sluice shutdown                                  # waits until the daemon has exited',
    'sluice shutdown --socket /tmp/my.sock --no-wait',
  ],
  dashboard: [
    'sluice daemon --detach --http 8080               # a daemon that serves the dashboard',
    'sluice dashboard                                 # prints its address with the token',
    'sluice dashboard --open',
  ],
  worker: [
    'sluice worker --servers nats://127.0.0.1:4222 --name import --stage embed ./embed.js',
    'sluice worker --servers nats://a:4222,nats://b:4222 --name import --stage embed --workers 4 ./embed.js',
  ],
  spawn: [
    "id=$(sluice spawn -- sh -c 'while :; do date; sleep 1; done')",
    'sluice spawn --pty --originator me -- bash',
    'sluice spawn --merge-stderr --env DEBUG=1 --cwd /srv -- ./server.sh',
  ],
  ls: ['sluice ls', 'sluice ls --originator me --json'],
  logs: [
    'sluice logs "$id"                                 # the backlog; does not consume it',
    'sluice logs --follow "$id"',
    'sluice logs --stderr "$id"',
  ],
  attach: [
    'sluice attach "$id"                               # Ctrl-\\ detaches',
    'sluice attach --read-only "$id"                   # watch beside the writer',
    'sluice attach --steal "$id"                       # take over from another terminal',
  ],
  send: [
    'sluice send "$id" \'hello\'',
    'printf "a\\nb\\n" | sluice send "$id" -',
    'sluice send --eof "$id"',
  ],
  stop: [
    'sluice stop "$id"                                 # SIGTERM, 5 s grace, SIGKILL',
    'sluice stop --grace 10s "$id"',
  ],
  rm: ['sluice rm "$id"'],
  purge: ['sluice purge', 'sluice purge --originator me'],
  completion: ['source <(sluice completion bash)', 'sluice completion zsh > ~/.zfunc/_sluice'],
  demo: ['sluice demo', 'sluice demo --only pipe flow'],
};

/** Appends an "Examples:" block to each subcommand of `program` that has entries in EXAMPLES. */
export function attachExamples(program: Command): void {
  for (const command of program.commands) {
    const lines = EXAMPLES[command.name()];
    if (!lines?.length) continue;
    command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  }
}
