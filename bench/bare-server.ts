// The HTTP baseline: a bare Fastify server on the same Node that answers the offer list the
// service returned, from memory, with no auth, plugins, schema or database.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const body: unknown = JSON.parse(readFileSync(process.env.BENCH_BODY_FILE!, 'utf8'));
const app = Fastify({ logger: false });
app.get('/api/v1/offers/', async () => body);
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
