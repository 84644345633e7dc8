// A TCP proxy the test controls, put between the service and PostgreSQL or Redis to cut the network
// and restore it while the service runs.
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly #server: Server;
  readonly #open = new Set<Socket>();
  readonly #held = new Set<Socket>();
  #cut = false;

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
    return this.#open.size / 2;
  }

  /**
   * Cuts the network: every open connection is reset, and new ones are accepted but get no answer
   * (like packets dropped on the way) until restore().
   */
  cut(): void {
    this.#cut = true;
    for (const socket of this.#open) socket.resetAndDestroy();
    this.#open.clear();
  }

  /** Forwards again: connections held during the cut are forwarded now, if their client still waits. */
  restore(): void {
    this.#cut = false;
    const held = [...this.#held];
    this.#held.clear();
    for (const client of held) if (!client.destroyed) this.#forward(client);
  }

  async close(): Promise<void> {
    for (const socket of [...this.#open, ...this.#held]) socket.destroy();
    this.#open.clear();
    this.#held.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    client.on('error', () => client.destroy());
    if (this.#cut) {
      client.pause();
      this.#held.add(client);
      client.once('close', () => this.#held.delete(client));
      return;
    }
    this.#forward(client);
  }

  #forward(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    const pair = [client, upstream];
    for (const socket of pair) {
      this.#open.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        this.#open.delete(socket);
        for (const other of pair) if (other !== socket) other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}
