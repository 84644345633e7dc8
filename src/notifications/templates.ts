// One template per kind, written once as a title and paragraphs and rendered as plain text and as
// HTML (every value escaped). Event payloads are read defensively: a missing or oddly named field
// makes a sentence shorter, never a failure, because other code writes the events.
import type { NotificationKind } from './domain.js';

export interface Rendered {
  title: string;
  text: string;
  html: string;
}

export interface TemplateContext {
  currency: string;
}

type Data = Record<string, unknown>;

interface Draft {
  title: string;
  paragraphs: string[];
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

function field(data: Data, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = data[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  }
  return undefined;
}

function money(value: string | undefined, ctx: TemplateContext): string | undefined {
  return value !== undefined && DECIMAL.test(value) ? `${value} ${ctx.currency}` : undefined;
}

/** A date as people read it, in UTC (the API's times are UTC too). */
function date(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) return undefined;
  return `${parsed.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function offer(data: Data): string {
  const name = field(data, 'offer_name', 'offer');
  if (name !== undefined) return `"${name}"`;
  const id = field(data, 'offer_id');
  return id !== undefined ? `offer #${id}` : 'your offer';
}

const REASONS: Record<string, string> = {
  insufficient_balance: 'your balance was too low',
  offer_inactive: 'the offer is no longer sold',
  partner_error: 'the provider could not deliver it',
  partner_rejected: 'the provider refused it',
  partner_unavailable: 'the provider could not be reached',
};

function reason(data: Data): string | undefined {
  const raw = data.reason ?? data.error;
  const text =
    typeof raw === 'object' && raw !== null ? field(raw as Data, 'message', 'code') : field({ raw }, 'raw');
  if (text === undefined) return undefined;
  return REASONS[text] ?? text;
}

const templates: Record<NotificationKind, (data: Data, ctx: TemplateContext) => Draft> = {
  activation_succeeded(data, ctx) {
    const amount = money(field(data, 'amount'), ctx);
    const until = date(field(data, 'expires_at'));
    const reference = field(data, 'reference');
    return {
      title: `${offer(data)} is active`,
      paragraphs: [
        `Your activation of ${offer(data)} succeeded${amount ? `; ${amount} was charged to your balance` : ''}.`,
        ...(until ? [`It is active until ${until}.`] : []),
        ...(reference ? [`Reference: ${reference}`] : []),
      ],
    };
  },
  activation_failed(data, ctx) {
    const why = reason(data);
    const refund = money(field(data, 'refund_amount', 'amount'), ctx);
    return {
      title: `Activation of ${offer(data)} failed`,
      paragraphs: [
        `We could not activate ${offer(data)}${why ? `: ${why}` : ''}.`,
        refund ? `${refund} was refunded to your balance.` : 'The charge was refunded to your balance.',
      ],
    };
  },
  subscription_expiring(data, ctx) {
    const ends = date(field(data, 'expires_at'));
    const days = field(data, 'days_before');
    const price = money(field(data, 'current_price'), ctx);
    const paid = money(field(data, 'price_paid'), ctx);
    const priceLine =
      price && paid && field(data, 'current_price') !== field(data, 'price_paid')
        ? [`The price has changed since you bought it: renewing now costs ${price} (you paid ${paid}).`]
        : price
          ? [`Renewing costs ${price}.`]
          : [];
    const inDays = days !== undefined ? ` (in ${days} day${days === '1' ? '' : 's'})` : '';
    return {
      title: `${offer(data)} expires ${ends ? `on ${ends}` : 'soon'}`,
      paragraphs: [`Your subscription to ${offer(data)} ends ${ends ? `on ${ends}` : 'soon'}${inDays}.`, ...priceLine],
    };
  },
  subscription_expired(data) {
    const ended = date(field(data, 'expired_at', 'expires_at'));
    return {
      title: `${offer(data)} has expired`,
      paragraphs: [`Your subscription to ${offer(data)} ended${ended ? ` on ${ended}` : ''}.`, 'You can buy it again at any time.'],
    };
  },
  renewal_failed(data, ctx) {
    const why = reason(data);
    const price = money(field(data, 'price', 'amount'), ctx);
    const ends = date(field(data, 'expires_at'));
    return {
      title: `Renewal of ${offer(data)} failed`,
      paragraphs: [
        `We could not renew ${offer(data)}${why ? `: ${why}` : ''}${price ? ` (renewal price ${price})` : ''}.`,
        `Your subscription ends ${ends ? `on ${ends}` : 'at the end of its period'} unless you renew it yourself.`,
      ],
    };
  },
  balance_low(data, ctx) {
    const balance = money(field(data, 'balance'), ctx);
    const threshold = money(field(data, 'threshold'), ctx);
    return {
      title: 'Your balance is low',
      paragraphs: [
        `Your balance is ${balance ?? 'low'}${threshold ? `, below your alert threshold of ${threshold}` : ''}.`,
        'Top up to keep your subscriptions renewing.',
      ],
    };
  },
  balance_credited(data, ctx) {
    const amount = money(field(data, 'amount'), ctx);
    const balance = money(field(data, 'balance'), ctx);
    return {
      title: amount ? `${amount} added to your balance` : 'Your balance was topped up',
      paragraphs: balance ? [`Your balance is now ${balance}.`] : [],
    };
  },
};

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

export function render(kind: NotificationKind, data: Data, ctx: TemplateContext): Rendered {
  const { title, paragraphs } = templates[kind](data, ctx);
  const html = [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    '</body></html>',
  ].join('\n');
  return { title, text: paragraphs.join('\n\n'), html };
}
