import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisCommand, redisInfo } from './resp.js';

/**
 * Throw-away redis-server processes for tests and benchmarks. Each test starts its own server on
 * a free port (never the shared one on 6379), and every process is killed even when a test
 * fails or the worker exits without running its hooks.
 */

export interface StartRedisOptions {
  /** Turn on the append-only file (durability tests). Default false. */
  appendonly?: boolean;
  /** fsync policy with `appendonly`; default `always` so a kill -9 right after a write keeps it. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Data directory; default a fresh temporary one, removed by `stop()`. */
  dir?: string;
  /** Extra redis-server arguments, e.g. ['--maxmemory', '10mb']. */
  args?: readonly string[];
  /** Make a Cluster node (also keeps port + 10000 free for the cluster bus). */
  cluster?: boolean;
}

export interface RedisProcess {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly dir: string;
  /** Pid of the running server; undefined while it is down. */
  readonly pid: number | undefined;
  /** Graceful shutdown (SIGTERM, then SIGKILL), and removal of the temporary directory. */
  stop(): Promise<void>;
  /** Send a signal; for terminating signals, resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: the server keeps its connections open but stops answering. */
  pause(): void;
  /** SIGCONT */
  resume(): void;
  /** Start again on the same port and directory (stopping it first if it still runs). */
  restart(): Promise<void>;
  /** The last lines the server logged, for failure messages. */
  log(): string;
}

export interface RedisCluster {
  /** `127.0.0.1:<port>` of each master. */
  readonly seeds: string[];
  /** `redis://127.0.0.1:<port>` of each master. */
  readonly urls: string[];
  /** The seed URLs comma-separated, as in REDIS_URL. */
  readonly url: string;
  readonly nodes: RedisProcess[];
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
const execFileAsync = promisify(execFile);

/** Everything this process started, so a crash or an exit without hooks cannot leak servers. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
});

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisProcess> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'as-redis-')));
  // Another process can grab a port between our probe and redis-server binding it; retry then.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(options.cluster === true);
    const server = new RedisServer(port, dir, ownDir, options);
    try {
      await server.start();
      return server;
    } catch (error) {
      await server.kill('SIGKILL').catch(() => {});
      if (attempt >= 5 || !/Address already in use|bind/i.test(server.log())) {
        if (ownDir) await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
}

/** Three masters, no replicas, every slot assigned and `cluster_state:ok` on each node. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startRedis({ cluster: true }));
    const seeds = nodes.map((node) => `${HOST}:${node.port}`);
    await execFileAsync('redis-cli', ['--cluster', 'create', ...seeds, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    await waitFor('cluster_state:ok on every node', async () => {
      const infos = await Promise.all(nodes.map((node) => redisCommand(node.port, ['CLUSTER', 'INFO'])));
      return infos.every((info) => /cluster_state:ok/.test(String(info)) && /cluster_known_nodes:3\b/.test(String(info)));
    });
    const urls = seeds.map((seed) => `redis://${seed}`);
    return { seeds, urls, url: urls.join(','), nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A port that is free now (and, for Cluster nodes, whose bus port + 10000 is free too). */
export async function freePort(withBusPort = false): Promise<number> {
  for (;;) {
    const port = await bindAndRelease(0);
    if (!withBusPort) return port;
    if (port + 10_000 > 65_535) continue;
    if (await bindAndRelease(port + 10_000).then(() => true, () => false)) return port;
  }
}

function bindAndRelease(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, HOST, () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `check` until it returns true (errors count as false) or the timeout passes. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = READY_TIMEOUT_MS, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

class RedisServer implements RedisProcess {
  readonly url: string;
  private child: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private lines: string[] = [];

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly ownDir: boolean,
    private readonly options: StartRedisOptions,
  ) {
    this.url = `redis://${HOST}:${port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  log(): string {
    return this.lines.join('\n');
  }

  async start(): Promise<void> {
    const args = [
      '--port', String(this.port),
      '--bind', HOST,
      '--save', '',
      '--appendonly', this.options.appendonly ? 'yes' : 'no',
      '--appendfsync', this.options.appendfsync ?? 'always',
      '--dir', this.dir,
      '--protected-mode', 'no',
      '--loglevel', 'warning',
      ...(this.options.cluster
        ? ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${this.port}.conf`, '--cluster-node-timeout', '5000']
        : []),
      ...(this.options.args ?? []),
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    const collect = (chunk: Buffer) => {
      this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (this.lines.length > 50) this.lines.splice(0, this.lines.length - 50);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let running = true;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        running = false;
        live.delete(child);
        this.stopWatchdog();
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    child.once('error', (error) => collect(Buffer.from(String(error))));
    this.startWatchdog(child);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!running) throw new Error(`redis-server on port ${this.port} exited while starting:\n${this.log()}`);
      const pong = await redisCommand(this.port, ['PING'], { timeoutMs: 500 }).catch(() => undefined);
      if (pong === 'PONG') break;
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer PING:\n${this.log()}`);
      await delay(25);
    }
    if (!running) throw new Error(`redis-server exited:\n${this.log()}`);
    if (this.options.appendonly) {
      // The server answers PING while it is still loading the AOF; wait until it has finished.
      await waitFor('AOF load', async () => (await redisInfo(this.port, 'persistence')).get('loading') === '0');
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid !== undefined) {
      // A stopped process only acts on SIGTERM once it is continued.
      this.signal('SIGCONT');
      this.signal('SIGTERM');
      const gone = await Promise.race([this.exited.then(() => true), delay(3000).then(() => false)]);
      if (!gone) {
        this.signal('SIGKILL');
        await this.exited;
      }
    }
    if (this.ownDir) await rm(this.dir, { recursive: true, force: true });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child) return;
    this.signal(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') await this.exited;
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  async restart(): Promise<void> {
    if (this.child) {
      this.signal('SIGCONT');
      this.signal('SIGTERM');
      await this.exited;
    }
    // The port can stay briefly unavailable after a kill; redis-server sets SO_REUSEADDR, but
    // a test on a busy machine gets a few tries.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.start();
        return;
      } catch (error) {
        await this.kill('SIGKILL').catch(() => {});
        if (attempt >= 5) throw error;
        await delay(200);
      }
    }
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, signal);
    } catch {
      // Already exited.
    }
  }

  /**
   * If this worker dies without running hooks or its exit handler (e.g. it is SIGKILLed), a
   * detached shell kills the server it was watching. It leaves as soon as the server is gone.
   */
  private startWatchdog(child: ChildProcess): void {
    if (child.pid === undefined) return;
    const script =
      'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done; kill -9 "$2" 2>/dev/null';
    const watchdog = spawn('sh', ['-c', script, 'redis-watchdog', String(process.pid), String(child.pid)], {
      stdio: 'ignore',
      detached: true,
    });
    watchdog.unref();
    this.watchdog = watchdog;
    live.add(watchdog);
    watchdog.once('exit', () => live.delete(watchdog));
  }

  private stopWatchdog(): void {
    const pid = this.watchdog?.pid;
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already exited.
      }
    }
    this.watchdog = undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
