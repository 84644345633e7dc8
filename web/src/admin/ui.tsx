// Small pieces the admin pages share: a query's three states, a cursor pager, a status pill.
import type { UseQueryResult } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { messageOf } from '../api/errors';
import { Alert, Loading } from '../components/Alert';
import { Button } from '../components/Button';

/** Loading, the API's error in words, or the content. */
export function QueryState<T>({ query, children }: { query: UseQueryResult<T>; children: (data: T) => ReactNode }) {
  if (query.isPending) return <Loading />;
  if (query.error) return <Alert>{messageOf(query.error)}</Alert>;
  return <>{children(query.data as T)}</>;
}

/** Where a paged list is: the cursor of the page shown (undefined: the first). */
export function useCursor() {
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  return { cursor, setCursor, reset: () => setCursor(undefined) };
}

export function Pager({ page, onCursor, label }: { page: { next: string | null; previous: string | null }; onCursor: (cursor: string) => void; label: string }) {
  if (!page.next && !page.previous) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <Button variant="secondary" disabled={!page.previous} onClick={() => page.previous && onCursor(page.previous)}>
        Previous page
      </Button>
      <Button variant="secondary" disabled={!page.next} onClick={() => page.next && onCursor(page.next)}>
        Next page
      </Button>
    </nav>
  );
}

export function StatusPill({ status }: { status: string }) {
  return <span className={`status status-${status}`}>{status}</span>;
}

/** A read-only fact list: term and value pairs. */
export function Facts({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A fresh Idempotency-Key: one per intended action, so a repeated click or retry acts once. */
export const newKey = () => crypto.randomUUID();

/**
 * When `open` flips (a form replaces its button, or back), moves the keyboard focus into the
 * container: to the first field on opening, to the first button on closing. Not on first render.
 */
export function useFocusOnToggle<T extends HTMLElement>(open: boolean) {
  const container = useRef<T>(null);
  const previous = useRef(open);
  useEffect(() => {
    if (previous.current === open) return;
    previous.current = open;
    const target = open ? container.current?.querySelector<HTMLElement>('input, select, textarea') : container.current?.querySelector<HTMLElement>('button');
    target?.focus();
  }, [open]);
  return container;
}
