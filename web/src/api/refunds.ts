// A refund names its activation (related_transaction_id); the way back, from a failed activation to
// its refund, is in the activation.failed event (data.refund_transaction_id).
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from './client';

const MAX_PAGES = 5;

async function refundOf(activationId: string): Promise<string | null> {
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const events = await unwrap(
      api.GET('/api/v1/account/events/', { params: { query: { type: 'activation.failed', limit: 200, ...(cursor ? { cursor } : {}) } } }),
    );
    const failed = events.results.find((event) => event.subject === activationId || event.data.transaction_id === activationId);
    if (failed) return typeof failed.data.refund_transaction_id === 'string' ? failed.data.refund_transaction_id : null;
    if (!events.next) return null;
    cursor = events.next;
  }
  return null;
}

/** The refund transaction of a failed activation (null while unknown). */
export function useRefundOf(activationId: string, failed: boolean) {
  return useQuery({ queryKey: ['transactions', 'refund-of', activationId], queryFn: () => refundOf(activationId), enabled: failed });
}
