/**
 * A throw-away PostgreSQL server for tests: Debian's `postgresql` package (binaries under
 * /usr/lib/postgresql/<version>/bin, installed by .ci/run), `initdb` into a temporary directory,
 * `postgres` listening only on a Unix socket in that directory. As root it runs as the
 * `postgres` user (PostgreSQL refuses to run as root). Fast and unsafe settings (fsync off):
 * test data only.
 *
 * Without the binaries the PostgreSQL suites are skipped locally with the reason printed; under
 * CI (`CI` set) they run and fail, like the browser suites without Chromium.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const IN_CI = Boolean(process.env['CI']);

function findBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(path.join(base, v, 'bin', 'initdb')) && existsSync(path.join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(base, versions[0], 'bin') : undefined;
}

export const PG_BIN = process.env['WEBCCID_PG_BIN'] ?? findBin();
export const PG_SKIP_REASON = PG_BIN ? '' : 'no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install -y postgresql)';
/** True when the PostgreSQL suites are skipped (no server and not in CI). */
export const PG_SKIP = !PG_BIN && !IN_CI;
if (PG_SKIP) console.warn(`[postgres] PostgreSQL tests skipped: ${PG_SKIP_REASON} (set CI to make this a failure)`);

export function pgSuiteTitle(title: string): string {
  return PG_SKIP ? `${title} (SKIPPED: ${PG_SKIP_REASON})` : title;
}

export interface TestPostgres {
  /** `pg.Pool` options for a database of this server. */
  connection(database?: string): Record<string, unknown>;
  /** Creates an empty database and returns its name. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

interface PgClient {
  connect(): Promise<void>;
  end(): Promise<void>;
  query(sql: string): Promise<unknown>;
}
interface PgModule {
  Client: new (config: Record<string, unknown>) => PgClient;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

export async function startPostgres(): Promise<TestPostgres> {
  if (!PG_BIN) throw new Error(`PostgreSQL tests cannot run: ${PG_SKIP_REASON}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'webccid-pg-'));
  if (isRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error('Running as root, but there is no "postgres" user to run the server as.');
    chownSync(dir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
  }
  const data = path.join(dir, 'data');
  const [initCmd, initArgs] = asPostgres(path.join(PG_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'webccid', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = 5432;
  const [pgCmd, pgArgs] = asPostgres(path.join(PG_BIN, 'postgres'), [
    '-D', data, '-k', dir, '-p', String(port), '-c', 'listen_addresses=', '-c', 'fsync=off',
    '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
  ]);
  const server: ChildProcess = spawn(pgCmd, pgArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr?.on('data', (c: Buffer) => {
    log = (log + c.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  // If the test process ends without stop() (a crash, a timeout), do not leave the server running.
  const postmasterPid = (): number => {
    try {
      return Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return 0;
    }
  };
  const onExit = (): void => {
    const pid = postmasterPid();
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', onExit);

  const specifier = 'pg'; // an optional peer dependency, untyped here
  const pg = ((await import(specifier)) as { default: PgModule }).default;
  const connection = (database = 'postgres'): Record<string, unknown> => ({ host: dir, port, user: 'webccid', database });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client(connection());
    try {
      await client.connect();
      await client.end();
      break;
    } catch (e) {
      await client.end().catch(() => undefined);
      if (server.exitCode !== null || Date.now() > deadline) {
        server.kill('SIGKILL');
        throw new Error(`PostgreSQL did not start: ${String(e)}\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  let databases = 0;
  return {
    connection,
    async createDatabase() {
      const name = `t${++databases}`;
      const client = new pg.Client(connection());
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return name;
    },
    async stop() {
      // SIGINT to the postmaster itself (its PID heads postmaster.pid): a fast shutdown.
      process.off('exit', onExit);
      const pid = postmasterPid();
      try {
        if (pid > 0) process.kill(pid, 'SIGINT');
        else server.kill('SIGINT');
      } catch {
        server.kill('SIGINT');
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
