/**
 * PostgreSQL for the reference server's store, for deployments that run several server
 * processes: the same tables and statements as SQLite (store.ts), through the `pg` package (an
 * optional peer dependency: install it only to use this adapter).
 *
 * Transactions run at READ COMMITTED and take transaction-level advisory locks
 * (`pg_advisory_xact_lock`) on the keys the store names (a client, a card, `bindings`, ...), in
 * sorted order so two transactions never wait on each other in a cycle; single-statement
 * updates rely on PostgreSQL's row locks. Counters therefore stay atomic across processes.
 */
import { WebCcidError } from '../errors.js';
import { referenceSchema, SqlReferenceStore, type SqlDriver, type SqlRow, type SqlRunner, type SqlValue } from './store.js';

const SCHEMA = referenceSchema('postgres');

/** The part of `pg`'s client and pool this adapter uses. */
interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: SqlRow[]; rowCount: number | null }>;
}
interface PgPoolClient extends PgQueryable {
  release(error?: Error | boolean): void;
}
interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** `?` placeholders -> `$1, $2, ...` (the store's SQL has no other question mark). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function runnerOf(q: PgQueryable): SqlRunner {
  return {
    all: async (sql, params = []) => (await q.query(numbered(sql), [...params])).rows,
    get: async (sql, params = []) => (await q.query(numbered(sql), [...params])).rows[0],
    run: async (sql, params = []) => (await q.query(numbered(sql), [...params])).rowCount ?? 0,
  };
}

/** A `SqlDriver` over a `pg` pool. */
export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  private readonly direct: SqlRunner;

  constructor(readonly pool: PgPool) {
    this.direct = runnerOf(pool);
  }

  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]> {
    return this.direct.all(sql, params);
  }

  get(sql: string, params?: readonly SqlValue[]): Promise<SqlRow | undefined> {
    return this.direct.get(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(locks: readonly string[], fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      for (const key of [...new Set(locks)].sort()) {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`webccid:${key}`]);
      }
      const result = await fn(runnerOf(client));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw e;
    } finally {
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export interface PostgresStoreOptions {
  /** A `pg` connection string (`postgres://user@host:5432/db`) or `pg.Pool` options. */
  connection: string | Record<string, unknown>;
  /** Most connections of this process's pool. Default 10. */
  maxConnections?: number;
  /**
   * Told when an idle pooled connection fails (the server restarted, the network dropped it);
   * the pool drops that connection and opens a new one when needed. Default: ignored.
   */
  onIdleError?: (error: Error) => void;
}

/**
 * Connects to PostgreSQL (with the optional `pg` package) and creates the tables when missing.
 * Throws `WebCcidError('server/bad-option')` when `pg` is not installed.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<SqlReferenceStore> {
  let pg: { Pool: new (config: Record<string, unknown>) => PgPool };
  try {
    const specifier = 'pg'; // not resolved at compile time: pg is optional
    const mod = (await import(specifier)) as unknown as { default?: typeof pg } & typeof pg;
    pg = mod.default ?? mod;
  } catch (e) {
    throw new WebCcidError('server/bad-option', 'The PostgreSQL store needs the "pg" package: npm install pg.', { cause: e });
  }
  const config = typeof options.connection === 'string' ? { connectionString: options.connection } : { ...options.connection };
  const pool = new pg.Pool({ max: options.maxConnections ?? 10, ...config });
  // Without a listener, `pg` re-throws an idle connection's error (a server restart, a
  // terminated backend) as an uncaught exception, which ends a Node process.
  pool.on('error', (error) => options.onIdleError?.(error));
  const driver = new PostgresDriver(pool);
  try {
    // Several processes may start at once: one creates the tables, the others wait for it.
    await driver.transaction(['schema'], async (tx) => {
      for (const statement of SCHEMA.split(';').map((s) => s.trim()).filter(Boolean)) await tx.run(statement);
    });
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
  return new SqlReferenceStore(driver);
}
