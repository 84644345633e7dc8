// Offers: the whole catalogue (hidden ones too), a create form, editing in place and hide/show.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { api, unwrap } from '../api/client';
import { ApiError, messageOf } from '../api/errors';
import type { Offer } from '../api/types';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { Switch } from '../components/Switch';
import { useToast } from '../components/Toasts';
import { money } from '../format';
import { AdminPage } from './AdminPage';
import { Facts, Pager, QueryState, useCursor, useFocusOnToggle } from './ui';

interface Draft {
  name: string;
  description: string;
  price: string;
  duration_days: string;
}

const draftOf = (offer?: Offer): Draft => ({
  name: offer?.name ?? '',
  description: offer?.description ?? '',
  price: offer?.price ?? '',
  duration_days: offer ? String(offer.duration_days) : '30',
});

const bodyOf = (draft: Draft) => ({
  name: draft.name.trim(),
  description: draft.description,
  price: draft.price.trim(),
  duration_days: Number(draft.duration_days),
});

/** The same decimal? "20" and "20.00" are one price. */
const samePrice = (a: string, b: string) => Number.isFinite(Number(a)) && Number(a) === Number(b);

function Description({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const id = useId();
  return (
    <div className="field wide">
      <label htmlFor={id}>Description</label>
      <textarea id={id} value={value} maxLength={5000} onChange={(event) => onChange(event.target.value)} />
    </div>
  );
}

function OfferFields({ draft, setDraft, error }: { draft: Draft; setDraft: (draft: Draft) => void; error: ApiError | null }) {
  const set = (field: keyof Draft) => (value: string) => setDraft({ ...draft, [field]: value });
  return (
    <div className="form-grid">
      <Field label="Name" value={draft.name} required maxLength={200} onChange={(e) => set('name')(e.target.value)} error={error?.fieldMessage('name')} />
      <Field
        label="Price (EUR)"
        inputMode="decimal"
        value={draft.price}
        required
        onChange={(e) => set('price')(e.target.value)}
        error={error?.fieldMessage('price')}
      />
      <Field
        label="Duration (days)"
        type="number"
        min={1}
        max={3650}
        value={draft.duration_days}
        required
        onChange={(e) => set('duration_days')(e.target.value)}
        error={error?.fieldMessage('duration_days')}
      />
      <Description value={draft.description} onChange={set('description')} />
    </div>
  );
}

function NewOffer() {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [draft, setDraft] = useState(draftOf());
  const create = useMutation({
    mutationFn: (body: ReturnType<typeof bodyOf>) => unwrap(api.POST('/api/v1/admin/offers/', { body })),
    onSuccess: (offer) => {
      toast(`${offer.name} is in the catalogue.`);
      setDraft(draftOf());
      return queryClient.invalidateQueries({ queryKey: ['admin', 'offers'] });
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(bodyOf(draft));
  };
  return (
    <form className="card form-wide" onSubmit={onSubmit} aria-labelledby="new-offer-title" noValidate>
      <h2 id="new-offer-title">New offer</h2>
      {create.error && <Alert>{messageOf(create.error)}</Alert>}
      <OfferFields draft={draft} setDraft={setDraft} error={create.error instanceof ApiError ? create.error : null} />
      <div className="actions">
        <Button type="submit" busy={create.isPending}>
          Create offer
        </Button>
      </div>
    </form>
  );
}

function EditOffer({ offer, onDone }: { offer: Offer; onDone: () => void }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [draft, setDraft] = useState(draftOf(offer));
  const save = useMutation({
    mutationFn: (body: Partial<ReturnType<typeof bodyOf>>) =>
      unwrap(api.PATCH('/api/v1/admin/offers/{id}/', { params: { path: { id: offer.id } }, body })),
    onSuccess: async (updated) => {
      toast(`${updated.name} is saved.`);
      await queryClient.invalidateQueries({ queryKey: ['admin', 'offers'] });
      onDone();
    },
  });
  const priceChanges = draft.price.trim() !== '' && !samePrice(draft.price.trim(), offer.price);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const body = bodyOf(draft);
    // Only what changed: the API keeps the rest, and the audit trail shows the real change.
    const changed = Object.fromEntries(
      Object.entries(body).filter(([field, value]) => (field === 'price' ? !samePrice(String(value), offer.price) : value !== offer[field as keyof Offer])),
    );
    if (Object.keys(changed).length === 0) return onDone();
    save.mutate(changed);
  };
  return (
    <form onSubmit={onSubmit} aria-label={`Edit ${offer.name}`} noValidate>
      {save.error && <Alert>{messageOf(save.error)}</Alert>}
      <OfferFields draft={draft} setDraft={setDraft} error={save.error instanceof ApiError ? save.error : null} />
      {priceChanges && (
        <Alert kind="warning">
          <strong>Price change:</strong> from {money(offer.price)} to {money(draft.price.trim())}. It applies to new purchases and to every
          auto-renewal of {offer.name} from now on (renewals pay the current price, and renewal reminders will show the change). Periods
          already paid keep the price they were bought at; nobody is charged or refunded now.
        </Alert>
      )}
      <div className="actions">
        <Button type="submit" busy={save.isPending}>
          Save {offer.name}
        </Button>
        <Button variant="secondary" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function OfferRow({ offer }: { offer: Offer }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const item = useFocusOnToggle<HTMLLIElement>(editing);
  const visibility = useMutation({
    mutationFn: (isActive: boolean) => unwrap(api.PATCH('/api/v1/admin/offers/{id}/', { params: { path: { id: offer.id } }, body: { is_active: isActive } })),
    onSuccess: (updated) => {
      toast(updated.is_active ? `${updated.name} is shown in the catalogue.` : `${updated.name} is hidden from the catalogue.`);
      return queryClient.invalidateQueries({ queryKey: ['admin', 'offers'] });
    },
    onError: (err) => toast(messageOf(err), 'error'),
  });
  return (
    <li ref={item} className="card offer-row" aria-labelledby={`offer-${offer.id}`}>
      <h3 id={`offer-${offer.id}`}>
        {offer.name} {!offer.is_active && <span className="status status-HIDDEN">Hidden</span>}
      </h3>
      {editing ? (
        <EditOffer offer={offer} onDone={() => setEditing(false)} />
      ) : (
        <>
          <p className="muted">{offer.description || 'No description.'}</p>
          <Facts
            items={[
              ['Price', money(offer.price)],
              ['Duration', `${offer.duration_days} days`],
              ['Id', String(offer.id)],
            ]}
          />
          <div className="actions">
            <Button variant="secondary" onClick={() => setEditing(true)}>
              Edit {offer.name}
            </Button>
            <Switch
              label={`Show ${offer.name} in the catalogue`}
              checked={offer.is_active}
              busy={visibility.isPending}
              onChange={(next) => visibility.mutate(next)}
            />
          </div>
        </>
      )}
    </li>
  );
}

export function Offers() {
  const { cursor, setCursor } = useCursor();
  const offers = useQuery({
    queryKey: ['admin', 'offers', cursor],
    queryFn: () => unwrap(api.GET('/api/v1/admin/offers/', { params: { query: { limit: 50, cursor } } })),
  });
  return (
    <AdminPage title="Offers">
      <NewOffer />
      <h2>Catalogue</h2>
      <QueryState query={offers}>
        {(page) =>
          page.results.length === 0 ? (
            <p className="empty">No offers yet.</p>
          ) : (
            <>
              <ul className="list">
                {page.results.map((offer) => (
                  <OfferRow key={offer.id} offer={offer} />
                ))}
              </ul>
              <Pager page={page} onCursor={setCursor} label="Offers" />
            </>
          )
        }
      </QueryState>
    </AdminPage>
  );
}
