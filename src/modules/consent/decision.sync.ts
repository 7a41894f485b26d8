import pg from 'pg';

const RECONNECT_MS = 500;

/**
 * Keeps decision caches of several instances coherent on PostgreSQL with LISTEN/NOTIFY. NOTIFY is delivered
 * only when the notifying transaction commits, so an instance never drops its copy too early. The channel
 * carries the schema name: instances on other schemas of the same database are not disturbed.
 *
 * The listening connection is its own client, outside the pool (closing the pool must not wait for it), and
 * its socket is unref'd so that a CLI command does not stay alive for it.
 */
export class DecisionCacheSync {
  channel = 'pledge_decisions';
  private client: pg.Client | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly onChange: (subjectId: string) => void,
    /** Called after a lost connection: notifications may have been missed, so everything is dropped. */
    private readonly onReset: () => void,
  ) {}

  async start(): Promise<void> {
    const { connectionString, options, host, port, user, password, database } = this.pool.options;
    const client = new pg.Client({ connectionString, options, host, port, user, password, database } as pg.ClientConfig);
    client.on('error', () => this.lost(client));
    try {
      await client.connect();
      (client as unknown as { connection: { stream: { unref?: () => void } } }).connection.stream.unref?.();
      const { rows } = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
      this.channel = `pledge_decisions:${rows[0]?.schema ?? 'public'}`.slice(0, 63);
      client.on('notification', (n) => {
        if (n.channel === this.channel && n.payload) this.onChange(n.payload);
      });
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
      this.client = client;
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.onReset();
    if (this.stopped) return;
    const retry = (): void => {
      this.timer = undefined;
      if (this.stopped) return;
      this.start().then(this.onReset, () => {
        this.timer = setTimeout(retry, RECONNECT_MS);
      });
    };
    this.timer = setTimeout(retry, RECONNECT_MS);
  }
}
