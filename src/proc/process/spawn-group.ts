/**
 * The one process core every part of sluice starts children through: spawn in a new process
 * group, typed spawn errors that leave nothing behind, reaping, a stop sequence (stdin EOF →
 * soft signal → grace → SIGKILL, all to the whole group) that is idempotent and safe to call
 * concurrently, and stdio handles that are closed after exit even when a grandchild keeps a pipe
 * open.
 *
 * The child's pipes are real kernel pipes made by `createPipe` (never Node's socketpairs): a
 * reader going away gives the writer SIGPIPE/EPIPE as in a shell, and a spawn that fails (EMFILE
 * included) closes every fd it made. Node's own `stdio: 'pipe'` leaks its pipe handles and leaves
 * `child.stdio` undefined when spawn fails with EMFILE; sluice never asks Node for them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Socket } from 'node:net';
import type { InvalidOptionError, SpawnError } from '../errors.js';
import { createPipe, type PipePair } from '../fd/pipe.js';
import { Group, readIntoStreams } from './group-process.js';
import { buildEnv, classify, validate } from './spawn-options.js';
import type { GroupProcess, PipeReadInto, SpawnGroupOptions } from './spawn-types.js';

/** The fds of one spawn: what the child gets, and what this process keeps. */
interface Plumbing {
  stdio: (number | 'ignore' | 'inherit')[];
  /** Every pipe made for this spawn (closed whole on failure). */
  made: PipePair[];
  /** The ends this process keeps: stdin's write end, stdout's and stderr's read ends. */
  keep: [number | undefined, number | undefined, number | undefined];
  /** The ends only the child needs (closed here once it runs). */
  childEnds: number[];
}

function plumb(slots: NonNullable<SpawnGroupOptions['stdio']>): Plumbing {
  const p: Plumbing = {
    stdio: [],
    made: [],
    keep: [undefined, undefined, undefined],
    childEnds: [],
  };
  try {
    for (let i = 0; i < 3; i++) {
      const slot = slots[i]!;
      if (slot === 'stdout') {
        p.stdio.push(p.stdio[1] as number);
        continue;
      }
      if (slot !== 'pipe') {
        p.stdio.push(slot);
        continue;
      }
      const pair = createPipe();
      p.made.push(pair);
      const [mine, theirs] = i === 0 ? [pair.writeFd, pair.readFd] : [pair.readFd, pair.writeFd];
      p.keep[i] = mine;
      p.childEnds.push(theirs);
      p.stdio.push(theirs);
    }
  } catch (e) {
    for (const pair of p.made) pair.close();
    throw e;
  }
  return p;
}

function wrap(fd: number | undefined, side: 'read' | 'write', into?: PipeReadInto): Socket | null {
  if (fd === undefined) return null;
  const socket: Socket = new Socket({
    fd,
    readable: side === 'read',
    writable: side === 'write',
    ...(into === undefined
      ? {}
      : {
          onread: {
            buffer: into.buffer,
            callback: (bytes: number, buffer: Uint8Array) => {
              if (into.callback(bytes, buffer) !== false) return true;
              // Paused as by pause(): held until resume(), not drained after the exit.
              socket.pause();
              return false;
            },
          },
        }),
  });
  if (into !== undefined) readIntoStreams.add(socket);
  return socket;
}

/**
 * Starts `argv` in a new session and process group (`setsid`; the group id is the child's pid)
 * and resolves once it runs. Rejects with `InvalidOptionError` for malformed options (empty
 * argv, a NUL byte, a bad stdio slot, a bad env key) and `SpawnError` for a missing binary
 * (`ERR_SLUICE_SPAWN_NOT_FOUND`), one that cannot be executed (`ERR_SLUICE_SPAWN_PERMISSION`),
 * a bad cwd (`ERR_SLUICE_SPAWN_BAD_CWD`), no fds or processes left
 * (`ERR_SLUICE_SPAWN_RESOURCES`: EMFILE, ENFILE, EAGAIN, ENOMEM) or anything else
 * (`ERR_SLUICE_SPAWN_FAILED`); then no process, fd or handle of ours is left behind.
 *
 * The caller owns the result: it must let the child end (or `terminate` it) and read or ignore
 * what it writes — a pipe nobody reads fills up and blocks the child. Pipes nobody listens to
 * are drained after the exit.
 *
 * @example
 * ```ts
 * const p = await spawnGroup({ argv: ['sh', '-c', 'echo hi; sleep 60'] });
 * p.stdout!.pipe(process.stdout);
 * const info = await p.terminate({ graceMs: 1000 }); // { exitCode: null, signal: 'SIGTERM', outcome: 'soft' }
 * ```
 */
export function spawnGroup(options: SpawnGroupOptions): Promise<GroupProcess> {
  let env: NodeJS.ProcessEnv | undefined;
  try {
    validate(options);
    env = buildEnv(options);
  } catch (e) {
    return Promise.reject(e);
  }
  let pipes: Plumbing;
  try {
    pipes = plumb(options.stdio ?? ['pipe', 'pipe', 'pipe']);
  } catch (e) {
    return Promise.reject(classify(e, options));
  }
  const closeAll = () => {
    for (const pair of pipes.made) pair.close();
  };
  let child: ChildProcess;
  try {
    child = spawn(options.argv[0]!, options.argv.slice(1), {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(env === undefined ? {} : { env }),
      stdio: pipes.stdio,
      detached: true,
    });
  } catch (e) {
    closeAll();
    return Promise.reject(classify(e, options));
  }
  return new Promise<GroupProcess>((resolve, reject) => {
    const onError = (e: unknown) => {
      child.off('spawn', onSpawn);
      closeAll(); // every fd of this spawn is ours: Node was given numbers, never 'pipe'
      reject(classify(e, options) as SpawnError | InvalidOptionError);
    };
    const onSpawn = () => {
      child.off('error', onError);
      // The child has its copies now; the parent's must go, or EOF and SIGPIPE never come.
      for (const pair of pipes.made) {
        if (pipes.childEnds.includes(pair.readFd)) pair.closeRead();
        if (pipes.childEnds.includes(pair.writeFd)) pair.closeWrite();
      }
      const [i, o, e] = pipes.keep;
      const into = options.onRead;
      resolve(
        new Group(
          child,
          options,
          wrap(i, 'write'),
          wrap(o, 'read', into?.stdout),
          wrap(e, 'read', into?.stderr),
        ),
      );
    };
    child.once('error', onError);
    child.once('spawn', onSpawn);
  });
}
