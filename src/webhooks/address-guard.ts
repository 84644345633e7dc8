// Which addresses a webhook may be sent to. Only public unicast addresses pass: loopback, private,
// link-local (and with it the cloud metadata address 169.254.169.254), carrier-grade NAT,
// unique-local, unspecified, multicast, reserved and the IPv6 tunnelling/translation ranges that
// can lead back into them are refused. The check runs when an endpoint is saved and again on every
// connection, on the address actually dialled, so a name that later resolves elsewhere (DNS
// rebinding) is still refused.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { invalid } from '../domain/errors.js';

/** Why an address is refused, or undefined when it is a public unicast address. */
export function forbiddenRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  // process() turns an IPv4-mapped IPv6 address (::ffff:127.0.0.1) into the IPv4 address it carries.
  const range = ipaddr.process(address).range();
  return range === 'unicast' ? undefined : range;
}

export class ForbiddenAddressError extends Error {
  override name = 'ForbiddenAddressError';
}

function refusal(host: string, address: string, range: string): ForbiddenAddressError {
  const via = host === address ? address : `${host} (${address})`;
  return new ForbiddenAddressError(`${via} is a ${range} address; webhooks only go to public addresses (WEBHOOK_ALLOW_PRIVATE=true allows it)`);
}

/** Refuses a literal address in a URL; names are checked when they are resolved. */
export function checkLiteral(host: string, allowPrivate: boolean): void {
  const bare = host.replace(/^\[|\]$/g, '');
  if (allowPrivate || isIP(bare) === 0) return;
  const range = forbiddenRange(bare);
  if (range !== undefined) throw refusal(bare, bare, range);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request: resolves as Node would, then refuses the connection when any of the
 * name's addresses is forbidden (a name with one public and one private address is refused too,
 * rather than leaving the choice to the connection attempt).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!allowPrivate) {
        for (const { address } of addresses) {
          const range = forbiddenRange(address);
          if (range !== undefined) return callback(refusal(hostname, address, range) as NodeJS.ErrnoException, []);
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      return callback(null, first.address, first.family);
    });
  };
}

/** The check when an endpoint is saved: the URL's form, its scheme, and where its name points now. */
export async function checkEndpointUrl(raw: string, allowPrivate: boolean): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('validation_error', 'url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowPrivate)) {
    throw invalid('webhook_url_forbidden', allowPrivate ? 'url must start with https:// or http://' : 'url must start with https://');
  }
  if (url.username !== '' || url.password !== '') throw invalid('validation_error', 'url must not carry credentials');
  if (url.hash !== '') throw invalid('validation_error', 'url must not have a #fragment');
  if (allowPrivate) return url.toString();
  const host = url.hostname.replace(/^\[|\]$/g, '');
  try {
    checkLiteral(host, false);
    if (isIP(host) === 0) {
      await new Promise<void>((resolve, reject) => {
        guardedLookup(false)(host, { all: true }, (err) => (err ? reject(err) : resolve()));
      });
    }
  } catch (err) {
    if (err instanceof ForbiddenAddressError) throw invalid('webhook_url_forbidden', err.message);
    throw invalid('webhook_url_forbidden', `${host} could not be resolved`);
  }
  return url.toString();
}
