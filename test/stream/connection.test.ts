// A stream whose client stops reading: what the server holds for it stays bounded.
import { describe, expect, it } from 'vitest';
import { StreamConnection } from '../../src/stream/connection.js';

const event = (seq: number) => ({ position: { xid: '100', seq }, userId: 1, frame: `id: ${seq}\ndata: ${'x'.repeat(200)}\n\n` });

describe('stream connection', () => {
  it('drops a client that does not read once more than the buffer limit waits for it', async () => {
    const stream = new StreamConnection(1, { heartbeatMs: 60_000, bufferBytes: 2048 });
    await stream.replay(undefined, async () => [], 500);
    for (let seq = 1; seq <= 9; seq++) stream.deliver(event(seq));
    expect(stream.open).toBe(true);
    for (let seq = 10; seq <= 20; seq++) stream.deliver(event(seq));
    expect(stream.dropped).toBe(true);
    expect(stream.open).toBe(false);
  });

  it('sends live events held during the replay after it, without those the replay already sent', async () => {
    const stream = new StreamConnection(1, { heartbeatMs: 60_000, bufferBytes: 1 << 20 });
    const chunks: string[] = [];
    stream.body.on('data', (c: Buffer) => chunks.push(c.toString()));
    const replayed = stream.replay({ xid: '100', seq: 0 }, async () => {
      // The fan-out delivers 2 (also in the replay) and 3 (committed after the replay read) meanwhile.
      stream.deliver(event(2));
      stream.deliver(event(3));
      return [event(1), event(2)];
    }, 500);
    await replayed;
    stream.end();
    await new Promise((r) => stream.body.once('end', r));
    const ids = chunks.join('').match(/^id: \d+$/gm);
    expect(ids).toEqual(['id: 1', 'id: 2', 'id: 3']);
  });
});
