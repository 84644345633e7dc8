// The catalogue: each offer with its price; "Activate" asks for confirmation with the balance
// after it, then follows the activation live. Without enough money the card says why instead.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { messageOf } from '../api/errors';
import type { Offer } from '../api/types';
import { Alert, Loading } from '../components/Alert';
import { Button } from '../components/Button';
import { Dialog } from '../components/Dialog';
import { Page } from '../components/Page';
import { isLess, money, subtract } from '../format';
import { ActivationProgress } from './ActivationProgress';
import { accountQuery } from './Dashboard';

export const offersQuery = {
  queryKey: ['offers'],
  queryFn: () => unwrap(api.GET('/api/v1/offers/', { params: { query: { limit: 200 } } })),
};

function OfferCard({ offer, balance, currency, onActivate }: { offer: Offer; balance: string | undefined; currency: string; onActivate: () => void }) {
  const short = balance !== undefined && isLess(balance, offer.price);
  const reasonId = `offer-${offer.id}-reason`;
  return (
    <li className="card offer">
      <h2 className="offer-name">{offer.name}</h2>
      <p className="muted">{offer.description}</p>
      <p>
        <span className="price">{money(offer.price, currency)}</span> <span className="muted">for {offer.duration_days} days</span>
      </p>
      {short ? (
        <>
          <p id={reasonId} className="short">
            Not enough balance: you have {money(balance, currency)}, {money(subtract(offer.price, balance), currency)} short.
          </p>
          <Button aria-disabled="true" aria-describedby={reasonId} variant="secondary" className="button-unavailable" onClick={() => {}}>
            Activate {offer.name}
          </Button>
        </>
      ) : (
        <Button onClick={onActivate} disabled={balance === undefined}>
          Activate {offer.name}
        </Button>
      )}
    </li>
  );
}

function ActivateDialog({ offer, balance, currency, onClose }: { offer: Offer; balance: string; currency: string; onClose: () => void }) {
  const queryClient = useQueryClient();
  // One key per confirmation: a retried or doubled click is charged once.
  const idempotencyKey = useRef(crypto.randomUUID());
  const activate = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/api/v1/activation/', { body: { offer_id: offer.id }, params: { header: { 'idempotency-key': idempotencyKey.current } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['account'] }),
  });
  const after = subtract(balance, offer.price);

  return (
    <Dialog title={activate.data ? `Activating ${offer.name}` : `Activate ${offer.name}?`} open onClose={onClose}>
      {activate.data ? (
        <>
          <ActivationProgress transactionId={activate.data.transaction_id} offerName={offer.name} currency={currency} />
          <div className="actions">
            <Button onClick={onClose}>Close</Button>
            <Link to={`/history/${activate.data.transaction_id}`}>View in history</Link>
          </div>
        </>
      ) : (
        <>
          <dl className="summary">
            <dt>Price</dt>
            <dd>{money(offer.price, currency)}</dd>
            <dt>Duration</dt>
            <dd>{offer.duration_days} days</dd>
            <dt>Balance now</dt>
            <dd>{money(balance, currency)}</dd>
            <dt>Balance after</dt>
            <dd data-testid="balance-after">{money(after, currency)}</dd>
          </dl>
          {activate.error && <Alert>{messageOf(activate.error)}</Alert>}
          <div className="actions">
            <Button onClick={() => activate.mutate()} busy={activate.isPending}>
              Confirm and pay {money(offer.price, currency)}
            </Button>
            <Button variant="secondary" onClick={onClose}>
              Cancel
            </Button>
          </div>
        </>
      )}
    </Dialog>
  );
}

export function Offers() {
  const offers = useQuery(offersQuery);
  const account = useQuery(accountQuery);
  const [chosen, setChosen] = useState<Offer | null>(null);
  const currency = account.data?.currency ?? 'EUR';

  return (
    <Page title="Offers">
      {account.data && (
        <p>
          Your balance: <strong data-testid="balance">{money(account.data.balance, currency)}</strong>
        </p>
      )}
      {account.error && <Alert>{messageOf(account.error)}</Alert>}
      {offers.isPending ? (
        <Loading />
      ) : offers.error ? (
        <Alert>{messageOf(offers.error)}</Alert>
      ) : offers.data.results.length === 0 ? (
        <p className="empty">No offers are available right now.</p>
      ) : (
        <ul className="grid">
          {offers.data.results.map((offer) => (
            <OfferCard key={offer.id} offer={offer} balance={account.data?.balance} currency={currency} onActivate={() => setChosen(offer)} />
          ))}
        </ul>
      )}
      {chosen && account.data && <ActivateDialog offer={chosen} balance={account.data.balance} currency={currency} onClose={() => setChosen(null)} />}
    </Page>
  );
}
