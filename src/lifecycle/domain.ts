// The subscription lifecycle's vocabulary: what the scheduler needs to know, and why a renewal fails.
import type { FailureCode } from '../activation/domain.js';

export interface LifecycleSettings {
  /** Days before a period's end at which `subscription.expiring` is sent. */
  reminderDaysBefore: number[];
  autoRenewLeadMinutes: number;
  eventRetentionDays: number;
  /** LOW_BALANCE_THRESHOLD, for the balance.low check of a renewal's charge. */
  lowBalanceThreshold: string;
}

/** Why a renewal did not happen: refused before the charge, or the partner's failure after it (refunded). */
export type RenewalFailure = 'insufficient_balance' | 'offer_inactive' | FailureCode;

/** What one pass of the scheduler did. */
export interface PassSummary {
  renewed: number;
  renewalsFailed: number;
  expired: number;
  reminded: number;
  pruned: number;
  /** Finished webhook deliveries deleted with the events. */
  prunedDeliveries: number;
}
