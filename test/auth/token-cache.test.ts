import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AccessTokens } from '../../src/auth/tokens.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

describe('verified access tokens', () => {
  it('stops accepting a token at its exp even after it was verified and remembered', async () => {
    const tokens = new AccessTokens(SECRET, 1);
    const token = await tokens.sign({ userId: 7, isAdmin: false, sessionId: 's1' });
    expect(await tokens.verify(token)).toEqual({ userId: 7, isAdmin: false, sessionId: 's1' });
    expect(await tokens.verify(token)).toEqual({ userId: 7, isAdmin: false, sessionId: 's1' });
    await sleep(2100);
    expect(await tokens.verify(token)).toBeUndefined();
  });

  it('does not accept a token signed with another secret after a valid one was remembered', async () => {
    const tokens = new AccessTokens(SECRET, 60);
    const other = new AccessTokens(`${SECRET}-other`, 60);
    expect(await tokens.verify(await tokens.sign({ userId: 1, isAdmin: true, sessionId: 's1' }))).toEqual({ userId: 1, isAdmin: true, sessionId: 's1' });
    expect(await tokens.verify(await other.sign({ userId: 1, isAdmin: true, sessionId: 's1' }))).toBeUndefined();
  });
});
