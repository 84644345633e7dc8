// Endpoint secrets and the Offers-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
// "<t>.<body>")>, with one v1= per secret that is valid at the time (two during a rotation).
import { createHmac, randomBytes } from 'node:crypto';

export const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

export function signatureHeader(secrets: string[], at: Date, body: string): string {
  const t = Math.floor(at.getTime() / 1000);
  const signatures = secrets.map((secret) => `v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`);
  return [`t=${t}`, ...signatures].join(',');
}
