import { createServer, type Socket, connect } from 'node:net';

/**
 * Counts network round trips between a client and one or more Redis servers, whatever the
 * client does internally (pipelines, concurrent commands, scripts).
 *
 * A "flight" is a burst of client→server traffic not interrupted by any server→client traffic
 * on any of the proxied connections. A client that sends everything before awaiting a reply
 * makes one flight however many commands, connections or Cluster nodes are involved; a client
 * that awaits a reply before sending the next command makes one flight per reply it waited for.
 * Delaying client→server forwarding keeps replies from arriving between writes the client made
 * in the same tick, which would otherwise split one flight into two.
 */
export class FlightCounter {
  flights = 0;
  /** Client→server chunks per proxy name, to see which servers a call reached. */
  readonly chunksByProxy = new Map<string, number>();
  private sending = false;

  reset(): void {
    this.flights = 0;
    this.sending = false;
    this.chunksByProxy.clear();
  }

  clientSent(proxy: string): void {
    if (!this.sending) {
      this.flights++;
      this.sending = true;
    }
    this.chunksByProxy.set(proxy, (this.chunksByProxy.get(proxy) ?? 0) + 1);
  }

  serverReplied(): void {
    this.sending = false;
  }
}

export interface TcpProxy {
  readonly port: number;
  close(): Promise<void>;
}

export function startTcpProxy(
  targetPort: number,
  counter: FlightCounter,
  options: { name?: string; delayMs?: number; host?: string } = {},
): Promise<TcpProxy> {
  const { name = String(targetPort), delayMs = 10, host = '127.0.0.1' } = options;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host, port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk) => {
      counter.clientSent(name);
      // Same delay for every chunk, and Node runs equal timers in order, so order is kept.
      setTimeout(() => upstream.write(chunk), delayMs);
    });
    upstream.on('data', (chunk) => {
      counter.serverReplied();
      client.write(chunk);
    });
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (!address || typeof address !== 'object') {
        reject(new Error('proxy has no address'));
        return;
      }
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
