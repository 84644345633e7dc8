// A TCP proxy the test controls, put between the service and PostgreSQL or Redis to cut the network
// and restore it while the service runs.
import { createServer, connect, type Server, type Socket } from 'node:net';

/** One forwarded connection: the service's side and the server's side. */
interface Pair {
  client: Socket;
  upstream: Socket;
  /** Open during a blackhole: nothing passes, not even a close, until restore() ends both sides. */
  silenced: boolean;
}

type Mode = 'forwarding' | 'cut' | 'blackhole';

export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  readonly #held = new Set<Socket>();
  #mode: Mode = 'forwarding';

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Listens on 127.0.0.1 on a free port and forwards every connection to host:port. */
  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', resolve);
    });
    return proxy;
  }

  /** A proxy in front of the host and port of `url`. */
  static forUrl(url: string): Promise<TcpProxy> {
    const { hostname, port } = new URL(url);
    return TcpProxy.start(hostname, Number(port));
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy is not listening');
    return address.port;
  }

  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(this.port);
    return proxied.toString();
  }

  /** Connections open through the proxy right now. */
  get connections(): number {
    return this.#pairs.size;
  }

  /**
   * Cuts the network: every open connection is reset, and new ones are accepted but get no answer
   * (like packets dropped on the way) until restore().
   */
  cut(): void {
    this.#mode = 'cut';
    for (const { client, upstream } of this.#pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.#pairs.clear();
  }

  /**
   * Drops every packet silently, as a firewall, a dead host or a partition does: open connections
   * stay open for the client but carry nothing (no data, no FIN, no RST), and new ones are accepted
   * but get no answer, until restore().
   */
  blackhole(): void {
    this.#mode = 'blackhole';
    for (const pair of this.#pairs) {
      pair.silenced = true;
      pair.client.unpipe();
      pair.client.pause();
      // The service's side, the one under test, hears nothing. PostgreSQL's side is ended at once:
      // a session left open there would keep its transaction, and with it the cluster-wide horizon
      // that outbox consumers in every other test (and database) wait behind.
      pair.upstream.unpipe();
      pair.upstream.destroy();
    }
  }

  /**
   * Forwards again. Connections that lived through a blackhole are closed, as their peers' TCP
   * timeouts would have closed them on a real network; connections held during a cut or a blackhole
   * are forwarded now, if their client still waits.
   */
  restore(): void {
    this.#mode = 'forwarding';
    for (const pair of [...this.#pairs]) {
      if (!pair.silenced) continue;
      this.#pairs.delete(pair);
      pair.client.destroy();
      pair.upstream.destroy();
    }
    const held = [...this.#held];
    this.#held.clear();
    for (const client of held) if (!client.destroyed) this.#forward(client);
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    for (const socket of this.#held) socket.destroy();
    this.#pairs.clear();
    this.#held.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    client.on('error', () => client.destroy());
    if (this.#mode !== 'forwarding') {
      client.pause();
      this.#held.add(client);
      client.once('close', () => this.#held.delete(client));
      return;
    }
    this.#forward(client);
  }

  #forward(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    const pair: Pair = { client, upstream, silenced: false };
    this.#pairs.add(pair);
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined);
      socket.once('close', () => {
        // Across a blackhole one side's close does not reach the other; restore() ends the pair.
        if (pair.silenced) return;
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}
