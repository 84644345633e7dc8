// Money stays a decimal string end to end (as on the wire); sums are done in hundredths with BigInt.

const toCents = (amount: string): bigint => {
  const negative = amount.startsWith('-');
  const [whole = '0', fraction = ''] = amount.replace(/^[-+]/, '').split('.');
  const cents = BigInt(whole) * 100n + BigInt((fraction + '00').slice(0, 2));
  return negative ? -cents : cents;
};

const fromCents = (cents: bigint): string => {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
};

/** a − b, as a decimal string with two places. */
export const subtract = (a: string, b: string) => fromCents(toCents(a) - toCents(b));
export const isLess = (a: string, b: string) => toCents(a) < toCents(b);

export const money = (amount: string, currency = 'EUR') => `${amount} ${currency}`;

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
export const formatDate = (iso: string) => dateTime.format(new Date(iso));

/** "2 days 4 hours", "35 minutes", "expired". */
export function timeLeft(iso: string, now = Date.now()): string {
  const ms = new Date(iso).getTime() - now;
  if (ms <= 0) return 'expired';
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (days > 0) return hours > 0 ? `${plural(days, 'day')} ${plural(hours, 'hour')}` : plural(days, 'day');
  if (hours > 0) return plural(hours, 'hour');
  return plural(Math.max(minutes, 1), 'minute');
}

export const isExpiringSoon = (iso: string, now = Date.now()) => new Date(iso).getTime() - now < 3 * 86_400_000;
