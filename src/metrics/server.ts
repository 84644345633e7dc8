// The metrics on their own port (METRICS_PORT), without a token: for a network only the scraper
// reaches, and the only way a ROLE=worker process, which serves no API, shows its metrics.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRICS_PATH } from './http.js';
import type { MetricsRegistry } from './registry.js';

export interface MetricsServer {
  /** Where it listens, e.g. http://127.0.0.1:9464 (the real port when METRICS_PORT=0). */
  url: string;
  close(): Promise<void>;
}

const send = (res: ServerResponse, status: number, type: string, body: string) => {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
};

export async function startMetricsServer(metrics: MetricsRegistry, port: number, host: string, onError: (err: unknown) => void): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || (path !== METRICS_PATH && path !== `${METRICS_PATH}/`)) {
      send(res, 404, 'application/json', JSON.stringify({ error: 'Only GET /metrics is served here', code: 'not_found' }));
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => send(res, 200, contentType, body),
      (err: unknown) => {
        onError(err);
        send(res, 500, 'application/json', JSON.stringify({ error: 'Internal server error', code: 'internal_error' }));
      },
    );
  });
  // A scraper connects every few seconds; idle sockets must not hold the shutdown, nor slow ones the port.
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
