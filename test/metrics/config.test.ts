// The metrics settings: off unless asked for, and a token or port that cannot work stops the start.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = () => ({ JWT_SECRET: 'a-test-secret-that-is-at-least-32-chars', DATA_DIR: mkdtempSync(join(tmpdir(), 'offers-metrics-config-')) });

describe('metrics settings', () => {
  it('serve nothing by default', () => {
    expect(loadConfig(base()).metrics).toEqual({ token: undefined, port: undefined, host: '0.0.0.0' });
  });

  it('take the token, the port and a host that defaults to HOST', () => {
    expect(loadConfig({ ...base(), HOST: '10.1.2.3', METRICS_TOKEN: 'a-long-enough-token', METRICS_PORT: '9464' }).metrics).toEqual({
      token: 'a-long-enough-token',
      port: 9464,
      host: '10.1.2.3',
    });
    expect(loadConfig({ ...base(), METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' }).metrics).toMatchObject({ port: 0, host: '127.0.0.1' });
  });

  it.each([
    [{ METRICS_TOKEN: 'short' }, /METRICS_TOKEN must be at least 16 characters/],
    [{ METRICS_TOKEN: 'has a space in the middle' }, /METRICS_TOKEN must be at least 16 characters without spaces/],
    [{ METRICS_PORT: '70000' }, /METRICS_PORT must be between 0 and 65535/],
    [{ METRICS_PORT: 'nine' }, /METRICS_PORT must be a whole number/],
    [{ PORT: '8080', METRICS_PORT: '8080' }, /METRICS_PORT must differ from PORT \(8080\)/],
  ])('refuse %j', (env, message) => {
    expect(() => loadConfig({ ...base(), ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base(), ...env })).toThrow(message);
  });
});
