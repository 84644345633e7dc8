// The activation's vocabulary: its statuses, the moves between them, and the view of one activation
// that the status endpoint, the status cache and the worker share. Everything else derives from here.

/** Every status a transaction row can hold; CREDIT and REFUND rows are written SUCCESS at once. */
export const ACTIVATION_STATUSES = ['PENDING', 'PROCESSING', 'SUCCESS', 'FAILED'] as const;
export type ActivationStatus = (typeof ACTIVATION_STATUSES)[number];

/**
 * The allowed moves. PROCESSING → PROCESSING is a retry: the activation is handed back with a later
 * next_run_at and claimed again. Every move is a compare-and-set on `status` in queries.ts.
 */
export const TRANSITIONS: { readonly [S in ActivationStatus]: readonly ActivationStatus[] } = {
  PENDING: ['PROCESSING'],
  PROCESSING: ['PROCESSING', 'SUCCESS', 'FAILED'],
  SUCCESS: [],
  FAILED: [],
};

/** Statuses an activation never leaves. */
export const FINAL_STATUSES: ReadonlySet<ActivationStatus> = new Set(
  ACTIVATION_STATUSES.filter((status) => TRANSITIONS[status].length === 0),
);

export const isFinal = (view: { status: ActivationStatus }) => FINAL_STATUSES.has(view.status);

/**
 * Whether an activation waits for a person's decision: one the partner may have acted on, which the
 * worker keeps asking about until the deadline, or one refunded at the deadline and flagged for it.
 */
export const awaitsDecision = (a: { status: ActivationStatus; maybe_delivered: boolean; needs_review: boolean }) =>
  (a.status === 'PROCESSING' && a.maybe_delivered) || (a.status === 'FAILED' && a.needs_review);

/** An admin's answer for an activation that awaits a decision, having asked the partner. */
export type Resolution = { outcome: 'SUCCESS'; reference: string } | { outcome: 'FAILED'; reason: string };

/** One activation as the status endpoint and the status cache know it. Dates are ISO strings. */
export interface ActivationView {
  transaction_id: string;
  user_id: number;
  status: ActivationStatus;
  offer_id: number | null;
  amount: string;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  reference: string | null;
  error_code: string | null;
  error_message: string | null;
}

/** How a failed activation is explained to its buyer and to admins. */
export type FailureCode = 'partner_rejected' | 'partner_unavailable';
